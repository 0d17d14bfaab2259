#!/usr/bin/env python3
"""Run peppp's benchmark suites and write the generated summary of BENCHMARKS.md.

    scripts/bench_report.py BUILD_DIR [--out DIR] [--update BENCHMARKS.md] [--quick]
                            [--skip quant,nn,meta,loocv,growth,campaign,makespan]
                            [--growth-sizes 40x99,80x200,160x400,320x800] [--growth-lambda auto,once]
                            [--rounds N]

Every figure is measured in this run next to its limit, as a ratio taken in
the same process (bench_quant: memcpy, a same-size read+write and torch
clone(), each run alternately with its kernel, the median of the per-pair
ratios with quartiles and range; bench_nn: the fp32 step, alternated with the
quantized one in the same way; `peppp measure`: the same campaign in fp32,
the two alternated over 3 rounds;
bench_meta and `peppp loocv` (3 runs): the issue's wall-time targets, each
run next to the numpy reference tests/scripts/loocv_ls_reference.py and
peppp doing the reference's work (settings I, II, the paper's three methods,
least squares); the meta-side growth curve: `peppp loocv` on synthetic n × d
matrices at 1 and 2 ranks (and per `--growth-lambda` rule), 3 repeats each,
median and range; benchmarks/makespan_sim: the
queue's makespan on 256 ranks over its lower bound, plan order and cost order, 20 repetitions), together with the machine (CPU model, cores, memory),
the load average before and after each suite, the git commit and the exact
commands. With --update the block between `<!-- bench-report:begin -->` and
`<!-- bench-report:end -->` of BENCHMARKS.md is replaced (inserted after the
title when the markers are missing); the hand-written sections below it,
with their profiles and history, are left as they are.

Run it on an idle machine: the summary prints the load next to every suite,
and a load above the core count marks the figures as taken under load.
--quick shortens the repetitions (a smoke run: `ctest -R scripts_bench_report`).
Exit 0 when the suites ran (targets missed are reported, not errors), 1 when
a suite failed, 2 on unusable arguments.
"""
import argparse
import datetime
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

PAIRS = 21  # kernel/limit pairs (rounds of the training step) per benchmark; --quick: 3
BEGIN = "<!-- bench-report:begin -->"
END = "<!-- bench-report:end -->"


def load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "memory": mem}


