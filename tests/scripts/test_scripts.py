#!/usr/bin/env python3
"""Tests of the analysis scripts in scripts/: each script runs on the crafted
files of make_fixtures.py (a run folder and edge cases) and, where the peppp
executable can make one, on a real ci run; the PNGs must exist and be
non-trivial, and a file missing a variable must give one clear line naming
the file and the variable, exit 1.

Environment: PEPPP_FIXTURES (folder make_fixtures.py wrote), PEPPP_SCRIPTS_OUT
(scratch folder), optional PEPPP_EXE and PEPPP_SOURCE_DIR for the ci run.
Run one group with `-k TestFrontier`.
"""
import itertools
import os
import re
import shutil
import subprocess
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("PEPPP_SOURCE_DIR", os.path.normpath(os.path.join(HERE, "..", "..")))
SCRIPTS = os.path.join(SOURCE, "scripts")
sys.path.insert(0, SCRIPTS)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot  # noqa: E402

import peppp_nc as pn  # noqa: E402

FIX = os.environ.get("PEPPP_FIXTURES", os.path.join(os.getcwd(), "script_fixtures"))
OUT = os.environ.get("PEPPP_SCRIPTS_OUT", os.path.join(os.getcwd(), "script_out"))
RUN = os.path.join(FIX, "run")
EDGE = os.path.join(FIX, "edge")


