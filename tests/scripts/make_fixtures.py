#!/usr/bin/env python3
"""Write crafted peppp NetCDF files (DESIGN.md section 5 schema) for the
script tests: a small run folder (campaign, completed, loocv, selection) and
edge cases (ties, a task whose every configuration diverged, a partially
measured campaign, a single-method LOOCV, files missing a variable).

usage: make_fixtures.py OUTDIR [--formats-a N] [--formats-b N] [--tasks N] [--seed S]
"""
import argparse
import os

import numpy as np
from netCDF4 import Dataset

FORMATS_A = [(3, 1), (3, 2), (3, 3), (3, 4), (4, 1), (4, 2), (4, 3), (4, 4), (5, 1), (5, 2), (5, 3)]
FORMATS_B = [(6, 7), (6, 9), (6, 11), (7, 7), (7, 9), (7, 11), (8, 7), (8, 9), (8, 11)]
SETTINGS = ["I", "IV"]
METHODS = ["ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full", "random-high-memory"]
MEASUREMENTS = [3, 4, 5, 6, 8, 10]


def configs(na, nb):
    a = [FORMATS_A[round(i * (len(FORMATS_A) - 1) / max(na - 1, 1))] for i in range(na)]
    b = [FORMATS_B[round(i * (len(FORMATS_B) - 1) / max(nb - 1, 1))] for i in range(nb)]
    return [(fa, fb) for fa in a for fb in b]  # A-major, METHOD.md F1


def label(c):
    (ae, am), (be, bm) = c
    return f"e{ae}m{am}/e{be}m{bm}"


def memory_parts(cfgs, classes, resolution):
    """METHOD.md F2 with a small network: (weights, activations, optimizer) MiB."""
    n_w = 270_000 + 64 * classes
    n_act = 120_000 * (resolution / 28.0) ** 2
    mib = 8.0 * 2 ** 20
    w, a, o = [], [], []
    for (ae, am), (be, bm) in cfgs:
        ba, bb = 1 + ae + am, 1 + be + bm
        w.append(ba * n_w / mib)
        a.append(ba * 32 * n_act / mib)
        o.append(bb * 3 * n_w / mib)
    return np.array(w), np.array(a), np.array(o)


def low_rank_errors(rng, cfgs, n_tasks):
    bits = np.array([1 + ae + am for (ae, am), _ in cfgs], float)
    bbits = np.array([1 + be + bm for _, (be, bm) in cfgs], float)
    base = 0.08 + rng.uniform(0, 0.25, n_tasks)
    sens = rng.uniform(0.4, 1.6, n_tasks)
    col = np.exp(-(bits - 5) / 1.6) * 0.35 + np.exp(-(bbits - 14) / 3.0) * 0.05
    e = base[:, None] + sens[:, None] * col[None, :] + rng.normal(0, 0.01, (n_tasks, len(cfgs)))
    return np.clip(e, 0.01, 0.95)


def str_var(ds, name, dim, values, long_name):
    v = ds.createVariable(name, str, (dim,))
    for i, s in enumerate(values):
        v[i] = s
    v.long_name = long_name
    return v


def provenance(ds, command):
    ds.peppp_version = "0.1.0"
    ds.git_commit = "fixture"
    ds.command_line = command
    ds.created = "2026-01-01T00:00:00Z"
    ds.mpi_ranks = np.int32(1)