def git_commit(src):
    try:
        return subprocess.run(["git", "-C", src, "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


class Suite:
    """One command run with its load before/after and CPU seconds of its children."""

    def __init__(self, name, cmd, json_out=None, env=None):
        self.name, self.cmd, self.json_out, self.env = name, cmd, json_out, env

    def run(self):
        print("bench-report:", " ".join(self.cmd), flush=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.load_before = load()
        t0 = time.monotonic()
        env = dict(os.environ, **(self.env or {}))
        p = subprocess.run(self.cmd, env=env, capture_output=True, text=True)
        self.wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.load_after = load()
        self.output = p.stdout + p.stderr
        if p.returncode != 0:
            sys.stderr.write(self.output[-3000:])
            raise RuntimeError(f"{self.name}: exit {p.returncode}")
        self.data = None
        if self.json_out:
            with open(self.json_out) as f:
                self.data = json.load(f)
        return self

    def shown(self):
        """The command as a reader reruns it: paths relative to the current folder."""
        cwd = os.getcwd() + os.sep

        def short(x):
            if x.startswith("/") and (os.path.exists(x) or x.startswith(cwd)):
                rel = os.path.relpath(x)
                return x if rel.startswith(".." + os.sep + "..") else rel  # /usr/bin/python3 stays as it is
            if "=" in x:  # --benchmark_out=/abs/path
                k, v = x.split("=", 1)
                return k + "=" + short(v)
            return x
        env = [f"{k}={v}" for k, v in sorted((self.env or {}).items()) if k.startswith("PEPPP_")]
        return " ".join(env + [short(x) for x in self.cmd])

    def loads(self):
        return f"{self.load_before:.1f} → {self.load_after:.1f}"


def rows_of(data, aggregate="median"):
    """Benchmark rows of a Google Benchmark JSON: the aggregate when repeated, else the runs."""
    out = []
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != aggregate:
            continue
        out.append(b)
    return out


def ms(b):
    unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    return b["real_time"] * unit, b["cpu_time"] * unit


def mark(ok):
    return "met" if ok else "**missed**"


def paired(b):
    """(median, q1, q3, min, max) of a benchmark's per-pair ratios, or None."""
    if "ratio" not in b:
        return None
    return tuple(b.get(k) for k in ("ratio", "ratio_q1", "ratio_q3", "ratio_min", "ratio_max"))


def verdict(r, target, at_least):
    """met / **missed** when the interquartile range is on one side of the target, else
    within the spread (the median's side given): a claim never finer than its noise."""
    med, q1, q3 = r[0], r[1], r[2]
    if at_least:
        if q1 >= target:
            return "met"
        if q3 < target:
            return "**missed**"
        return f"within spread (median {'≥' if med >= target else '<'} target)"
    if q3 <= target:
        return "met"
    if q1 > target:
        return "**missed**"
    return f"within spread (median {'≤' if med <= target else '>'} target)"


def spread(r, fmt=".2f"):
    return f"{r[1]:{fmt}}–{r[2]:{fmt}} | {r[3]:{fmt}}–{r[4]:{fmt}}"


def quant_section(s):
    lines = ["### Quantization kernels (bench_quant)", "",
             f"`{s.shown()}` — load {s.loads()}.", "",
             "Each ratio is paired: the kernel and its limit run alternately in the same process "
             f"({PAIRS} pairs after a warm-up, on the same buffers), one ratio t_limit / t_kernel per pair; "
             "the table gives the median of the pairs' ratios, their quartiles and range. Limits: memcpy of the "
             "same buffer (buffer → buffer), a same-size read + write of one buffer (in place), torch `clone()` "
             "(a new tensor). A target is met (missed) when the whole interquartile range is above (below) it; "
             "otherwise the difference is within the measurement's spread. The limits' rows pair each limit "
             "with itself (ideal 1): the spread of the method on this machine.", "",
             "| kernel | format | rounding | threads | G elem/s | × limit (median) | quartiles | min–max | limit "
             "| target | |",
             "|---|---|---|---:|---:|---:|---:|---:|---|---:|---|"]
    limits = {"BM_Memcpy": "memcpy", "BM_ReadWrite": "read+write", "BM_Clone": "clone()"}
    for b in rows_of(s.data):
        r = paired(b)
        if r is None:
            continue
        rate = b.get("items_per_second", 0) / 1e9
        name = b.get("name", "").split("/")[0]
        if name in limits:
            threads = re.search(r"threads:(\d+)", b["name"]).group(1)
            lines.append(f"| {limits[name]} itself | – | – | {threads} | {rate:.2f} | {r[0]:.2f} | {spread(r)} | "
                         f"{limits[name]} | – | |")
            continue
        m = re.match(r"(buffer|in place|new tensor) (\S+) (\S+) threads=(\d+)", b.get("label", ""))
        if not m:
            continue
        kind, fmt, rounding, threads = m.groups()
        if kind == "buffer":
            limit, target = "memcpy", 0.5 if rounding == "stochastic" else 0.8
        elif kind == "in place":
            limit, target = "read+write", 0.9 if rounding != "stochastic" else None
        else:
            limit, target = "clone()", 1.0
        lines.append(f"| {kind} | {fmt} | {rounding} | {threads} | {rate:.2f} | {r[0]:.2f} | {spread(r)} | "
                     f"{limit} | {'–' if target is None else '≥ ' + format(target, '.1f')} | "
                     f"{'' if target is None else verdict(r, target, True)} |")
    return lines


def nn_section(s):
    lines = ["### Training step, quantized / fp32 (bench_nn)", "",
             f"`{s.shown()}` — load {s.loads()}. CPU time of the main thread per SGD step at batch 32, "
             "32 × 32 inputs, one thread; e4m3/e6m7 with the default roundings against float32. Paired: "
             f"{PAIRS} rounds, each one step of the fp32, the quantized and the identity-quantizer "
             "(e8m23 activations, fp32 optimizer) instance of the same model in a rotating order, after 3 "
             "warm-up steps of each; the ratio is per round, median with quartiles and range. Met (missed) "
             "when the whole interquartile range is below (above) the target.", "",
             "| model | fp32 ms/step | e4m3/e6m7 ms/step | ratio (median) | quartiles | min–max | target | |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    split = []
    for b in rows_of(s.data):
        r = paired(b)
        m = re.match(r"(\S+) e4m3/e6m7 vs fp32, paired", b.get("label", ""))
        if r is None or not m:
            continue
        model = m.group(1)
        target = 1.1 if model in ("small-cnn", "resnet8") else None
        lines.append(f"| {model} | {b['fp32_ms']:.1f} | {b['q_ms']:.1f} | {r[0]:.3f}× | {spread(r, '.3f')} | "
                     f"{'–' if target is None else '≤ 1.1×'} | "
                     f"{'' if target is None else verdict(r, target, False)} |")
        for ph in ("fwd", "bwd", "opt"):
            f, q, i = b[f"fp32_{ph}_ms"], b[f"q_{ph}_ms"], b[f"id_{ph}_ms"]
            split.append(f"| {model} | {ph} | {f:.2f} | {q:.2f} | {i:.2f} | {q - f:+.2f} | {i - f:+.2f} |")
    if split:
        lines += ["", "Time split (medians over the rounds, ms per step): forward (zero_grad, forward, loss), "
                  "backward, optimizer step; the identity quantizer's extra time over fp32 is the mechanics of "
                  "the quantizer points, the rest of the quantized step's extra time is rounding work "
                  "(forward/backward) and the low-precision optimizer.", "",
                  "| model | phase | fp32 | e4m3/e6m7 | identity quantizer | quantized − fp32 | identity − fp32 |",
                  "|---|---|---:|---:|---:|---:|---:|"] + split
    return lines


def meta_section(s):
    lines = ["### SoftImpute 87 × 99, 20 % observed, to duality gap 1e-6 (bench_meta)", "",
             f"`{s.shown()}` — load {s.loads()}.", "",
             "| solver | ms (wall) | ms (CPU) | target | |", "|---|---:|---:|---:|---|"]
    names = {"0": "proximal", "1": "proximal, accelerated", "2": "factored (default)"}
    for b in rows_of(s.data):
        m = re.match(r"BM_SoftImpute/87/99/20/10/(\d)", b["name"])
        if not m:
            continue
        wall, cpu = ms(b)
        default = m.group(1) == "2"
        lines.append(f"| {names[m.group(1)]} | {wall:.1f} | {cpu:.1f} | "
                     f"{'≤ 50 ms' if default else '–'} | {mark(cpu <= 50) if default else ''} |")
    return lines


def at_most(values, target):
    """Median of repeated runs and `verdict` on "≤ target" with their whole range as the spread:
    met (missed) when every run is within (beyond) it."""
    med = statistics.median(values)
    return med, verdict((med, min(values), max(values)), target, at_least=False)


def loocv_section(runs):
    """runs: (peppp all methods, numpy reference, peppp on the reference's work) per round, in turn; the
    targets: the first's wall time, and the reference's wall time over it (issue 32: at least 10×)."""
    ratios = sorted(ref.wall / r.wall for r, ref, _ in runs)
    rmed = statistics.median(ratios)
    rverdict = verdict((rmed, ratios[0], ratios[-1]), 10, at_least=True)
    walls = sorted(r.wall for r, _, _ in runs)
    med, wverdict = at_most(walls, 10)
    r0, ref0, same0 = runs[0]
    lines = ["### `peppp loocv` settings I + IV, all methods, 40 × 99, default options, 1 rank, "
             "and the numpy reference", "",
             f"peppp: `{r0.shown()}`. Numpy reference (METHOD.md F10 with numpy alone: settings I, II, the paper's "
             f"three methods, least squares): `{ref0.shown()}`; peppp doing the reference's work: "
             f"`{same0.shown()}`. {len(runs)} round(s), the three in turn.", "",
             "| round | peppp: wall s, CPU s (load) | reference: wall s, CPU s | peppp, the reference's work: "
             "wall s, CPU s | reference / peppp (wall) | reference / peppp, same work (CPU) |",
             "|---:|---|---|---|---:|---:|"]
    for i, (r, ref, same) in enumerate(runs):
        lines.append(f"| {i + 1} | {r.wall:.1f}, {r.cpu:.1f} ({r.loads()}) | {ref.wall:.1f}, {ref.cpu:.1f} | "
                     f"{same.wall:.1f}, {same.cpu:.1f} | {ref.wall / r.wall:.2f}× | {ref.cpu / same.cpu:.2f}× |")
    lines += ["", "| figure | median | min–max | target | |", "|---|---:|---:|---:|---|",
              f"| peppp wall s | {med:.1f} | {walls[0]:.1f}–{walls[-1]:.1f} | ≤ 10 s | {wverdict} |",
              f"| reference / peppp (wall) | {rmed:.2f}× | {ratios[0]:.2f}–{ratios[-1]:.2f} | ≥ 10× | {rverdict} |"]
    return lines


def loocv_runs(bench, exe, src, out, repeats, env):
    """The loocv suite: per round, peppp (all methods, defaults), the numpy reference and peppp on its work."""
    campaign = os.path.join(out, "syn40.nc")
    Suite("loocv-data", [os.path.join(bench, "loocv_campaign"), "40", campaign]).run()
    mpi = ["mpirun", "-np", "1"]
    runs = []
    for _ in range(repeats):
        r = Suite("loocv", [*mpi, exe, "loocv", "--campaign", campaign, "--settings", "I,IV", "--cap", "281",
                            "--output", os.path.join(out, "loocv.nc"), "--summary", "false", "--quiet"],
                  None, env).run()
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable  # the one with numpy
        ref = Suite("loocv-numpy", [python, os.path.join(src, "tests", "scripts", "loocv_ls_reference.py"),
                                    os.path.join(out, "loocv-numpy.nc")]).run()
        same = Suite("loocv-same", [*mpi, exe, "loocv", "--campaign", campaign, "--settings", "I,II", "--methods",
                                    "ed-mf,qr-mf,random-mf", "--cap", "281", "--prediction", "least-squares",
                                    "--output", os.path.join(out, "loocv-same.nc"), "--summary", "false",
                                    "--quiet"], None, env).run()
        runs.append((r, ref, same))
    return runs


GROWTH_TARGETS = {("160x400", 2): 60, ("320x800", 2): 600}  # issue 32: wall seconds at 2 ranks


def growth_runs(bench, exe, out, sizes, repeats, env, rules=("auto",)):
    """The meta-side growth curve: `peppp loocv` (settings I, IV; ed-mf, ei-mf; 5 measurements; task-median cap;
    defaults, `--lambda` per rule) on loocv_campaign's synthetic n × d matrices, 1 and 2 ranks, `repeats` rounds
    of every case in turn (so a load that drifts weighs on all alike). Returns {(size, ranks, rule): [Suite, ...]}."""
    runs = {}
    for size in sizes:
        n, d = size.split("x")
        Suite("growth-data", [os.path.join(bench, "loocv_campaign"), n, os.path.join(out, f"syn{size}.nc"), d]).run()
    for _ in range(repeats):
        for size in sizes:
            for ranks, rule in ((r, x) for x in rules for r in (1, 2)):
                cmd = ["mpirun", "-np", str(ranks), exe, "loocv", "--campaign", os.path.join(out, f"syn{size}.nc"),
                       "--settings", "I,IV", "--methods", "ed-mf,ei-mf", "--measurements", "5", "--cap", "task-median",
                       "--output", os.path.join(out, f"growth-{size}-np{ranks}-{rule}.nc"), "--summary", "false",
                       "--quiet"] + ([] if rule == "auto" else ["--lambda", rule])
                runs.setdefault((size, ranks, rule), []).append(Suite("growth", cmd, None, env).run())
    return runs


def growth_section(runs):
    """runs: {(size, ranks, rule): [Suite, ...]} of growth_runs; targets on the wall time at 2 ranks, λ auto."""
    first = next(iter(runs.values()))[0]
    lines = ["### Meta-side growth curve: `peppp loocv` on synthetic n × d matrices, 1 and 2 ranks", "",
             f"`{first.shown()}` (every size and rank count; matrices from `benchmarks/loocv_campaign N PATH D`: "
             "rank 3 around 0.3 plus 0.005 noise), "
             f"{len(next(iter(runs.values())))} round(s) of every case in turn. Wall and CPU seconds "
             "(user + system, all ranks) are the median over the rounds, with the wall time's range. "
             "`--lambda once` rows: one λ CV per sampling scheme instead of one per fold (docs/softimpute.md).", "",
             "| rows × configurations | ranks | λ | wall s (median) | min–max | CPU s (median) | load (last run) "
             "| target | |", "|---|---:|---|---:|---:|---:|---|---:|---|"]
    for (size, ranks, rule), rs in runs.items():
        walls = sorted(r.wall for r in rs)
        cpu = statistics.median(r.cpu for r in rs)
        target = GROWTH_TARGETS.get((size, ranks)) if rule == "auto" else None
        med, verdict = at_most(walls, target) if target else (statistics.median(walls), "")
        lines.append(f"| {size.replace('x', ' × ')} | {ranks} | {rule} | {med:.1f} | {walls[0]:.1f}–{walls[-1]:.1f} | "
                     f"{cpu:.1f} | {rs[-1].loads()} | {f'≤ {target} s' if target else '–'} | {verdict} |")
    return lines


def campaign_section(rounds, cells):
    """rounds: (quantized Suite, fp32 Suite) per round, run in alternating order; the ratio is per round."""
    ratios = sorted((q.cpu / cells) / (f.cpu / cells) for q, f in rounds)
    med, verdict = at_most(ratios, 1.15)
    q0, f0 = rounds[0]
    lines = ["### Campaign throughput, quantized / fp32 (`peppp measure`, data loading and evaluation included)", "",
             f"Quantized: `{q0.shown()}`.", "",
             f"fp32 (every format e8m23: no rounding runs): `{f0.shown()}`.", "",
             f"{len(rounds)} rounds, the two campaigns in alternating order (quantized first in rounds 1, 3, ...); "
             "the ratio is quantized / fp32 CPU seconds per cell within a round. Met (missed) when every "
             "round's ratio is within (beyond) the target.", "",
             "| round | quantized: wall s, CPU s (load) | fp32: wall s, CPU s (load) | CPU s per cell, quantized / fp32 "
             "| cells per hour (1 core), quantized / fp32 | ratio |",
             "|---:|---|---|---|---|---:|"]
    for i, (q, f) in enumerate(rounds):
        pq, pf = q.cpu / cells, f.cpu / cells
        lines.append(f"| {i + 1} | {q.wall:.1f}, {q.cpu:.1f} ({q.loads()}) | {f.wall:.1f}, {f.cpu:.1f} ({f.loads()}) "
                     f"| {pq:.3f} / {pf:.3f} | {3600 / pq:,.0f} / {3600 / pf:,.0f} | {pq / pf:.2f}× |")
    lines += ["", "| cells | ratio (median) | min–max | target | |", "|---:|---:|---:|---:|---|",
              f"| {cells} | {med:.2f}× | {ratios[0]:.2f}–{ratios[-1]:.2f} | ≤ 1.15× | {verdict} |"]
    return lines


def makespan_section(runs):
    """runs: (label, Suite) of benchmarks/makespan_sim; the target is cost order within 3 % of the bound."""
    lines = ["### Queue order: makespan on P ranks over its lower bound max(total / P, longest cell) "
             "(benchmarks/makespan_sim)", "",
             "Cell times drawn from the measured cells of inputs/reference/fashion-small-cnn.nc (14 and 28 px "
             "small-cnn rows; other networks scaled by their activation counts), the dynamic queue simulated in "
             "plan order, in cost order (longest first by the stage's estimate, which knows each row's network, "
             "resolution and images, not each cell), calibrated (longest first by each row's measured median: "
             "run.cost_reference naming the row, or a resumed campaign) and longest first by the exact times; a new draw per repetition. Met (missed) when every "
             "repetition of the cost order is within (beyond) the target.", "",
             "| plan | cells | ranks | reps | plan order: median (min–max) | cost order: median (min–max) "
             "| calibrated: median (min–max) | exact LPT: median | target (cost) | |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for label, r in runs:
        reps = r.data["repetitions"]
        col = {k: sorted(x[k] for x in reps) for k in ("plan", "cost", "calibrated", "exact")}
        med, verdict = at_most(col["cost"], 1.03)
        lines.append(f"| {label} | {r.data['cells']} | {r.data['ranks']} | {len(reps)} "
                     f"| {statistics.median(col['plan']):.4f} ({col['plan'][0]:.4f}–{col['plan'][-1]:.4f}) "
                     f"| {med:.4f} ({col['cost'][0]:.4f}–{col['cost'][-1]:.4f}) "
                     f"| {statistics.median(col['calibrated']):.4f} "
                     f"({col['calibrated'][0]:.4f}–{col['calibrated'][-1]:.4f}) "
                     f"| {statistics.median(col['exact']):.4f} | ≤ 1.03 | {verdict} |")
    lines += ["", "Commands: " + "; ".join(f"`{r.shown()}`" for _, r in runs) + "."]
    return lines


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--out", default="bench-report")
    ap.add_argument("--update")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip", default="")
    ap.add_argument("--growth-sizes", default="40x99,80x200,160x400,320x800")
    ap.add_argument("--growth-lambda", default="auto,once")
    ap.add_argument("--rounds", type=int, help="rounds of the loocv and growth suites (default 3, --quick 1)")
    a = ap.parse_args(argv)
    build = os.path.abspath(a.build)
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    skip = set(x for x in a.skip.split(",") if x)
    bad = skip - {"quant", "nn", "meta", "loocv", "growth", "campaign", "makespan"}
    if bad:
        print(f"bench_report: --skip {','.join(sorted(bad))}: allowed: quant, nn, meta, loocv, growth, campaign, makespan",
              file=sys.stderr)
        return 2
    sizes = [x for x in a.growth_sizes.split(",") if x]
    if not sizes or not all(re.fullmatch(r"[1-9][0-9]*x[1-9][0-9]*", x) for x in sizes):
        print(f"bench_report: --growth-sizes {a.growth_sizes}: allowed: NxD,... (e.g. 40x99,80x200)", file=sys.stderr)
        return 2
    rules = [x for x in a.growth_lambda.split(",") if x]
    if not rules or not set(rules) <= {"auto", "once"}:
        print(f"bench_report: --growth-lambda {a.growth_lambda}: allowed: auto, once (comma-separated)", file=sys.stderr)
        return 2
    rounds = a.rounds if a.rounds is not None else (1 if a.quick else 3)
    if rounds < 1:
        print(f"bench_report: --rounds {a.rounds}: must be >= 1", file=sys.stderr)
        return 2
    bench = os.path.join(build, "benchmarks")
    exe = os.path.join(build, "bin", "peppp")
    needs_exe = "loocv" not in skip or "growth" not in skip
    for path in ([bench] if skip != {"loocv"} else []) + ([exe] if needs_exe else []):
        if not os.path.exists(path):
            print(f"bench_report: {path} not found (build with -DPEPPP_BUILD_BENCHMARKS=ON)", file=sys.stderr)
            return 2
    os.makedirs(a.out, exist_ok=True)
    out = os.path.abspath(a.out)
    reps = ["--benchmark_repetitions=1"] if a.quick else ["--benchmark_repetitions=3",
                                                          "--benchmark_report_aggregates_only=true"]
    min_time = ["--benchmark_min_time=0.05"] if a.quick else ["--benchmark_min_time=0.5"]
    global PAIRS
    PAIRS = 3 if a.quick else PAIRS
    pairs_env = {"PEPPP_BENCH_PAIRS": str(PAIRS)}
    mpi = ["mpirun", "-np", "1"]
    env = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    start = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = []
    try:
        if "quant" not in skip:
            j = os.path.join(out, "bench_quant.json")
            # No repetitions: the pairs inside each benchmark are the repeated measurement.
            s = Suite("quant", [os.path.join(bench, "bench_quant"), *min_time,
                                f"--benchmark_out={j}", "--benchmark_out_format=json",
                                "--benchmark_filter=BM_(Memcpy|ReadWrite|Clone|Quantize(Buffer|InPlace|Tensor))/"],
                      j, pairs_env).run()
            sections.append(quant_section(s))
        if "nn" not in skip:
            j = os.path.join(out, "bench_nn.json")
            s = Suite("nn", [os.path.join(bench, "bench_nn"), "--benchmark_filter=BM_TrainStepPaired/case:[01]/",
                             f"--benchmark_out={j}", "--benchmark_out_format=json"], j, pairs_env).run()
            sections.append(nn_section(s))
        if "meta" not in skip:
            j = os.path.join(out, "bench_meta.json")
            s = Suite("meta", [*mpi, os.path.join(bench, "bench_meta"), "--benchmark_filter=BM_SoftImpute/87/",
                               *reps, f"--benchmark_out={j}", "--benchmark_out_format=json"], j, env).run()
            sections.append(meta_section(s))
        if "loocv" not in skip:
            sections.append(loocv_section(loocv_runs(bench, exe, src, out, rounds, env)))
        if "growth" not in skip:
            sections.append(growth_section(growth_runs(bench, exe, out, sizes, rounds, env, rules)))
        if "campaign" not in skip:
            # The 12 Fashion-MNIST tasks of inputs/fashion12.ini, 2 epochs, one rank and thread: the
            # same campaign (one configuration, so every cell also loads its task once) quantized
            # (e4m3/e6m7) and with every format e8m23 (no rounding runs).
            base = [exe, "measure", "--config", os.path.join(src, "inputs", "fashion12.ini"), "--run.threads", "1",
                    "--train.epochs", "2", "--quiet", "--run.progress_interval", "0", "--restart"]
            # Rounds in alternating order, so a load that drifts weighs on both alike.
            def quantized():
                return Suite("campaign-quantized", [*mpi, *base, "--campaign.formats_a", "e4m3",
                                                    "--campaign.formats_b", "e6m7",
                                                    "--output", os.path.join(out, "campaign-quantized.nc")],
                             None, env).run()

            def fp32():
                return Suite("campaign-fp32", [*mpi, *base, "--campaign.formats_a", "e8m23", "--campaign.formats_b",
                                               "e8m23", "--output", os.path.join(out, "campaign-fp32.nc")],
                             None, env).run()
            rounds = []
            for r in range(1 if a.quick else 3):
                if r % 2 == 0:
                    q = quantized()
                    f = fp32()
                else:
                    f = fp32()
                    q = quantized()
                rounds.append((q, f))
            sections.append(campaign_section(rounds, 12))
        if "makespan" not in skip:
            # The paper's 87 x 99 x 10-epoch plan on 256 GPUs: 29 tasks x 3 networks, and 87 tasks of one.
            ref = os.path.join(src, "inputs", "reference", "fashion-small-cnn.nc")
            runs = []
            for label, extra in (("87 × 99 (29 tasks × small-cnn, vit-tiny, mlp)", []),
                                 ("87 × 99 (87 tasks × small-cnn)", ["--tasks", "87", "--models", "small-cnn"])):
                j = os.path.join(out, f"makespan_{len(runs)}.json")
                runs.append((label, Suite("makespan", [os.path.join(bench, "makespan_sim"), "--reference", ref,
                                                       "--ranks", "256", "--epochs", "10", "--configs", "99",
                                                       "--repeats", "3" if a.quick else "20", *extra,
                                                       "--json", j], j).run()))
            sections.append(makespan_section(runs))
    except (RuntimeError, OSError, json.JSONDecodeError) as e:
        print(f"bench_report: {e}", file=sys.stderr)
        return 1
    m = machine()
    body = [BEGIN, "## Summary: every target next to its limit (generated)", "",
            f"Generated by `scripts/bench-report.sh {a.build}{' --quick' if a.quick else ''}` on {start}, "
            f"commit {git_commit(src)}: {m['cpu']}, {m['cores']} cores, {m['memory']}. "
            "Ratios are to limits measured in the same run; the load average before → after each suite is "
            f"next to it (above {m['cores']}: taken under load, read the ratios, not the absolute rates). "
            "The sections after this one are the hand-written history, profiles and explanations.", ""]
    for sec in sections:
        body += sec + [""]
    body.append(END)
    text = "\n".join(body) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    if a.update:
        with open(a.update) as f:
            old = f.read()
        if BEGIN in old and END in old:
            new = old[:old.index(BEGIN)] + text.rstrip("\n") + old[old.index(END) + len(END):]
        else:
            title_end = old.index("\n") + 1 if old.startswith("#") else 0
            new = old[:title_end] + "\n" + text + "\n" + old[title_end:]
        tmp = a.update + ".tmp"
        with open(tmp, "w") as f:
            f.write(new)
        os.replace(tmp, a.update)
        print(f"bench_report: updated {a.update}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
