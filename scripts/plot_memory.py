#!/usr/bin/env python3
"""Training-memory breakdown per configuration for a task: weights,
activations and optimizer state, stacked (the paper's Figure 5).

Reads a campaign.nc or the memory.nc of `peppp memory` (memory_weights,
memory_activations, memory_optimizer with dims task, config; MiB) and writes
memory_<task>.png for each task asked for (default: every task).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peppp_nc as pn  # noqa: E402
from peppp_nc import plt  # noqa: E402

PARTS = [("memory_weights", "weights (format A)", pn.OKABE_ITO[0], None),
         ("memory_activations", "activations (format A)", pn.OKABE_ITO[1], "//"),
         ("memory_optimizer", "optimizer state (format B)", pn.OKABE_ITO[2], "..")]


def plot_task(labels, parts, task, out, sort=False, pdf=False, budget=None):
    d = len(labels)
    total = sum(parts)
    order = np.lexsort((np.arange(d), total)) if sort else np.arange(d)
    horizontal = d > 30  # many configurations: one readable row each
    # Per-role labels (docs/roles.md, e4m3[first=e8m7,last=e8m7]/e6m7) are longer: room for them
    # beside (or below) the bars, so that the bars keep their size; the paper's labels add nothing.
    extra = 0.07 * max(0, max((len(s) for s in labels), default=0) - 21)
    if horizontal:
        fig, ax = plt.subplots(figsize=(8.5 + extra, 2.0 + 0.15 * d))
    else:
        fig, ax = plt.subplots(figsize=(max(6.0, 3 + 0.35 * d), 5.2 + extra))
    bottom = np.zeros(d)
    x = np.arange(d)
    for (name, legend, color, hatch), values in zip(PARTS, parts):
        v = np.nan_to_num(values[order])
        kw = dict(color=color, hatch=hatch, edgecolor="white", lw=0.3, label=legend)
        if horizontal:
            ax.barh(x, v, left=bottom, height=0.8, **kw)
        else:
            ax.bar(x, v, bottom=bottom, width=0.8, **kw)
        bottom += v
    line = ax.axvline if horizontal else ax.axhline
    if budget is not None:
        line(budget, color="black", ls=":", lw=1.2, label=f"budget {budget:.3g} MiB")
    names = [labels[j] for j in order]
    cfg_label = "configuration (format A / format B)" + (", sorted by total memory" if sort else "")
    mem_label = "training memory (MiB)"
    if horizontal:
        ax.set_yticks(x)
        ax.set_yticklabels(names, fontsize=7, family="monospace")
        ax.set_ylim(d - 0.4, -0.6)
        ax.set_ylabel(cfg_label)
        ax.set_xlabel(mem_label)
        ax.grid(axis="y", visible=False)
    else:
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=90, fontsize=8, family="monospace")
        ax.set_xlim(-0.6, d - 0.4)
        ax.set_xlabel(cfg_label)
        ax.set_ylabel(mem_label)
        ax.grid(axis="x", visible=False)
    share = np.nansum(parts[1]) / np.nansum(total) if np.nansum(total) > 0 else np.nan
    ax.set_title(f"Memory breakdown, task {task} (activations: {100 * share:.0f} % of the total)")
    if horizontal:  # above the bars, never over them
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
        ax.set_title(ax.get_title(), pad=34)
    else:
        ax.legend(loc="upper left")
    fig.tight_layout()
    return pn.save(fig, out, pdf)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="campaign.nc or memory.nc")
    p.add_argument("-o", "--output-dir", default="figures", help="folder for the PNGs (default: figures)")
    p.add_argument("--task", action="append", help="plot only this task (repeatable; default: every task)")
    p.add_argument("--sort", action="store_true", help="sort configurations by total memory")
    p.add_argument("--budget", type=float, help="draw a memory budget line (MiB)")
    p.add_argument("--pdf", action="store_true", help="also write PDF next to each PNG")
    args = p.parse_args()
    pn.style()
    ds = pn.open_dataset(args.file, [n for n, *_ in PARTS], "the memory breakdown")
    labels = pn.config_labels(ds)
    names = pn.task_names(ds)
    values = [np.atleast_2d(np.asarray(ds[n].values, float)) for n, *_ in PARTS]
    wanted = args.task or names
    for t in wanted:
        if t not in names:
            raise pn.InputError(f"--task {t}: not a task of {args.file} (tasks: {', '.join(names[:10])})")
        i = names.index(t)
        out = os.path.join(args.output_dir, f"memory_{pn.safe_name(t)}.png")
        print(plot_task(labels, [v[i] for v in values], t, out, args.sort, args.pdf, args.budget))
    return 0


if __name__ == "__main__":
    pn.run_main(main)
