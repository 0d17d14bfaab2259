#!/usr/bin/env python3
"""Tables of benchmarks/run_multinode_scaling.sh's runs (Markdown).

    benchmarks/scaling_table.py OUT_DIR [--update BENCHMARKS.md]

Reads OUT_DIR/n<nodes>_r<ranks>.json (Google Benchmark: bench_par),
loocv_n<nodes>_r<ranks>.json (bench_loocv) and their .meta.json (load
average, wall time) and prints the tables; --update replaces the text between
<!-- multinode-scaling:begin --> and <!-- multinode-scaling:end --> in the
given file (the markers must be there).
"""
import argparse
import glob
import json
import os
import re
import sys

BEGIN, END = "<!-- multinode-scaling:begin -->", "<!-- multinode-scaling:end -->"


def runs(out, prefix=""):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, prefix + "n*_r*.json"))):
        if path.endswith(".meta.json"):
            continue
        m = re.search(r"(?:^|/)" + prefix + r"n(\d+)_r(\d+)\.json$", path)
        if not m:
            continue
        with open(path) as f:
            bench = {b["name"]: b for b in json.load(f)["benchmarks"]}
        meta_path = path[:-5] + ".meta.json"
        meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
        rows.append((int(m.group(1)), int(m.group(2)), bench, meta))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def find(bench, prefix):
    for name, b in bench.items():
        if name.startswith(prefix):
            return b
    return None


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def tables(rows):
    out = []
    out.append("| nodes | ranks | cells | efficiency | makespan (s) | tail (s) | coordination (s) | overhead/cell (ms) "
               "| queue take (µs) | queue | journal append, background / direct fsync (ms) | gather 16/rank (ms) | load avg |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for nodes, ranks, bench, meta in rows:
        s = find(bench, "BM_CampaignScaling/200/16/")
        q = find(bench, "BM_QueueNext")
        j = find(bench, "BM_JournalAppend/50/1/")
        jd = find(bench, "BM_JournalAppend/50/0/")
        g = find(bench, "BM_GatherRecords/16/")
        g = g if g is None else g  # per-iteration rows: the aggregate is not emitted with Iterations()
        get = lambda b, k: None if b is None else b.get(k)
        kind = None if q is None else ("messages" if q.get("messages_queue", 0) >= 0.5 else "one-sided")
        load = f"{meta.get('load_before', '?')}–{meta.get('load_after', '?')}" if meta else "?"
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            nodes, ranks, fmt(get(s, "cells"), ".0f"), fmt(get(s, "efficiency"), ".3f"),
            fmt(get(s, "makespan_s"), ".2f"), fmt(get(s, "tail_s"), ".3f"), fmt(get(s, "coordination_s"), ".3f"),
            fmt(get(s, "overhead_per_cell_ms"), ".1f"), fmt(get(q, "fetch_us"), ".1f"), kind or "–",
            fmt(get(j, "append_fsync_ms"), ".2f") + " / " + fmt(get(jd, "append_fsync_ms"), ".2f"), fmt(get(g, "gather_ms"), ".2f"), load))
    out.append("")
    out.append("Plan order against the tail (cell time proportional to the plan's cost estimate, mean 0.2 s, "
               "16 cells per rank): the plan's order (by task, most expensive first) against the same cells "
               "reversed (cheapest first, the most expensive last).")
    out.append("")
    out.append("| nodes | ranks | efficiency, plan order | tail (s) | efficiency, reversed | tail (s) |")
    out.append("|---:|---:|---:|---:|---:|---:|")
    for nodes, ranks, bench, meta in rows:
        a = find(bench, "BM_CampaignOrder/200/16/0")
        b = find(bench, "BM_CampaignOrder/200/16/1")
        if a is None and b is None:
            continue
        get = lambda x, k: None if x is None else x.get(k)
        out.append("| {} | {} | {} | {} | {} | {} |".format(
            nodes, ranks, fmt(get(a, "efficiency"), ".3f"), fmt(get(a, "tail_s"), ".3f"),
            fmt(get(b, "efficiency"), ".3f"), fmt(get(b, "tail_s"), ".3f")))
    return "\n".join(out) + "\n"


