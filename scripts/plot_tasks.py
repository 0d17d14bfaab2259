#!/usr/bin/env python3
"""Task similarity and low-rank structure of the error matrix: Kendall tau-b
between the tasks' error rows, ordered by similarity, and the singular-value
decay with the explained variance (the paper's Figures 6 and 14).

Reads a campaign.nc (measured errors) or a completed.nc (estimated errors) and
writes tasks_kendall.png and tasks_singular_values.png.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peppp_nc as pn  # noqa: E402
from peppp_nc import plt  # noqa: E402


def kendall_tau_b(rows):
    """Kendall tau-b between every pair of rows of `rows` (n x d), each pair
    over the columns finite in both rows (METHOD.md F5.3). NaN where a row is
    constant on the common columns or fewer than two columns are common."""
    x = np.asarray(rows, float)
    n, d = x.shape
    iu, ju = np.triu_indices(d, 1)
    finite = np.isfinite(x)
    sign = np.sign(np.where(finite, x, 0.0)[:, iu] - np.where(finite, x, 0.0)[:, ju])
    valid = (finite[:, iu] & finite[:, ju]).astype(float)
    sign *= valid
    num = sign @ sign.T                    # concordant - discordant, pairs valid in both rows
    untied = np.abs(sign)
    n_x = untied @ valid.T                 # pairs valid in both and untied in row a
    n_y = valid @ untied.T                 # ... untied in row b
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = num / np.sqrt(n_x * n_y)
    tau[(n_x == 0) | (n_y == 0)] = np.nan
    return tau


def similarity_order(tau):
    """Spectral seriation: order tasks along the Fiedler vector of the
    similarity graph, so that similar tasks sit next to each other."""
    n = tau.shape[0]
    if n <= 2:
        return np.arange(n)
    s = np.nan_to_num((tau + 1.0) / 2.0, nan=0.0)
    np.fill_diagonal(s, 0.0)
    lap = np.diag(s.sum(axis=1)) - s
    _, vecs = np.linalg.eigh(lap)
    f = vecs[:, 1]
    if f[np.argmax(np.abs(f))] < 0:  # fix the eigenvector's sign
        f = -f
    return np.lexsort((np.arange(n), np.round(f, 12)))


def complete_block(e):
    """The largest block of tasks x configurations with every entry finite:
    drop configurations never finite, then tasks with a missing entry, then
    configurations missing in the remaining tasks."""
    rows = np.arange(e.shape[0])
    cols = np.flatnonzero(np.isfinite(e).any(axis=0))
    rows = rows[np.isfinite(e[:, cols]).all(axis=1)] if cols.size else rows[:0]
    if rows.size < 2:  # too few complete tasks: keep the tasks, drop configurations instead
        rows = np.flatnonzero(np.isfinite(e).any(axis=1))
        cols = np.flatnonzero(np.isfinite(e[rows]).all(axis=0))
    return rows, cols


def load_matrix(path):
    ds = pn.open_dataset(path)
    kind = pn.file_kind(ds)
    if kind == "completed":
        pn.require(ds, path, ["error_estimate"], "the task heatmap")
        e, source = np.asarray(ds["error_estimate"].values, float), "estimated errors (completed)"
    elif kind == "campaign":
        pn.require(ds, path, ["error"], "the task heatmap")
        e, source = np.asarray(ds["error"].values, float), "measured errors"
    else:
        raise pn.InputError(f"{path}: missing variable 'error' (needed for the task heatmap; "
                            "give a campaign.nc or completed.nc)")
    if e.ndim != 2:
        raise pn.InputError(f"{path}: 'error' must have dims (task, config), has {e.ndim} dims")
    return e, pn.task_names(ds), source


def plot_kendall(e, names, source, out, pdf=False):
    tau = kendall_tau_b(e)
    order = similarity_order(tau)
    t = tau[np.ix_(order, order)]
    labels = [names[i] for i in order]
    n = len(labels)
    size = min(4.0 + 0.28 * n, 16.0)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    cmap = plt.get_cmap("RdBu_r").copy()  # diverging, colour-blind safe (ColorBrewer)
    cmap.set_bad("#BBBBBB")
    im = ax.imshow(np.ma.masked_invalid(t), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    step = max(1, n // 40)
    ticks = np.arange(0, n, step)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xticklabels([labels[i] for i in ticks], rotation=90, fontsize=7 if n > 15 else 8)
    ax.set_yticklabels([labels[i] for i in ticks], fontsize=7 if n > 15 else 8)
    ax.grid(False)
    if n <= 12:
        for a in range(n):
            for b in range(n):
                txt = "n/a" if not np.isfinite(t[a, b]) else f"{t[a, b]:.2f}"
                ax.text(b, a, txt, ha="center", va="center", fontsize=7,
                        color="white" if np.isfinite(t[a, b]) and abs(t[a, b]) > 0.6 else "black")
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label("Kendall tau-b (1 = same ranking of configurations)")
    ax.set_title(f"Task similarity over configurations, {source}\n(tasks ordered by similarity; grey = undefined)")
    ax.set_xlabel("task")
    ax.set_ylabel("task")
    pn.save(fig, out, pdf)
    return tau, order


def mean_filled(e):
    """Missing entries replaced by their configuration's mean (else the task's,
    else the overall mean): a rough stand-in for a completion."""
    f = np.array(e, float)
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        col = np.nanmean(f, axis=0)
        row = np.nanmean(f, axis=1)
        allm = np.nanmean(f)
    f = np.where(np.isfinite(f), f, col[None, :])
    f = np.where(np.isfinite(f), f, row[:, None])
    return np.where(np.isfinite(f), f, allm)


def plot_singular(e, source, out, pdf=False):
    rows, cols = complete_block(e)
    if (rows.size < 2 or cols.size < 2) and np.isfinite(e).sum() >= 4:
        # too little fully measured: decompose a mean-filled matrix, and say so
        e = mean_filled(e)
        rows, cols = np.arange(e.shape[0]), np.arange(e.shape[1])
        source += "\nmissing entries filled with configuration means (approximate: plot completed.nc)"
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    if rows.size == 0 or cols.size == 0:
        for ax in (ax1, ax2):
            ax.text(0.5, 0.5, "no fully measured block of tasks x configurations:\n"
                    "plot the completed.nc to see the singular values", ha="center",
                    va="center", transform=ax.transAxes)
            ax.set_axis_off()
        s = np.array([])
    else:
        s = np.linalg.svd(e[np.ix_(rows, cols)], compute_uv=False)
        k = np.arange(1, s.size + 1)
        ax1.semilogy(k, np.maximum(s, 1e-16), marker="o", color=pn.OKABE_ITO[0])
        ax1.set_xlabel("index i")
        ax1.set_ylabel(r"singular value $\sigma_i$ (error units, log scale)")
        ax1.set_title("Singular-value decay")
        ev = np.cumsum(s ** 2) / np.sum(s ** 2) if np.sum(s ** 2) > 0 else np.zeros_like(s)
        ax2.plot(k, 100 * ev, marker="s", color=pn.OKABE_ITO[1], label="explained variance EV(k)")
        for thr, ls in [(90, ":"), (99, "--")]:
            ax2.axhline(thr, color="black", ls=ls, lw=0.8, label=f"{thr} %")
        if s.size >= 3:
            ax2.annotate(f"rank 3: {100 * ev[2]:.1f} %", (3, 100 * ev[2]), xytext=(20, -40),
                         textcoords="offset points", arrowprops=dict(arrowstyle="->", lw=0.8))
        ax2.set_xlabel("rank k")
        ax2.set_ylabel(r"explained variance (% of $\sum_i \sigma_i^2$)")
        ax2.set_ylim(min(100 * ev[0] - 5, 90) if ev.size else 0, 100.5)
        ax2.set_title("Explained variance (no centering)")
        ax2.legend(loc="lower right")
        for ax in (ax1, ax2):
            ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(f"Error matrix ({rows.size} tasks x {cols.size} configurations), {source}")
    fig.tight_layout()
    pn.save(fig, out, pdf)
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="campaign.nc or completed.nc")
    p.add_argument("-o", "--output-dir", default="figures", help="folder for the PNGs (default: figures)")
    p.add_argument("--pdf", action="store_true", help="also write PDF next to each PNG")
    args = p.parse_args()
    pn.style()
    e, names, source = load_matrix(args.file)
    a = os.path.join(args.output_dir, "tasks_kendall.png")
    b = os.path.join(args.output_dir, "tasks_singular_values.png")
    plot_kendall(e, names, source, a, args.pdf)
    plot_singular(e, source, b, args.pdf)
    print(a)
    print(b)
    return 0


if __name__ == "__main__":
    pn.run_main(main)
