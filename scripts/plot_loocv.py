#!/usr/bin/env python3
"""Meta-LOOCV curves: per setting, each metric against the number of
measurements and against the memory they used, for every method (mean over
folds with the interquartile band), and the selected error / regret bars
with the random-high-memory baseline (the paper's Figures 11 and 12) and
the zero-shot default (METHOD.md F9.3, no training: a dashed line in the
curves, a dotted bar in the selection; files written before it lack it).
Files with `coverage` get a fourth column of curves: the fraction of
unmeasured configurations whose true error lies within 2 predicted std
(the 0.95 of a calibrated Gaussian drawn dotted).

Reads a loocv.nc (DESIGN.md section 5: dims setting, acquisition,
measurements, fold; older files with `method` in place of `acquisition` too)
and writes loocv_curves_<setting>.png and loocv_selection_<setting>.png.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peppp_nc as pn  # noqa: E402
from peppp_nc import plt  # noqa: E402

BASELINE = "random-high-memory"
ZERO_SHOT = "zero-shot"
COVERAGE = ("coverage", "fraction of unmeasured configurations\nwithin 2 predicted std")
METRICS = [("relative_error", "relative error of the prediction\n(||e_hat - e|| / ||e||)"),
           ("convergence", "convergence (normalized\ndistance of frontiers)"),
           ("hyperdiff", "HyperDiff (|HV true - HV est.|)")]
# What the figures draw: the curves' metrics, the memory axis and the bars.
SELECTION = ["selected_error", "best_feasible_error", "regret"]
REQUIRED = [m for m, _ in METRICS] + ["measured_memory"] + SELECTION
DIMS = ("setting", pn.LOOCV_METHOD_DIM, "measurements", "fold")


def load(path):
    ds = pn.loocv_dataset(pn.open_dataset(path, REQUIRED, "the meta-LOOCV figures"))
    for name in REQUIRED:
        dims = ds[name].dims
        if tuple(dims) != DIMS:
            raise pn.InputError(f"{path}: variable '{name}' has dims ({', '.join(dims)}), "
                                f"expected ({', '.join(DIMS)})")
    return ds


def method_style(methods):
    """Fixed colour and marker per method, the baseline in black."""
    out, k = {}, 0
    for m in methods:
        if m == BASELINE:
            out[m] = ("#999999", "x")
        else:
            out[m] = (pn.OKABE_ITO[k % 7], pn.MARKERS[k % len(pn.MARKERS)])
            k += 1
    return out


def band(values):
    """Mean and interquartile range over the last axis (folds), NaN-aware."""
    v = np.asarray(values, float)
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        return np.nanmean(v, -1), np.nanpercentile(v, 25, -1), np.nanpercentile(v, 75, -1)


def zero_shot(ds, name, s):
    """The zero-shot default's values of `name` (e.g. "regret") over the folds of setting s, or None."""
    var = "zero_shot_" + name
    if var not in ds.variables:
        return None
    v = np.asarray(ds[var].values[s], float)
    return v if np.isfinite(v).any() else None


def draw_zero_shot(axes, c, value, handles):
    """The zero-shot default (no measurement): a dashed line over the counts, a point at memory 0."""
    mean = float(np.nanmean(value))
    h = axes[0, c].axhline(mean, color="black", ls="--", lw=1.2, label=ZERO_SHOT + " (no training)")
    axes[1, c].plot([0.0], [mean], marker="D", color="black", ms=6, ls="none")
    if c == 0:
        handles.append(h)


def plot_curves(ds, s, setting, out, pdf=False):
    methods = pn.coord_strings(ds, pn.LOOCV_METHOD_DIM)
    meas = np.asarray(ds["measurements"].values if "measurements" in ds.variables
                      else np.arange(ds.sizes["measurements"]), float)
    styles = method_style(methods)
    mem = np.asarray(ds["measured_memory"].values[s], float)  # acquisition x measurements x fold
    metrics = METRICS + ([COVERAGE] if "coverage" in ds.variables else [])
    fig, axes = plt.subplots(2, len(metrics), figsize=(4.6 * len(metrics), 7.6), squeeze=False)
    handles = []
    for c, (metric, ylabel) in enumerate(metrics):
        val = np.asarray(ds[metric].values[s], float)
        for m, name in enumerate(methods):
            if not np.isfinite(val[m]).any():
                continue  # the baseline measures nothing: it has no curves
            color, marker = styles[name]
            mean, lo, hi = band(val[m])
            h = axes[0, c].plot(meas, mean, marker=marker, color=color, label=name, ms=5)[0]
            axes[0, c].fill_between(meas, lo, hi, color=color, alpha=0.15, lw=0)
            mmean = band(mem[m])[0]
            ok = np.isfinite(mmean) & np.isfinite(mean)
            axes[1, c].plot(mmean[ok], mean[ok], marker=marker, color=color, ms=5)
            axes[1, c].fill_between(mmean[ok], lo[ok], hi[ok], color=color, alpha=0.15, lw=0)
            if c == 0:
                handles.append(h)
        zs = zero_shot(ds, metric, s)
        if zs is not None:
            draw_zero_shot(axes, c, zs, handles)
        if metric == COVERAGE[0]:
            for r in range(2):
                axes[r, c].axhline(0.95, color="#777777", ls=":", lw=1)
        axes[0, c].set_xlabel("number of measurements on the meta-test task")
        axes[1, c].set_xlabel("memory used by the measurements (MiB)")
        for r in range(2):
            axes[r, c].set_ylabel(ylabel)
        axes[0, c].xaxis.get_major_locator().set_params(integer=True)
    for ax in axes.ravel():
        if not ax.lines:
            ax.text(0.5, 0.5, "no finite values", transform=ax.transAxes, ha="center", va="center")
    fig.suptitle(f"Meta-LOOCV, setting {setting}: mean over {ds.sizes['fold']} folds, "
                 "band = interquartile range")
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7), bbox_to_anchor=(0.5, -0.01))
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return pn.save(fig, out, pdf)