def setUpModule():
    if not os.path.isfile(os.path.join(RUN, "campaign.nc")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_fixtures.py"), FIX], check=True)


class Proc:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def script(name, *args):
    """Run scripts/<name> in this process (argv, exit status, stdout and
    stderr as from the command line; the imports are paid once)."""
    import contextlib
    import importlib
    import io
    mod = importlib.import_module(os.path.splitext(name)[0])
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = [name, *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            pn.run_main(mod.main)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = argv
        matplotlib.pyplot.close("all")
    return Proc(code, out.getvalue(), err.getvalue())


def script_process(name, *args):
    """Run scripts/<name> as its own process, exactly as a user would."""
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, name), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def scratch(test):
    d = os.path.join(OUT, test.id().split(".", 1)[-1])
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


class ImageChecks(unittest.TestCase):
    def assertImage(self, path, min_w=400, min_h=300, min_bytes=8000):
        """The PNG exists, is large enough, and has real content: several
        colours, and the non-background pixels are not a tiny speck."""
        self.assertTrue(os.path.isfile(path), f"{path} was not written")
        self.assertGreater(os.path.getsize(path), min_bytes, f"{path} is suspiciously small")
        img = mpimg.imread(path)
        h, w = img.shape[:2]
        self.assertGreaterEqual(w, min_w, f"{path}: width {w}")
        self.assertGreaterEqual(h, min_h, f"{path}: height {h}")
        self.assertLessEqual(max(w, h), 8000, f"{path}: {w}x{h} is unreadably large")
        rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
        packed = (rgb[:, 0].astype(np.uint32) << 16) | (rgb[:, 1].astype(np.uint32) << 8) | rgb[:, 2]
        colours = np.unique(packed[::7])  # a sample is plenty to tell a real figure from a flat one
        self.assertGreater(len(colours), 20, f"{path}: only {len(colours)} colours")
        ink = np.any(rgb < 240, axis=1).mean()  # share of pixels that are not white
        self.assertGreater(ink, 0.02, f"{path}: almost blank ({100 * ink:.1f} % ink)")
        # Not all grey: the Okabe-Ito colours are there.
        sat = (rgb.max(axis=1).astype(int) - rgb.min(axis=1)) > 60
        self.assertGreater(sat.mean(), 0.001, f"{path}: no coloured pixels")

    def assertClearError(self, proc, path, variable):
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, f"expected one line on stderr, got:\n{proc.stderr}")
        self.assertIn(path, lines[0])
        self.assertIn(f"'{variable}'", lines[0])
        self.assertNotIn("Traceback", proc.stderr)

    def assertOk(self, proc):
        self.assertEqual(proc.returncode, 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")


def brute_pareto(mem, err):
    """METHOD.md F8.1 literally: j is optimal unless another point is <= in
    both and differs."""
    d = len(mem)
    ok = np.isfinite(mem) & np.isfinite(err)
    out = np.zeros(d, bool)
    for j in range(d):
        if not ok[j]:
            continue
        out[j] = not any(ok[k] and mem[k] <= mem[j] and err[k] <= err[j] and
                         (mem[k] != mem[j] or err[k] != err[j]) for k in range(d))
    return out


class TestHelpers(ImageChecks):
    def test_kendall_tau_b_matches_reference(self):
        from plot_tasks import kendall_tau_b
        # scipy.stats.kendalltau documentation example (tau-b with ties): -0.47140452079103173
        t = kendall_tau_b(np.array([[12, 2, 1, 12, 2], [1, 4, 7, 1, 0]], float))
        self.assertAlmostEqual(t[0, 1], -0.47140452079103173, places=12)
        self.assertAlmostEqual(t[0, 0], 1.0)

    def test_kendall_tau_b_brute_force_with_ties_and_nan(self):
        from plot_tasks import kendall_tau_b
        rng = np.random.default_rng(3)
        x = rng.integers(0, 4, (6, 9)).astype(float)
        x[1, 2] = np.nan
        x[4, :] = 1.0  # constant row: undefined
        t = kendall_tau_b(x)
        for a, b in itertools.product(range(6), range(6)):
            cols = np.isfinite(x[a]) & np.isfinite(x[b])
            u, v = x[a, cols], x[b, cols]
            s = d = tu = tv = n0 = 0
            for i, j in itertools.combinations(range(len(u)), 2):
                n0 += 1
                p = np.sign(u[i] - u[j]) * np.sign(v[i] - v[j])
                s += p > 0
                d += p < 0
                tu += u[i] == u[j]
                tv += v[i] == v[j]
            den = np.sqrt((n0 - tu) * (n0 - tv))
            if den == 0:
                self.assertTrue(np.isnan(t[a, b]), (a, b))
            else:
                self.assertAlmostEqual(t[a, b], (s - d) / den, places=12, msg=(a, b))

    def test_pareto_mask_matches_definition_with_ties(self):
        rng = np.random.default_rng(5)
        for trial in range(40):
            mem = rng.integers(1, 5, 15).astype(float)
            err = rng.integers(0, 4, 15) / 4.0
            err[rng.random(15) < 0.1] = np.nan
            np.testing.assert_array_equal(pn.pareto_mask(mem, err), brute_pareto(mem, err), f"trial {trial}")
        # exact duplicates are all optimal
        np.testing.assert_array_equal(pn.pareto_mask([1, 1, 2], [0.5, 0.5, 0.4]), [True, True, True])
        self.assertFalse(pn.pareto_mask([np.nan, np.nan], [np.nan, np.nan]).any())

    def test_recommend_rule_and_ties(self):
        # lowest error under the budget; ties to smaller memory, then lower index
        self.assertEqual(pn.recommend([1, 2, 3, 4], [0.5, 0.3, 0.3, 0.1], 3.5), 1)
        self.assertEqual(pn.recommend([2, 2, 3], [0.3, 0.3, 0.3], 3), 0)
        self.assertIsNone(pn.recommend([5, 6], [0.1, 0.2], 4))
        self.assertIsNone(pn.recommend([1, 2], [np.nan, np.nan], 4))

    def test_config_labels_from_bit_counts(self):
        import xarray as xr
        ds = xr.Dataset({"a_exponent_bits": ("config", [4, 5]), "a_mantissa_bits": ("config", [3, 1]),
                         "b_exponent_bits": ("config", [6, 8]), "b_mantissa_bits": ("config", [7, 11])})
        self.assertEqual(pn.config_labels(ds), ["e4m3/e6m7", "e5m1/e8m11"])
        ds = pn.open_dataset(os.path.join(RUN, "campaign.nc"))
        labels = pn.config_labels(ds)
        self.assertTrue(all(re.fullmatch(r"e\d+m\d+/e\d+m\d+", l) for l in labels), labels)

    def test_help(self):
        for name in ["plot_frontier.py", "plot_tasks.py", "plot_loocv.py", "plot_memory.py", "report.py"]:
            proc = script(name, "--help")
            self.assertOk(proc)
            self.assertIn("usage:", proc.stdout)
            self.assertIn("--output", proc.stdout)

    def test_as_separate_processes(self):
        proc = script_process("plot_tasks.py", "--help")
        self.assertOk(proc)
        self.assertIn("usage: plot_tasks.py", proc.stdout)
        f = os.path.join(EDGE, "missing_regret_loocv.nc")
        self.assertClearError(script_process("plot_loocv.py", f, "-o", scratch(self)), f, "regret")
        self.assertIn("plot_loocv.py: error:", proc.stderr + script_process("plot_loocv.py", f).stderr)

    def test_unreadable_and_absent_files(self):
        out = scratch(self)
        bad = os.path.join(out, "bad.nc")
        with open(bad, "w") as f:
            f.write("not netcdf\n")
        for target in [bad, os.path.join(out, "absent.nc")]:
            proc = script("plot_frontier.py", target, "-o", out)
            self.assertEqual(proc.returncode, 1)
            self.assertIn(target, proc.stderr)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)