def write_campaign(path, cfgs, tasks, error, status, parts, skip=()):
    w, a, o = parts
    n, d = error.shape
    with Dataset(path, "w") as ds:
        provenance(ds, "peppp measure --config fixture.ini")
        ds.model = "tiny-resnet"
        ds.sampling = "all"
        ds.createDimension("task", n)
        ds.createDimension("config", d)
        str_var(ds, "task", "task", [t[0] for t in tasks], "task name")
        str_var(ds, "config", "config", [label(c) for c in cfgs], "configuration (format A / format B)")
        str_var(ds, "task_dataset", "task", ["fashion-mnist"] * n, "source dataset")
        for name, idx, part in [("a_exponent_bits", 0, 0), ("a_mantissa_bits", 0, 1),
                                ("b_exponent_bits", 1, 0), ("b_mantissa_bits", 1, 1)]:
            v = ds.createVariable(name, "i4", ("config",))
            v[:] = [c[idx][part] for c in cfgs]
        for name, col in [("task_classes", 1), ("task_resolution", 2)]:
            v = ds.createVariable(name, "i4", ("task",))
            v[:] = [t[col] for t in tasks]

        def dvar(name, values, units, long_name):
            if name in skip:
                return
            v = ds.createVariable(name, "f8", ("task", "config"), fill_value=np.nan)
            v[:] = values
            v.units = units
            v.long_name = long_name

        dvar("error", error, "1", "test misclassification rate")
        dvar("memory", w + a + o, "MiB", "theoretical training memory")
        dvar("memory_weights", w, "MiB", "memory of the weights")
        dvar("memory_activations", a, "MiB", "memory of the activations")
        dvar("memory_optimizer", o, "MiB", "memory of the optimizer state")
        dvar("train_seconds", np.where(status >= 2, 3.0, np.nan), "s", "wall time of the cell")
        st = ds.createVariable("status", "i1", ("task", "config"))
        st[:] = status
        st.flag_values = np.array([0, 1, 2, 3, 4], "i1")
        st.flag_meanings = "not_planned planned measured diverged failed"


def full_parts(cfgs, tasks):
    parts = [memory_parts(cfgs, t[1], t[2]) for t in tasks]
    return tuple(np.array([p[k] for p in parts]) for k in range(3))


def write_completed(path, cfgs, tasks, truth, observed_mask, rng):
    n, d = truth.shape
    u, s, vt = np.linalg.svd(truth, full_matrices=False)
    est = (u[:, :3] * s[:3]) @ vt[:3] + rng.normal(0, 0.01, truth.shape)
    mem = full_parts(cfgs, tasks)
    memory = mem[0] + mem[1] + mem[2]
    from_scripts = __import__("peppp_nc")  # the scripts' own Pareto sets, checked by the tests
    with Dataset(path, "w") as ds:
        provenance(ds, "peppp complete --campaign campaign.nc --output completed.nc")
        ds.setncattr("lambda", 0.1)
        ds.rank = np.int32(3)
        ds.iterations = np.int32(120)
        ds.objective = 0.01
        ds.createDimension("task", n)
        ds.createDimension("config", d)
        str_var(ds, "task", "task", [t[0] for t in tasks], "task name")
        str_var(ds, "config", "config", [label(c) for c in cfgs], "configuration")
        v = ds.createVariable("error_observed", "f8", ("task", "config"), fill_value=np.nan)
        v[:] = np.where(observed_mask, truth, np.nan)
        v = ds.createVariable("error_estimate", "f8", ("task", "config"))
        v[:] = est
        pe = ds.createVariable("pareto_estimate", "i1", ("task", "config"))
        pt = ds.createVariable("pareto_true", "i1", ("task", "config"))
        pe[:] = np.array([from_scripts.pareto_mask(memory[i], est[i]) for i in range(n)], "i1")
        pt[:] = np.array([from_scripts.pareto_mask(memory[i], truth[i]) for i in range(n)], "i1")
        for name in ["convergence", "hyperdiff", "relative_error"]:
            v = ds.createVariable(name, "f8", ("task",))
            v[:] = rng.uniform(0.01, 0.1, n)