def plot_selection(ds, s, setting, out, at=None, pdf=False):
    methods = pn.coord_strings(ds, pn.LOOCV_METHOD_DIM)
    meas = list(np.asarray(ds["measurements"].values).tolist() if "measurements" in ds.variables
                else range(ds.sizes["measurements"]))
    styles = method_style(methods)
    if at is None:
        li = len(meas) - 1
    elif at in meas:
        li = meas.index(at)
    else:
        raise pn.InputError(f"--at {at}: not a number of measurements in the file (have {meas})")
    sel = np.asarray(ds["selected_error"].values[s], float)
    reg = np.asarray(ds["regret"].values[s], float)
    best = np.asarray(ds["best_feasible_error"].values[s], float)
    zero = {"selected_error": zero_shot(ds, "selected_error", s), "regret": zero_shot(ds, "regret", s)}
    if zero["regret"] is not None:
        # The zero-shot default as one more bar (the same at every count): its folds in place of the counts.
        methods = methods + [ZERO_SHOT]
        styles[ZERO_SHOT] = ("#ffffff", "D")
        sel = np.concatenate([sel, np.broadcast_to(zero["selected_error"], (1, sel.shape[1], sel.shape[2]))])
        reg = np.concatenate([reg, np.broadcast_to(zero["regret"], (1, reg.shape[1], reg.shape[2]))])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(max(8, 1.5 * len(methods) + 4), 4.6))
    x = np.arange(len(methods))
    for ax, data, ylabel in [(ax1, sel, "test error of the selected configuration"),
                             (ax2, reg, "regret (selected - best feasible error)")]:
        for m, name in enumerate(methods):
            v = data[m, li]
            if name == BASELINE and not np.isfinite(v).any():
                # the baseline does not depend on the measurements: take any finite column
                cols = [k for k in range(data.shape[1]) if np.isfinite(data[m, k]).any()]
                if cols:
                    v = data[m, cols[0]]
            v = v[np.isfinite(v)]
            color, _ = styles[name]
            if v.size == 0:
                ax.text(m, 0, "n/a", ha="center", va="bottom", fontsize=8)
                continue
            hatch = "//" if name == BASELINE else (".." if name == ZERO_SHOT else None)
            ax.bar(m, v.mean(), width=0.7, color=color, alpha=0.85, hatch=hatch, edgecolor="black", lw=0.6)
            ax.errorbar(m, v.mean(), yerr=v.std(), color="black", capsize=4, lw=1)
        ax.set_xlim(-0.5 - 0.5 * max(0, 3 - len(methods)), len(methods) - 0.5 + 0.5 * max(0, 3 - len(methods)))
        ax.set_xticks(x)
        ax.set_xticklabels(methods, rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_xlabel("method")
    b = best[:, li]
    b = b[np.isfinite(b)]
    if b.size:
        ax1.axhline(b.mean(), color="black", ls="--", lw=1, label="best feasible (mean)")
        ax1.legend(loc="upper left")
    fig.suptitle(f"Meta-LOOCV, setting {setting}: selected configuration after {meas[li]} measurements "
                 f"(mean ± std over folds)")
    fig.tight_layout()
    return pn.save(fig, out, pdf)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="loocv.nc")
    p.add_argument("-o", "--output-dir", default="figures", help="folder for the PNGs (default: figures)")
    p.add_argument("--at", type=int, help="number of measurements for the selection bars (default: the largest)")
    p.add_argument("--pdf", action="store_true", help="also write PDF next to each PNG")
    args = p.parse_args()
    pn.style()
    ds = load(args.file)
    for s, setting in enumerate(pn.coord_strings(ds, "setting")):
        tag = pn.safe_name(setting)
        print(plot_curves(ds, s, setting, os.path.join(args.output_dir, f"loocv_curves_{tag}.png"), args.pdf))
        print(plot_selection(ds, s, setting, os.path.join(args.output_dir, f"loocv_selection_{tag}.png"),
                             args.at, args.pdf))
    return 0


if __name__ == "__main__":
    pn.run_main(main)
