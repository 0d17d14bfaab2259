#!/usr/bin/env python3
"""Test error vs training memory per task: every configuration, measured vs
predicted, the true and estimated Pareto frontiers, the memory budget and the
recommended configuration (the paper's Figures 1a, 7 and 10b).

Reads a campaign.nc, completed.nc or selection.nc (DESIGN.md section 5) and
writes one PNG per task, frontier_<task>.png, plus frontier_overview.png with
the first tasks side by side.
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peppp_nc as pn  # noqa: E402
from peppp_nc import plt  # noqa: E402
from matplotlib import patheffects  # noqa: E402

C_MEASURED, C_PREDICTED, C_FAILED, C_TRUTH, C_PICK = pn.OKABE_ITO[0], pn.OKABE_ITO[1], pn.OKABE_ITO[3], "#999999", pn.OKABE_ITO[4]


class TaskView:
    """What one panel shows; arrays have one entry per configuration."""

    def __init__(self, name, labels, memory):
        self.name = name
        self.labels = labels
        self.memory = np.asarray(memory, float)
        d = self.memory.size
        self.measured = np.zeros(d, bool)      # error known from training
        self.true_error = np.full(d, np.nan)   # measured (or full-truth) error
        self.estimate = None                   # predicted error, or None
        self.failed = np.zeros(d, bool)        # diverged / failed cells
        self.true_front = None                 # mask
        self.true_front_label = "true Pareto frontier"
        self.est_front = None                  # mask
        self.budget = None
        self.pick = None                       # index of the recommended configuration
        self.pick_error = None


def views_from_campaign(ds, path, budget):
    pn.require(ds, path, ["error", "memory"], "the error-memory scatter")
    labels = pn.config_labels(ds)
    err = np.asarray(ds["error"].values, float)
    mem = np.asarray(ds["memory"].values, float)
    status = np.asarray(ds["status"].values) if "status" in ds.variables else None
    if budget is None:
        budget = float(np.nanmedian(mem))  # the paper's cap: median of the memory matrix
    views = []
    for i, name in enumerate(pn.task_names(ds)):
        v = TaskView(name, labels, mem[i])
        if status is not None:
            v.measured = (status[i] == pn.STATUS_MEASURED) & np.isfinite(err[i])
            v.failed = (status[i] == pn.STATUS_DIVERGED) | (status[i] == pn.STATUS_FAILED)
        else:
            v.measured = np.isfinite(err[i])
        v.true_error = np.where(v.measured, err[i], np.nan)
        v.true_front = pn.pareto_mask(v.memory, v.true_error)
        if not v.measured.all():
            v.true_front_label = "Pareto frontier of the measured"
        v.budget = budget
        v.pick = pn.recommend(v.memory, v.true_error, budget)
        v.pick_error = v.true_error[v.pick] if v.pick is not None else None
        views.append(v)
    return views


def views_from_completed(ds, path, campaign, campaign_path, budget):
    pn.require(ds, path, ["error_estimate", "error_observed"], "the estimated frontier")
    if "memory" in ds.variables:
        mem = np.asarray(ds["memory"].values, float)
    elif campaign is not None:
        pn.require(campaign, campaign_path, ["memory"], "the memory axis")
        mem = np.asarray(campaign["memory"].values, float)
    else:
        raise pn.InputError(f"{path}: missing variable 'memory' (needed for the memory axis; "
                            "pass --campaign campaign.nc)")
    est = np.asarray(ds["error_estimate"].values, float)
    obs = np.asarray(ds["error_observed"].values, float)
    if mem.shape != est.shape:
        raise pn.InputError(f"{path}: 'error_estimate' has shape {est.shape} but the memory "
                            f"matrix has {mem.shape}")
    truth = obs
    if campaign is not None and "error" in campaign.variables:
        truth = np.where(np.isfinite(obs), obs, np.asarray(campaign["error"].values, float))
    ptrue = np.asarray(ds["pareto_true"].values) == 1 if "pareto_true" in ds.variables else None
    pest = np.asarray(ds["pareto_estimate"].values) == 1 if "pareto_estimate" in ds.variables else None
    if budget is None:
        budget = float(np.nanmedian(mem))
    labels = pn.config_labels(ds)
    views = []
    for i, name in enumerate(pn.task_names(ds)):
        v = TaskView(name, labels, mem[i])
        v.measured = np.isfinite(obs[i])
        v.true_error = truth[i]
        v.estimate = est[i]
        if ptrue is not None:
            v.true_front = ptrue[i] & np.isfinite(truth[i])
        else:
            v.true_front = pn.pareto_mask(v.memory, truth[i])
            if not np.isfinite(truth[i]).all():
                v.true_front_label = "Pareto frontier of the measured"
        v.est_front = pest[i] if pest is not None else pn.pareto_mask(v.memory, est[i])
        v.budget = budget
        v.pick = pn.recommend(v.memory, est[i], budget)
        v.pick_error = est[i][v.pick] if v.pick is not None else None
        views.append(v)
    return views


def views_from_selection(ds, path, budget):
    pn.require(ds, path, ["memory", "predicted_error"], "the selection frontier")
    labels = pn.config_labels(ds)
    mem = np.asarray(ds["memory"].values, float)
    est = np.asarray(ds["predicted_error"].values, float)
    v = TaskView(str(ds.attrs.get("task", "new task")), labels, mem)
    v.estimate = est
    if "measured" in ds.variables:
        v.measured = np.asarray(ds["measured"].values) == 1
    if "measured_error" in ds.variables:
        v.true_error = np.where(v.measured, np.asarray(ds["measured_error"].values, float), np.nan)
    v.est_front = (np.asarray(ds["pareto_estimate"].values) == 1 if "pareto_estimate" in ds.variables
                   else pn.pareto_mask(mem, est))
    if budget is None:
        budget = float(ds.attrs["budget"]) if "budget" in ds.attrs else float(np.nanmedian(mem))
    v.budget = budget
    rec = ds.attrs.get("recommended_config")
    if rec is not None:
        rec = str(rec)
        if rec in labels:
            v.pick = labels.index(rec)
        elif rec.lstrip("-").isdigit() and 0 <= int(rec) < len(labels):
            v.pick = int(rec)
    if v.pick is None:
        v.pick = pn.recommend(mem, est, budget)
    v.pick_error = est[v.pick] if v.pick is not None else None
    return [v]


def draw(ax, v, annotate=True, legend=True):
    mem = v.memory
    handles = []
    fail_y = 1.0
    if v.estimate is not None:
        known = ~v.measured & np.isfinite(v.true_error)
        if known.any():  # full truth available for the configurations never measured
            handles.append(ax.scatter(mem[known], v.true_error[known], s=14, color=C_TRUTH, marker=".",
                                      label="true error (not measured)", zorder=2))
        pred = ~v.measured & np.isfinite(v.estimate)
        if pred.any():
            handles.append(ax.scatter(mem[pred], v.estimate[pred], s=30, facecolors="none",
                                      edgecolors=C_PREDICTED, marker="^", linewidths=1.2,
                                      label="predicted", zorder=3))
    meas = v.measured & np.isfinite(v.true_error)
    if meas.any():
        handles.append(ax.scatter(mem[meas], v.true_error[meas], s=26, color=C_MEASURED, marker="o",
                                  label="measured", zorder=4))
    if v.failed.any():
        handles.append(ax.scatter(mem[v.failed], np.full(v.failed.sum(), fail_y), s=30, color=C_FAILED,
                                  marker="x", label="diverged / failed (shown at 1.0)", zorder=4))
    if v.true_front is not None and v.true_front.any():
        h = pn.frontier_line(ax, mem, v.true_error, v.true_front, color=C_MEASURED, lw=1.6,
                             label=v.true_front_label, zorder=3)
        handles.append(h)
    if v.est_front is not None and v.estimate is not None and v.est_front.any():
        h = pn.frontier_line(ax, mem, v.estimate, v.est_front, color=C_PREDICTED, lw=1.6, ls="--",
                             label="estimated Pareto frontier", zorder=3)
        handles.append(h)
    if v.budget is not None and np.isfinite(v.budget):
        handles.append(ax.axvline(v.budget, color="black", ls=":", lw=1.2,
                                  label=f"budget {v.budget:.3g} MiB"))
    if v.pick is not None:
        handles.append(ax.scatter([mem[v.pick]], [v.pick_error], s=180, marker="*", color=C_PICK,
                                  edgecolors="black", linewidths=0.6, zorder=6,
                                  label=f"recommended {v.labels[v.pick]}"))
    ax.set_xscale("log")
    ax.set_xlabel("training memory (MiB, log scale)")
    ax.set_ylabel("test error (misclassification rate)")
    title = v.name
    finite = np.isfinite(v.true_error).any() or (v.estimate is not None and np.isfinite(v.estimate).any())
    if not finite:
        ax.text(0.5, 0.3, "no finite error:\nevery configuration diverged or failed",
                transform=ax.transAxes, ha="center", va="center", fontsize=10,
                bbox=dict(facecolor="white", edgecolor=C_FAILED))
        fm = mem[np.isfinite(mem) & (mem > 0)]
        if not v.failed.any() and fm.size:
            ax.set_xlim(fm.min() / 1.1, fm.max() * 1.1)
    ax.set_title(title)
    if v.failed.any():
        ax.set_ylim(top=1.05)
        if not finite:
            ax.set_ylim(0, 1.05)
    pn.log_memory_axis(ax)
    if annotate:
        front = v.est_front if (v.est_front is not None and v.estimate is not None) else v.true_front
        yvals = v.estimate if (v.est_front is not None and v.estimate is not None) else v.true_error
        if front is not None:
            idx = np.flatnonzero(front & np.isfinite(yvals))
            idx = idx[np.lexsort((yvals[idx], mem[idx]))]
            # Label frontier points, skipping any too close to a label already placed
            # (many configurations share a memory value, F2).
            placed = []
            for j in idx:
                x, y = ax.transData.transform((mem[j], yvals[j]))
                if any(abs(x - px) < 70 and abs(y - py) < 12 for px, py in placed):
                    continue
                placed.append((x, y))
                ax.annotate(v.labels[j], (mem[j], yvals[j]), xytext=(4, 4), textcoords="offset points",
                            fontsize=7, color="#222222",
                            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
    if legend and handles:
        ax.legend(handles=handles, loc="best")
    return handles


def plot(views, outdir, pdf=False, overview_max=6, per_task_max=None):
    """One PNG per task (the first `per_task_max` tasks when given) and an
    overview of the first `overview_max` tasks; returns the paths written."""
    pn.style()
    written = []
    for v in views[:per_task_max]:
        fig, ax = plt.subplots(figsize=(7.5, 5.0))
        draw(ax, v)
        written.append(pn.save(fig, os.path.join(outdir, f"frontier_{pn.safe_name(v.name)}.png"), pdf))
    shown = views[:overview_max]
    if len(shown) > 1:
        cols = min(3, len(shown))
        rows = math.ceil(len(shown) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.0 * rows), squeeze=False)
        handles = {}
        for ax, v in zip(axes.ravel(), shown):
            for h in draw(ax, v, annotate=False, legend=False):
                lab = h.get_label()
                key = "budget" if lab.startswith("budget") else ("recommended" if lab.startswith("recommended") else lab)
                handles.setdefault(key, h)
        for ax in axes.ravel()[len(shown):]:
            ax.set_visible(False)
        for k, h in handles.items():
            if k == "recommended":
                h.set_label("recommended configuration")
            elif k == "budget":
                h.set_label("memory budget")
        fig.legend(handles=list(handles.values()), loc="lower center", ncol=min(4, len(handles)),
                   bbox_to_anchor=(0.5, -0.02))
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        written.append(pn.save(fig, os.path.join(outdir, "frontier_overview.png"), pdf))
    return written


def load_views(path, campaign_path=None, budget=None, tasks=None):
    ds = pn.open_dataset(path)
    kind = pn.file_kind(ds)
    if kind == "campaign":
        views = views_from_campaign(ds, path, budget)
    elif kind == "completed":
        campaign = pn.open_dataset(campaign_path) if campaign_path else None
        views = views_from_completed(ds, path, campaign, campaign_path, budget)
    elif kind == "selection":
        views = views_from_selection(ds, path, budget)
    else:
        raise pn.InputError(f"{path}: missing variable 'error', 'error_estimate' or 'predicted_error' "
                            "(not a campaign, completed or selection file)")
    if tasks:
        names = [v.name for v in views]
        for t in tasks:
            if t not in names:
                raise pn.InputError(f"--task {t}: not a task of {path} (tasks: {', '.join(names[:10])})")
        views = [v for v in views if v.name in tasks]
    return views


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="campaign.nc, completed.nc or selection.nc")
    p.add_argument("-o", "--output-dir", default="figures", help="folder for the PNGs (default: figures)")
    p.add_argument("--campaign", help="campaign.nc giving memory and true errors for a completed.nc")
    p.add_argument("--budget", type=float, help="memory budget in MiB (default: the file's budget "
                   "attribute, else the median of the memory matrix)")
    p.add_argument("--task", action="append", help="plot only this task (repeatable)")
    p.add_argument("--pdf", action="store_true", help="also write PDF next to each PNG")
    args = p.parse_args()
    views = load_views(args.file, args.campaign, args.budget, args.task)
    for f in plot(views, args.output_dir, args.pdf):
        print(f)
    return 0


if __name__ == "__main__":
    pn.run_main(main)