class TestFrontier(ImageChecks):
    def tasks(self, path):
        return pn.task_names(pn.open_dataset(path))

    def check_per_task(self, out, tasks, overview=True):
        for t in tasks:
            self.assertImage(os.path.join(out, f"frontier_{pn.safe_name(t)}.png"))
        if overview:
            self.assertImage(os.path.join(out, "frontier_overview.png"), min_w=1000)

    def test_campaign(self):
        out = scratch(self)
        f = os.path.join(RUN, "campaign.nc")
        self.assertOk(script("plot_frontier.py", f, "-o", out))
        self.check_per_task(out, self.tasks(f))

    def test_pdf(self):
        out = scratch(self)
        t = self.tasks(os.path.join(RUN, "campaign.nc"))[0]
        self.assertOk(script("plot_frontier.py", os.path.join(RUN, "campaign.nc"), "-o", out, "--pdf", "--task", t))
        pdf = os.path.join(out, f"frontier_{pn.safe_name(t)}.pdf")
        with open(pdf, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")

    def test_completed_with_campaign(self):
        out = scratch(self)
        f = os.path.join(RUN, "completed.nc")
        self.assertOk(script("plot_frontier.py", f, "--campaign", os.path.join(RUN, "campaign.nc"), "-o", out))
        self.check_per_task(out, self.tasks(f))

    def test_completed_needs_memory(self):
        f = os.path.join(RUN, "completed.nc")
        proc = script("plot_frontier.py", f, "-o", scratch(self))
        self.assertClearError(proc, f, "memory")
        self.assertIn("--campaign", proc.stderr)

    def test_selection_one_task(self):
        out = scratch(self)
        proc = script("plot_frontier.py", os.path.join(RUN, "selection.nc"), "-o", out)
        self.assertOk(proc)
        self.assertImage(os.path.join(out, "frontier_new-task.png"))
        self.assertEqual(len([p for p in os.listdir(out) if p.endswith(".png")]), 1)

    def test_task_every_configuration_diverged(self):
        out = scratch(self)
        f = os.path.join(EDGE, "diverged_campaign.nc")
        tasks = self.tasks(f)[1:3]  # task 2 diverged everywhere
        self.assertOk(script("plot_frontier.py", f, "-o", out, "--task", tasks[0], "--task", tasks[1]))
        self.check_per_task(out, tasks)

    def test_ties_and_partial_campaign(self):
        for name in ["ties_campaign.nc", "partial_campaign.nc"]:
            out = scratch(self) + "_" + name
            f = os.path.join(EDGE, name)
            tasks = self.tasks(f)[:2]  # tasks 0 and 1 are tied rows in the ties file
            self.assertOk(script("plot_frontier.py", f, "-o", out, "--budget", "5",
                                 "--task", tasks[0], "--task", tasks[1]))
            self.check_per_task(out, tasks)

    def test_task_filter(self):
        out = scratch(self)
        f = os.path.join(RUN, "campaign.nc")
        t = self.tasks(f)[1]
        self.assertOk(script("plot_frontier.py", f, "-o", out, "--task", t))
        self.assertEqual(os.listdir(out), [f"frontier_{pn.safe_name(t)}.png"])
        proc = script("plot_frontier.py", f, "-o", out, "--task", "no-such-task")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no-such-task", proc.stderr)

    def test_missing_variable(self):
        f = os.path.join(EDGE, "missing_memory_campaign.nc")
        self.assertClearError(script("plot_frontier.py", f, "-o", scratch(self)), f, "memory")


class TestTasks(ImageChecks):
    def run_on(self, f):
        out = scratch(self) + "_" + os.path.basename(f)
        self.assertOk(script("plot_tasks.py", f, "-o", out))
        self.assertImage(os.path.join(out, "tasks_kendall.png"))
        self.assertImage(os.path.join(out, "tasks_singular_values.png"), min_w=800)

    def test_campaign_completed_and_edges(self):
        for f in [os.path.join(RUN, "campaign.nc"), os.path.join(RUN, "completed.nc"),
                  os.path.join(EDGE, "diverged_campaign.nc"), os.path.join(EDGE, "ties_campaign.nc"),
                  os.path.join(EDGE, "partial_campaign.nc")]:
            with self.subTest(f=f):
                self.run_on(f)

    def test_similarity_order_groups_similar_tasks(self):
        from plot_tasks import kendall_tau_b, similarity_order
        base = np.arange(10.0)
        rows = np.array([base, base[::-1], base + 0.1, base[::-1] * 2, base ** 2])
        order = list(similarity_order(kendall_tau_b(rows)))
        pos = {t: order.index(t) for t in range(5)}
        # the two reversed rows sit next to each other, away from the increasing ones
        self.assertEqual(abs(pos[1] - pos[3]), 1)
        self.assertEqual(sorted([pos[1], pos[3]]) in ([0, 1], [3, 4]), True)

    def test_missing_variable(self):
        f = os.path.join(EDGE, "missing_error_campaign.nc")
        self.assertClearError(script("plot_tasks.py", f, "-o", scratch(self)), f, "error")


class TestLoocv(ImageChecks):
    def test_all_methods(self):
        out = scratch(self)
        self.assertOk(script("plot_loocv.py", os.path.join(RUN, "loocv.nc"), "-o", out))
        for s in ["I", "IV"]:
            self.assertImage(os.path.join(out, f"loocv_curves_{s}.png"), min_w=1000)
            self.assertImage(os.path.join(out, f"loocv_selection_{s}.png"), min_w=800)

    def test_single_method(self):
        out = scratch(self)
        self.assertOk(script("plot_loocv.py", os.path.join(EDGE, "loocv_single_method.nc"), "-o", out,
                             "--at", 4))
        self.assertImage(os.path.join(out, "loocv_curves_IV.png"))
        self.assertImage(os.path.join(out, "loocv_selection_IV.png"))
        self.assertEqual(len(os.listdir(out)), 2)

    def test_acquisition_dimension(self):
        # `acquisition`, not `method`: xarray's sel() takes `method` as a keyword.
        ds = pn.open_dataset(os.path.join(RUN, "loocv.nc"))
        self.assertEqual(pn.file_kind(ds), "loocv")
        self.assertIn("acquisition", ds.dims)
        self.assertNotIn("method", ds.dims)
        one = ds.sel(acquisition="ed-mf")
        self.assertNotIn("acquisition", one["regret"].dims)

    def test_old_method_dimension(self):
        f = os.path.join(EDGE, "loocv_method_dim.nc")
        ds = pn.open_dataset(f)
        self.assertEqual(pn.file_kind(ds), "loocv")
        self.assertIn("acquisition", pn.loocv_dataset(ds).dims)
        out = scratch(self)
        self.assertOk(script("plot_loocv.py", f, "-o", out))
        for s in ["I", "IV"]:
            self.assertImage(os.path.join(out, f"loocv_curves_{s}.png"), min_w=1000)
            self.assertImage(os.path.join(out, f"loocv_selection_{s}.png"), min_w=800)

    def test_bad_at(self):
        proc = script("plot_loocv.py", os.path.join(RUN, "loocv.nc"), "-o", scratch(self), "--at", 7)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("--at 7", proc.stderr)

    def test_missing_variable(self):
        f = os.path.join(EDGE, "missing_regret_loocv.nc")
        self.assertClearError(script("plot_loocv.py", f, "-o", scratch(self)), f, "regret")


class TestMemory(ImageChecks):
    def test_breakdown(self):
        out = scratch(self)
        f = os.path.join(RUN, "campaign.nc")
        tasks = pn.task_names(pn.open_dataset(f))
        self.assertOk(script("plot_memory.py", f, "-o", out, "--sort", "--budget", 5))
        for t in tasks:
            self.assertImage(os.path.join(out, f"memory_{pn.safe_name(t)}.png"))

    def test_missing_variable(self):
        f = os.path.join(EDGE, "missing_memory_campaign.nc")
        self.assertClearError(script("plot_memory.py", f, "-o", scratch(self)), f, "memory_activations")


class TestReport(ImageChecks):
    def check_report(self, run_dir):
        with open(os.path.join(run_dir, "report.md")) as f:
            md = f.read()
        links = re.findall(r"\]\(([^)]+)\)", md)
        self.assertGreater(len(links), 5, md)
        for link in links:
            self.assertTrue(os.path.isfile(os.path.join(run_dir, link)), f"report links a missing {link}")
            if link.endswith(".png"):
                self.assertImage(os.path.join(run_dir, link), min_w=300, min_h=200)
        return md

    def test_run_folder(self):
        run = scratch(self)
        for f in ["campaign.nc", "completed.nc", "loocv.nc", "selection.nc"]:
            shutil.copy(os.path.join(RUN, f), run)
        proc = script("report.py", run)
        self.assertOk(proc)
        md = self.check_report(run)
        for section in ["Pareto frontiers", "Tasks", "Memory breakdown", "Meta-LOOCV", "Appendix D"]:
            self.assertIn(section, md)
        self.assertIn("figures/tasks_kendall.png", md)
        self.assertIn("figures/loocv_selection_IV.png", md)
        self.assertNotIn("Not drawn", md)

    def test_pareto_counts_match_definition(self):
        import report
        f = os.path.join(RUN, "campaign.nc")
        ds = pn.open_dataset(f)
        err, mem = ds["error"].values, ds["memory"].values
        labels, true_c, est_c, n_true, _ = report.pareto_counts(ds, f)
        want = sum(brute_pareto(mem[i], err[i]).astype(int) for i in range(err.shape[0]))
        np.testing.assert_array_equal(true_c, want)
        self.assertEqual(n_true, err.shape[0])
        self.assertIsNone(est_c)
        # The completed file's own flags are used when present.
        c = pn.open_dataset(os.path.join(RUN, "completed.nc"))
        _, tc, ec, _, n_est = report.pareto_counts(ds, f, c, "completed.nc")
        np.testing.assert_array_equal(ec, (c["pareto_estimate"].values == 1).sum(axis=0))
        self.assertEqual(n_est, c.sizes["task"])

    def test_diverged_campaign_only(self):
        run = scratch(self)
        shutil.copy(os.path.join(EDGE, "diverged_campaign.nc"), os.path.join(run, "campaign.nc"))
        self.assertOk(script("report.py", run, "--top", 5, "--max-tasks", 0, "--memory-tasks", 1))
        md = self.check_report(run)
        self.assertIn("true frontiers (of 4)", md)  # the diverged task has no frontier

    def test_broken_file_still_reports(self):
        run = scratch(self)
        shutil.copy(os.path.join(RUN, "campaign.nc"), run)
        shutil.copy(os.path.join(EDGE, "missing_regret_loocv.nc"), os.path.join(run, "loocv.nc"))
        proc = script("report.py", run, "--max-tasks", 0, "--memory-tasks", 1)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("'regret'", proc.stderr)
        md = self.check_report(run)
        self.assertIn("Not drawn", md)
        self.assertIn("'regret'", md)

    def test_empty_folder(self):
        run = scratch(self)
        proc = script("report.py", run)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(run, proc.stderr)


# xarray methods that take dimension names as keyword arguments (**kwargs):
# a dimension named like one of their own parameters cannot be passed that
# way (`ds.sel(method="ed-mf")` is the sel() method= argument, not a label).
XARRAY_DIM_METHODS = ["sel", "isel", "interp", "reindex", "rename", "rename_dims", "rename_vars", "drop_sel",
                      "drop_isel", "expand_dims", "squeeze", "to_array", "stack", "pad", "shift", "roll", "thin",
                      "head", "tail", "coarsen", "rolling", "assign_coords", "chunk", "swap_dims", "set_index"]


def xarray_dim_keywords():
    """{parameter name: [methods]} of XARRAY_DIM_METHODS of Dataset and DataArray,
    from inspect.signature of the installed xarray."""
    import inspect
    import xarray as xr
    out = {}
    for cls in (xr.Dataset, xr.DataArray):
        for name in XARRAY_DIM_METHODS:
            fn = getattr(cls, name, None)
            if fn is None:
                continue
            for p in inspect.signature(fn).parameters.values():
                if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.VAR_KEYWORD):
                    out.setdefault(p.name, []).append(f"{cls.__name__}.{name}")
    return out