def mixed_table(rows):
    """BM_CampaignMixed: the same mixed-cost campaign in plan order and in cost order, alternating, in one job."""
    out = ["", "Queue order on a mixed-cost campaign (bench_par BM_CampaignMixed, issue 32): rows task × "
           "{small-cnn, vit-tiny}, 70 % of the tasks at 14 px then 30 % at 28 px, cell times drawn from "
           "inputs/reference/fashion-small-cnn.nc's measured cells (vit-tiny scaled by its activations), mean "
           "as given; plan order, cost order (peppp measure's default: the most expensive rows first by "
           "activations × images) and calibrated cost order (each row's median measured time: run.cost_reference "
           "or a resumed campaign) take turns in the same job; efficiency = max(total / P, longest cell) / "
           "makespan, median (min–max) over the rounds; tail = busiest rank's busy time − the mean.", "",
           "| nodes | ranks | cells | mean cell (s) | rounds | efficiency, plan order | tail (s) "
           "| efficiency, cost order | tail (s) | efficiency, calibrated | tail (s) | load avg |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for nodes, ranks, bench, meta in rows:
        for name, b in sorted(bench.items()):
            if not name.startswith("BM_CampaignMixed/"):
                continue
            load = f"{meta.get('load_before', '?')}–{meta.get('load_after', '?')}" if meta else "?"
            eff = lambda k: "{} ({}–{})".format(fmt(b.get(f"efficiency_{k}"), ".3f"),
                                                 fmt(b.get(f"efficiency_{k}_min"), ".3f"),
                                                 fmt(b.get(f"efficiency_{k}_max"), ".3f"))
            mean = float(name.split("/")[1]) / 1000.0
            out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                nodes, ranks, fmt(b.get("cells"), ".0f"), fmt(mean, ".1f"), fmt(b.get("rounds"), ".0f"), eff("plan"),
                fmt(b.get("tail_plan_s"), ".3f"), eff("cost"), fmt(b.get("tail_cost_s"), ".3f"), eff("calibrated"),
                fmt(b.get("tail_calibrated_s"), ".3f"), load))
    return "\n".join(out) + "\n" if len(out) > 4 else ""


def loocv_table(rows):
    """LOOCV work items: wall time (MAX over ranks), rank 0's CPU, speedup and work split against 1 rank on 1 node."""
    base = None
    for nodes, ranks, bench, meta in rows:
        b = find(bench, "BM_LoocvSettingsIandIV/tasks:40/cv_lambda:1")
        if nodes == 1 and ranks == 1 and b is not None:
            base = b
    out = ["", "LOOCV work items (bench_loocv: settings I + IV, all methods plus the baseline, synthetic 40 × 99, "
           "λ cross-validated in every fold; 560 items and 40 setting-IV completions through the same queue): "
           "wall time is the MAX over ranks; speedup and work split (rank 0's CPU at 1 rank over its CPU here) "
           "are against 1 rank on 1 node. This machine has 2 cores: beyond 2 ranks the ranks share them.", "",
           "| nodes | ranks | wall (s) | CPU of rank 0 (s) | items/s | wall speedup | work split | load avg |",
           "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for nodes, ranks, bench, meta in rows:
        b = find(bench, "BM_LoocvSettingsIandIV/tasks:40/cv_lambda:1")
        if b is None:
            continue
        wall = b["real_time"] / 1000.0  # ms
        cpu = b["cpu_time"] / 1000.0
        speed = None if base is None else base["real_time"] / b["real_time"]
        split = None if base is None else base["cpu_time"] / b["cpu_time"]
        load = f"{meta.get('load_before', '?')}–{meta.get('load_after', '?')}" if meta else "?"
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            nodes, ranks, fmt(wall, ".2f"), fmt(cpu, ".2f"), fmt(b.get("items_per_s"), ".0f"), fmt(speed, ".2f"),
            fmt(split, ".2f"), load))
    return "\n".join(out) + "\n" if len(out) > 6 else ""


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--update")
    a = p.parse_args(argv)
    rows = runs(a.out)
    loocv = runs(a.out, "loocv_")
    if not rows and not loocv:
        print(f"scaling_table.py: no n*_r*.json or loocv_n*_r*.json in {a.out}", file=sys.stderr)
        return 1
    text = (tables(rows) if rows else "") + mixed_table(rows) + loocv_table(loocv)
    print(text)
    if a.update:
        doc = open(a.update).read()
        if BEGIN not in doc or END not in doc:
            print(f"scaling_table.py: {a.update} has no {BEGIN} ... {END} markers", file=sys.stderr)
            return 1
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        open(a.update, "w").write(head + BEGIN + "\n" + text + END + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