def write_loocv(path, n_folds, rng, methods=METHODS, settings=SETTINGS, skip=(), method_dim="acquisition"):
    """loocv.nc as peppp writes it; method_dim="method" gives a file of the
    versions before issue #13."""
    shape = (len(settings), len(methods), len(MEASUREMENTS), n_folds)
    dims4 = ("setting", method_dim, "measurements", "fold")
    with Dataset(path, "w") as ds:
        provenance(ds, "peppp loocv --campaign campaign.nc --output loocv.nc")
        ds.cap = 1.5
        for dim, n in zip(dims4, shape):
            ds.createDimension(dim, n)
        str_var(ds, "setting", "setting", settings, "meta-LOOCV setting")
        str_var(ds, method_dim, method_dim, methods, "acquisition method")
        v = ds.createVariable("measurements", "i4", ("measurements",))
        v[:] = MEASUREMENTS
        v = ds.createVariable("fold", "i4", ("fold",))
        v[:] = np.arange(n_folds)
        l = np.array(MEASUREMENTS, float)[None, None, :, None]
        quality = np.array([0.6 if m == "ed-mf" else 1.0 + 0.2 * k for k, m in enumerate(methods)])[None, :, None, None]
        noise = rng.uniform(0.7, 1.3, shape)
        base = {
            "relative_error": 0.5 * quality / np.sqrt(l) * noise,
            "convergence": 0.08 * quality / l * noise,
            "hyperdiff": 0.05 * quality / l * noise,
            "measured_memory": l * rng.uniform(0.8, 1.2, shape) * (1.0 + 0.1 * np.arange(len(settings)))[:, None, None, None],
        }
        best = rng.uniform(0.1, 0.3, (1, 1, 1, n_folds)) * np.ones(shape)
        regret = 0.05 * quality / l * noise
        is_base = np.array([m == "random-high-memory" for m in methods])[None, :, None, None]
        regret = np.where(is_base, 0.08 * np.ones(shape), regret)
        for name in ["relative_error", "convergence", "hyperdiff", "measured_memory"]:
            base[name] = np.where(is_base, np.nan, base[name])
        base["best_feasible_error"] = best
        base["regret"] = regret
        base["selected_error"] = best + regret
        units = {"measured_memory": "MiB"}
        for name, values in base.items():
            if name in skip:
                continue
            v = ds.createVariable(name, "f8", dims4, fill_value=np.nan)
            v[:] = values
            v.units = units.get(name, "1")
        v = ds.createVariable("selected_config", "i4", dims4)
        v[:] = rng.integers(0, 12, shape)
        if method_dim == "acquisition":  # the files since issue #30: coverage and the zero-shot default
            rng = np.random.default_rng(30)  # its own stream: the fixtures written after keep their values
            v = ds.createVariable("coverage", "f8", dims4, fill_value=np.nan)
            v[:] = np.where(is_base, np.nan, rng.uniform(0.8, 1.0, shape))
            zero = {"zero_shot_regret": 0.06 * rng.uniform(0.7, 1.3, (len(settings), n_folds))}
            zero["zero_shot_selected_error"] = best[0, :1, 0] + zero["zero_shot_regret"]
            zero["zero_shot_relative_error"] = 0.9 * rng.uniform(0.7, 1.3, (len(settings), n_folds))
            zero["zero_shot_convergence"] = 0.1 * rng.uniform(0.7, 1.3, (len(settings), n_folds))
            zero["zero_shot_hyperdiff"] = 0.06 * rng.uniform(0.7, 1.3, (len(settings), n_folds))
            zero["zero_shot_coverage"] = rng.uniform(0.8, 1.0, (len(settings), n_folds))
            for name, values in zero.items():
                v = ds.createVariable(name, "f8", ("setting", "fold"), fill_value=np.nan)
                v[:] = values
                v.units = "1"