def bad_dimensions(path, keywords):
    import xarray as xr
    with xr.open_dataset(path) as ds:
        return {d: keywords[d] for d in ds.dims if d in keywords}


class TestSchemaDims(unittest.TestCase):
    """No dimension of the four schemas is a keyword argument of xarray's
    sel/isel/interp/... : files written by the C++ field tables
    (unit_io_schema, PEPPP_SCHEMA_TEST), checked against inspect.signature."""

    def test_keywords_include_method(self):
        kw = xarray_dim_keywords()
        for name in ["method", "tolerance", "drop", "indexers", "dim", "keep_attrs"]:
            self.assertIn(name, kw)
        self.assertIn("method", bad_dimensions(os.path.join(EDGE, "loocv_method_dim.nc"), kw))

    def test_files_of_every_schema(self):
        exe = os.environ.get("PEPPP_SCHEMA_TEST")
        self.assertTrue(exe and os.path.isfile(exe), "PEPPP_SCHEMA_TEST does not name the unit_io_schema test")
        out = scratch(self)
        env = dict(os.environ, PEPPP_SCHEMA_OUT=out)
        proc = subprocess.run([exe, "--gtest_filter=IoSchema.WritesOneFileOfEachSchema"], env=env,
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        kw = xarray_dim_keywords()
        files = ["campaign.nc", "completed.nc", "loocv.nc", "selection.nc"]
        for f in files:
            self.assertEqual(bad_dimensions(os.path.join(out, f), kw), {}, f)

    def test_cpp_keyword_list_is_current(self):
        # unit_io_schema checks the field tables against a hand-kept list: it
        # must hold every keyword of the installed xarray's methods.
        with open(os.path.join(SOURCE, "tests", "unit", "io", "test_schema.cpp")) as f:
            src = f.read()
        block = src[src.index("kXarrayKeywords{"):]
        block = block[:block.index("};")]
        listed = set(re.findall(r'"([A-Za-z_0-9]+)"', block))
        missing = sorted(set(xarray_dim_keywords()) - listed)
        self.assertEqual(missing, [], "add these to kXarrayKeywords in tests/unit/io/test_schema.cpp")


class TestRoleFrontier(unittest.TestCase):
    """scripts/role_frontier.py: the budget rule on a constructed case, and the script on a per-role campaign
    that `peppp measure` writes for inputs/roles/small-cnn-roles.ini (synthetic cells)."""

    def test_budget_rule(self):
        import role_frontier as rf
        cfg = ["a/b", "a[last=c]/b", "d/b", "d[first=c]/b"]
        err = np.array([0.30, 0.20, 0.10, 0.25])
        se = np.array([0.01, 0.01, 0.01, 0.01])
        mem = np.array([1.0, 1.1, 2.0, 2.5])
        wins = rf.budget_wins(cfg, err, se, mem)
        # At 1.1 the per-role a[last=c] (0.20) beats the only uniform under it (a, 0.30); at 2.5 the
        # per-role d[first=c] is worse than the uniform d: no win there.
        self.assertEqual([(w[1], w[4]) for w in wins], [("a[last=c]/b", "a/b")])
        self.assertTrue(rf.significant(wins[0]))
        self.assertFalse(rf.significant((1.1, "x", 0.29, 0.01, "y", 0.30, 0.01)))

    def test_paired_rule(self):
        import role_frontier as rf
        # 3 tasks; the per-role p measured on tasks 0 and 2 only (a sparse design), q on task 1 only.
        cfg = ["a/b", "p[last=c]/b", "d/b", "q[first=c]/b"]
        nan = float("nan")
        err = np.array([[0.30, 0.20, 0.10, nan], [0.40, nan, 0.10, 0.05], [0.50, 0.30, 0.10, nan]])
        se = np.full(err.shape, 0.01)
        mem = np.tile([1.0, 1.1, 2.0, 2.5], (3, 1))
        wins = rf.paired_wins(cfg, err, se, mem)
        self.assertEqual([w[0] for w in wins], ["p[last=c]/b"])  # q: one task only
        w = wins[0]
        self.assertEqual(w[1], 2)
        self.assertAlmostEqual(w[5], 0.15)  # (0.30 - 0.20 + 0.50 - 0.30) / 2, task 1 left out
        self.assertAlmostEqual(w[6], np.sqrt(4 * 0.01 ** 2) / 2)

    def test_measured_campaign(self):
        exe = os.environ.get("PEPPP_EXE")
        self.assertTrue(exe and os.path.isfile(exe), "PEPPP_EXE does not name the peppp executable")
        out = os.path.join(scratch(self), "roles.nc")
        ini = os.path.join(SOURCE, "inputs", "roles", "small-cnn-roles.ini")
        proc = subprocess.run([exe, "measure", "--config", ini, "--output", out, "--synthetic.seconds", "0.0001",
                               "--quiet"], capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        r = script_process("role_frontier.py", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("8 tasks x 20 configurations", r.stdout)
        self.assertIn("of 8", r.stdout)
        self.assertIn("paired, per per-role configuration", r.stdout)
        # Joined with itself: the same 20 configurations; with a campaign trained at another rate: refused.
        r = script_process("role_frontier.py", out, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("8 tasks x 20 configurations", r.stdout)
        other = os.path.join(os.path.dirname(out), "roles-lr.nc")
        proc = subprocess.run([exe, "measure", "--config", ini, "--output", other, "--synthetic.seconds", "0.0001",
                               "--train.learning_rate", "0.02", "--quiet"], capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        bad = script_process("role_frontier.py", out, other)
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
        self.assertIn("learning_rate", bad.stderr)
        bad = script_process("role_frontier.py", os.path.join(FIX, "absent.nc"))
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)


class TestCiRun(ImageChecks):
    """The scripts on the files a real `peppp run` on inputs/ci.ini writes."""

    def test_ci_run(self):
        exe = os.environ.get("PEPPP_EXE")
        ini = os.path.join(SOURCE, "inputs", "ci.ini")
        self.assertTrue(exe and os.path.isfile(exe), "PEPPP_EXE does not name the peppp executable")
        self.assertTrue(os.path.isfile(ini), ini + " missing")
        run = scratch(self)
        proc = subprocess.run([exe, "run", "--config", ini, "--output-dir", run],
                              capture_output=True, text=True, timeout=900)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        kw = xarray_dim_keywords()
        for f in ["campaign.nc", "completed.nc", "loocv.nc"]:
            if os.path.isfile(os.path.join(run, f)):
                self.assertEqual(bad_dimensions(os.path.join(run, f), kw), {}, f)
        if not os.path.isfile(os.path.join(run, "report.md")):  # run skipped the figures
            self.assertOk(script("report.py", run))
        TestReport.check_report(self, run)


if __name__ == "__main__":
    unittest.main()
