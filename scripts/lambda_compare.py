#!/usr/bin/env python3
"""Compare two `peppp loocv --verbose` runs (A: --lambda auto, B: another λ rule) fold by fold.

    /usr/bin/python3 scripts/lambda_compare.py A.log A.nc B.log B.nc

A, B: `peppp loocv ... --verbose --output X.nc > X.log 2>&1` on one rank (the log's CV lines in plan order).

Per CV (scheme, fold, paper/centered): the λ of each run (B's from its CV lines: one per scheme
for --lambda once, one per block of folds for --lambda-cv-folds); where they differ, whether B's λ is
within one standard error of A's minimum on A's CV curve of that fold. Per (setting, method, count,
fold) of loocv.nc: picks and regrets that differ. `--list` (5th argument) prints every λ difference.
"""
import re
import sys
from collections import defaultdict

import numpy as np
import netCDF4

LINE = re.compile(r"loocv: fold (\d+) repeat (\d+) (paper|centered) cv lambda (\S+) curve (.*)$")
BLOCK = re.compile(r"loocv: block (\d+) \(folds (\d+)\.\.(\d+)\) repeat (\d+) (paper|centered) cv lambda (\S+) curve")


def blocks(path):
    """{(scheme occurrence, repeat, which): [(first fold, last fold, lambda)]} of --lambda-cv-folds CV lines."""
    seen = defaultdict(int)
    out = defaultdict(list)
    for line in open(path, errors="replace"):
        m = BLOCK.search(line)
        if not m:
            continue
        block, lo, hi, rep, which = int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5)
        scheme = seen[(block, rep, which)]
        seen[(block, rep, which)] += 1
        out[(scheme, rep, which)].append((lo, hi, float(m.group(6))))
    return out


def cvs(path):
    """[(scheme occurrence, fold, repeat, which) -> (lambda, {grid: (err, se)})] in log order."""
    seen = defaultdict(int)
    out = {}
    for line in open(path, errors="replace"):
        m = LINE.search(line)
        if not m:
            continue
        fold, rep, which, lam = int(m.group(1)), int(m.group(2)), m.group(3), float(m.group(4))
        key = (fold, rep, which)
        scheme = seen[key]
        seen[key] += 1
        curve = {}
        for item in m.group(5).split():
            g, rest = item.split(":")
            e, se = rest.split("+-")
            curve[float(g)] = (float(e), float(se))
        out[(scheme, fold, rep, which)] = (lam, curve)
    return out


def main(a_log, a_nc, b_log, b_nc, *flags):
    a, b, b_blocks = cvs(a_log), cvs(b_log), blocks(b_log)
    once = {}
    for (scheme, fold, rep, which), v in b.items():
        once.setdefault((scheme, rep, which), v[0])
    n = same = within = unreached = 0
    worst = 0.0
    for key, (lam_a, curve) in sorted(a.items()):
        scheme, fold, rep, which = key
        lam_b = b[key][0] if key in b else once.get((scheme, rep, which))
        for lo, hi, lam in b_blocks.get((scheme, rep, which), []):
            if lo <= fold <= hi:
                lam_b = lam
        if lam_b is None:
            continue
        n += 1
        if lam_b == lam_a:
            same += 1
            continue
        ea, sa = curve[lam_a]
        eb = curve.get(lam_b, (float("nan"), 0))[0]
        if np.isnan(eb):
            unreached += 1
        elif eb - ea <= sa:
            within += 1
        worst = max(worst, (eb - ea) / sa if sa > 0 and not np.isnan(eb) else 0)
        if "--list" in flags:
            print(f"  scheme {scheme} fold {fold} repeat {rep} {which}: lambda A {lam_a:g} B {lam_b:g}; "
                  f"(eB - eA)/SE {(eb - ea) / sa if sa > 0 else float('nan'):.2f}")
    print(f"CVs: {n}; same lambda {same}; different {n - same}: B's lambda within one SE of A's minimum {within}, "
          f"beyond {n - same - within - unreached}, not reached by A's path {unreached}; worst (eB - eA)/SE {worst:.2f}")
    da, db = netCDF4.Dataset(a_nc), netCDF4.Dataset(b_nc)
    sa, sb = da["selected_config"][:], db["selected_config"][:]
    ra, rb = da["regret"][:], db["regret"][:]
    settings = list(da["setting"][:])
    diff_pick = sa != sb
    diff_regret = ~np.isclose(ra, rb, rtol=0, atol=0, equal_nan=True)
    print(f"entries (setting, method, count, fold): {sa.size}; picks differ {int(diff_pick.sum())}; "
          f"regrets differ {int(diff_regret.sum())}; mean regret A {np.nanmean(ra):.5f} B {np.nanmean(rb):.5f}")
    for s, name in enumerate(settings):
        print(f"  setting {name}: picks differ {int(diff_pick[s].sum())} of {diff_pick[s].size}, "
              f"mean regret A {np.nanmean(ra[s]):.5f} B {np.nanmean(rb[s]):.5f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