def write_selection(path, cfgs, task, rng, truth_row, budget):
    d = len(cfgs)
    w, a, o = memory_parts(cfgs, task[1], task[2])
    memory = w + a + o
    pred = truth_row + rng.normal(0, 0.02, d)
    measured = np.zeros(d, "i1")
    measured[rng.choice(np.flatnonzero(memory <= budget), size=min(4, d), replace=False)] = 1
    pm = __import__("peppp_nc")
    rec = pm.recommend(memory, pred, budget)
    with Dataset(path, "w") as ds:
        provenance(ds, "peppp select --campaign campaign.nc --task new --budget 1.5 --measurements 4")
        ds.budget = float(budget)
        ds.recommended_config = label(cfgs[rec])
        ds.task = task[0]
        ds.createDimension("config", d)
        str_var(ds, "config", "config", [label(c) for c in cfgs], "configuration")

        def var(name, values, typ="f8", units=None):
            v = ds.createVariable(name, typ, ("config",))
            v[:] = values
            if units:
                v.units = units
        var("memory", memory, units="MiB")
        var("predicted_error", pred, units="1")
        var("predicted_std", np.full(d, 0.02), units="1")
        var("measured", measured, "i1")
        var("measured_error", np.where(measured == 1, truth_row, np.nan), units="1")
        var("pareto_estimate", pm.pareto_mask(memory, pred).astype("i1"), "i1")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("outdir")
    p.add_argument("--formats-a", type=int, default=4)
    p.add_argument("--formats-b", type=int, default=3)
    p.add_argument("--tasks", type=int, default=5)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    import sys
    sys.path.insert(0, os.path.join(here, "..", "..", "scripts"))

    rng = np.random.default_rng(args.seed)
    cfgs = configs(args.formats_a, args.formats_b)
    tasks = [(f"fmnist-c{c}-r{r}-{i}", c, r) for i, (c, r) in
             enumerate([(10, 28), (5, 28), (3, 14), (10, 56), (4, 28), (6, 14), (2, 28), (8, 56)] * 4)][:args.tasks]
    truth = low_rank_errors(rng, cfgs, len(tasks))
    n, d = truth.shape
    run = os.path.join(args.outdir, "run")
    edge = os.path.join(args.outdir, "edge")
    os.makedirs(run, exist_ok=True)
    os.makedirs(edge, exist_ok=True)
    parts = full_parts(cfgs, tasks)

    # A fully measured campaign with a ci-like run folder around it.
    write_campaign(os.path.join(run, "campaign.nc"), cfgs, tasks, truth, np.full((n, d), 2, "i1"), parts)
    observed = rng.random((n, d)) < 0.4
    write_completed(os.path.join(run, "completed.nc"), cfgs, tasks, truth, observed, rng)
    write_loocv(os.path.join(run, "loocv.nc"), n, rng)
    memory = parts[0] + parts[1] + parts[2]
    budget = float(np.median(memory))
    write_selection(os.path.join(run, "selection.nc"), cfgs, ("new-task", 7, 28), rng, truth[0], budget)

    # Partially measured: planned, failed and not-planned cells.
    status = np.where(observed, 2, np.where(rng.random((n, d)) < 0.5, 1, 0)).astype("i1")
    status[0, -1] = 4
    write_campaign(os.path.join(edge, "partial_campaign.nc"), cfgs, tasks,
                   np.where(status == 2, truth, np.nan), status, parts)

    # Ties: equal memory (equal bit totals) and equal errors.
    tied = truth.copy()
    tied[:, 1] = tied[:, 0]
    tied[:, 2] = tied[:, 0]
    tied[1, :] = tied[0, :]
    write_campaign(os.path.join(edge, "ties_campaign.nc"), cfgs, tasks, np.round(tied, 2),
                   np.full((n, d), 2, "i1"), parts)

    # A task whose every configuration diverged (error NaN or 1.0, status 3).
    div = truth.copy()
    div_status = np.full((n, d), 2, "i1")
    div[2, :] = np.where(np.arange(d) % 2 == 0, np.nan, 1.0)
    div_status[2, :] = 3
    write_campaign(os.path.join(edge, "diverged_campaign.nc"), cfgs, tasks, div, div_status, parts)

    write_loocv(os.path.join(edge, "loocv_single_method.nc"), n, rng, methods=["ed-mf"], settings=["IV"])

    # Files missing a variable: each script must name the file and the variable.
    write_campaign(os.path.join(edge, "missing_memory_campaign.nc"), cfgs, tasks, truth,
                   np.full((n, d), 2, "i1"), parts, skip=("memory", "memory_activations"))
    write_campaign(os.path.join(edge, "missing_error_campaign.nc"), cfgs, tasks, truth,
                   np.full((n, d), 2, "i1"), parts, skip=("error",))
    write_loocv(os.path.join(edge, "missing_regret_loocv.nc"), n, rng, skip=("regret",))
    write_loocv(os.path.join(edge, "loocv_method_dim.nc"), n, rng, method_dim="method")
    print(f"fixtures written under {args.outdir}: {n} tasks x {d} configurations")


if __name__ == "__main__":
    main()
