#!/usr/bin/env python3
"""The demo's two figures, to be read at a glance.

demo_loocv.png, from a loocv.nc (DESIGN.md section 5): per setting, the regret
of the pick under the budget and the relative error of the estimate against the
number of measurements; one line per acquisition method (mean over folds, band
± one standard error), the random-high-memory baseline as a grey band and
the zero-shot default (METHOD.md F9.3: no training; loocv.nc's zero_shot_*
variables, absent from older files) as a black dashed line with its band.
demo_select.png, from a selection.nc and ROW.nc (a campaign.nc of that task
measured on every configuration afterwards): error vs memory, the true errors
and frontier, the estimated frontier ± 1 std, the trained configurations, the
pick and the budget. Markdown tables of both go to stdout.
"""
import argparse
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore", category=RuntimeWarning)  # all-NaN slices give NaN, as meant
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peppp_nc as pn  # noqa: E402
from peppp_nc import plt  # noqa: E402

BASELINE = "random-high-memory"
ZERO_SHOT = "zero-shot"
DIMS = ("setting", pn.LOOCV_METHOD_DIM, "measurements", "fold")
COLOURS = {"ed-mf": pn.OKABE_ITO[0], "random-mf": pn.OKABE_ITO[1], "qr-mf": pn.OKABE_ITO[2],
           "ei-mf": pn.OKABE_ITO[3], "bo-mf": pn.OKABE_ITO[4], "bo-full": pn.OKABE_ITO[5]}
METRICS = [("regret", "regret of the pick", "regret (true error of the pick\n− best feasible true error)"),
           ("relative_error", "relative error of the estimate", "relative error ‖ê − e‖ / ‖e‖")]


def mean_se(v):
    """Mean, standard error (std ddof=1 / sqrt(n)) and n over the last axis (folds), NaN-aware."""
    v = np.asarray(v, float)
    n = np.isfinite(v).sum(-1)
    return np.nanmean(v, -1), np.where(n > 1, np.nanstd(v, -1, ddof=1) / np.sqrt(np.maximum(n, 1)), np.nan), n


def baseline_per_fold(v):
    """The baseline's regret does not depend on the measurements: one value per fold."""
    return np.nanmean(np.asarray(v, float), 0)


def zero_shot_per_fold(ds, metric, s):
    """The zero-shot default's `metric` over the folds of setting s (None when the file has none)."""
    var = "zero_shot_" + metric
    if var not in ds.variables:
        return None
    v = np.asarray(ds[var].transpose("setting", "fold").values[s], float)
    return v if np.isfinite(v).any() else None


def setting_label(ds, name):
    """'Setting IV (20 % sample, capped)': the training matrix and cap of METHOD.md F10."""
    pct = f"{100 * float(ds.attrs.get('sampling_ratio', np.nan)):.0f} %".replace("nan %", "partial")
    kind = {"I": "full matrix", "III": f"{pct} sample", "V": f"{pct} non-uniform sample"}
    kind.update({"II": kind["I"], "IV": kind["III"], "VI": kind["V"]})
    cap = "capped" if name in ("II", "IV", "VI") else "uncapped"
    return f"Setting {name} ({kind[name]}, {cap})" if name in kind else f"Setting {name}"


def load_loocv(path):
    ds = pn.loocv_dataset(pn.open_dataset(path, [m for m, _, _ in METRICS] + ["measurements"],
                                          "the demo's meta-LOOCV figure"))
    for name in [m for m, _, _ in METRICS]:
        if set(ds[name].dims) != set(DIMS):
            raise pn.InputError(f"{path}: variable '{name}' has dims ({', '.join(ds[name].dims)}), "
                                f"expected ({', '.join(DIMS)})")
    return ds


def plot_loocv(ds, path, out, pdf):
    settings, methods = pn.coord_strings(ds, "setting"), pn.coord_strings(ds, pn.LOOCV_METHOD_DIM)
    meas = np.asarray(ds["measurements"].values, float)
    extra = iter(pn.OKABE_ITO[6:] + ["#777777"] * len(methods))
    colour = {m: COLOURS.get(m) or next(extra) for m in methods}
    fig, axes = plt.subplots(len(settings), 2, figsize=(12, 4.3 * len(settings)), squeeze=False)
    handles = {}
    for s, setting in enumerate(settings):
        for c, (metric, what, ylabel) in enumerate(METRICS):
            ax, val = axes[s, c], np.asarray(ds[metric].transpose(*DIMS).values[s], float)
            nmax = 0
            for m, name in enumerate(methods):
                if name == BASELINE:
                    if metric != "regret":
                        continue  # it estimates nothing: its relative error is NaN
                    mu, se, n = mean_se(baseline_per_fold(val[m]))
                    if n == 0:
                        continue
                    ax.axhspan(mu - np.nan_to_num(se), mu + np.nan_to_num(se), color="#999999", alpha=0.25, lw=0)
                    handles[name] = ax.axhline(mu, color="#777777", ls="--", lw=1.5, label=f"{name} (baseline)")
                    nmax = max(nmax, int(n))
                    continue
                mu, se, n = mean_se(val[m])
                if not np.isfinite(mu).any():
                    continue
                top = name == "ei-mf"
                handles[name] = ax.plot(meas, mu, marker="o", ms=6 if top else 4, lw=2.8 if top else 1.5,
                                        color=colour[name], zorder=5 if top else 3, label=name)[0]
                ax.fill_between(meas, mu - se, mu + se, color=colour[name], alpha=0.22 if top else 0.12, lw=0,
                                zorder=4 if top else 2)
                nmax = max(nmax, int(n.max()))
            zero = zero_shot_per_fold(ds, metric, s)
            if zero is not None:
                mu, se, n = mean_se(zero)
                ax.axhspan(mu - np.nan_to_num(se), mu + np.nan_to_num(se), color="black", alpha=0.10, lw=0)
                handles[ZERO_SHOT] = ax.axhline(mu, color="black", ls="--", lw=1.5, label=f"{ZERO_SHOT} (no training)")
            ax.set_title(f"{setting_label(ds, setting)}:\n{what}, mean ± SE over {nmax} folds")
            ax.set_xlabel("number of configurations measured on the held-out task")
            ax.set_ylabel(ylabel)
            ax.set_xticks(meas, [f"{x:g}" for x in meas])
            pos = np.concatenate([[np.nan]] + [l.get_ydata() for l in ax.lines if len(l.get_xdata()) > 2])
            pos = pos[np.isfinite(pos) & (pos > 0)]
            if metric == "relative_error" and pos.size and pos.max() / pos.min() > 20:
                ax.set_yscale("log")
            if not ax.lines:
                ax.text(0.5, 0.5, "no finite values", transform=ax.transAxes, ha="center", va="center")
    campaign = ds.attrs.get("campaign")
    name = os.path.basename(str(campaign)) if campaign else os.path.basename(path)
    counts = f"{ds.sizes['fold']} held-out tasks"
    counts += f", {ds.sizes['config']} configurations" if "config" in ds.dims else ""
    budget = float(ds.attrs.get("budget", np.nan))
    counts += f", budget {budget:.3g} MiB" if np.isfinite(budget) else ""
    fig.suptitle(f"meta-LOOCV on {name} ({counts})", fontsize=13)
    order = [m for m in methods if m in handles and m != BASELINE] + [m for m in handles if m in (BASELINE, ZERO_SHOT)]
    fig.legend([handles[m] for m in order], [handles[m].get_label() for m in order], loc="lower center",
               ncol=min(len(order), 7), bbox_to_anchor=(0.5, 0.0), fontsize=10)
    fig.tight_layout(rect=(0, 0.04 if len(settings) > 1 else 0.08, 1, 0.97))
    return pn.save(fig, out, pdf)


def fmt(x, digits=4):
    return f"{x:.{digits}f}" if np.isfinite(x) else "n/a"


def regret_table(ds):
    settings, methods = pn.coord_strings(ds, "setting"), pn.coord_strings(ds, pn.LOOCV_METHOD_DIM)
    meas = pn.coord_strings(ds, "measurements")
    val = np.asarray(ds["regret"].transpose(*DIMS).values, float)
    if zero_shot_per_fold(ds, "regret", 0) is not None:
        # The zero-shot default as one more column, the same at every count (no training).
        zero = np.stack([np.broadcast_to(zero_shot_per_fold(ds, "regret", s), val.shape[2:])
                         for s in range(len(settings))])[:, None]
        val = np.concatenate([val, zero], axis=1)
        methods = methods + [ZERO_SHOT]
    lines = []
    for s, setting in enumerate(settings):
        lines += [f"\n**{setting_label(ds, setting)}**: regret, mean ± SE over folds "
                  "(* best by more than the combined SE of the two best, = tied with the best)\n",
                  "| measurements | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
        for k, count in enumerate(meas):
            mu, se, _ = mean_se([baseline_per_fold(val[s, m]) if name == BASELINE else val[s, m, k]
                                 for m, name in enumerate(methods)])
            cells = [f"{fmt(mu[m])} ± {fmt(se[m])}".replace(" ± n/a", "").replace("n/a ± ", "")
                     for m in range(len(methods))]
            ok = np.flatnonzero(np.isfinite(mu))
            if ok.size >= 2:
                order = ok[np.argsort(mu[ok], kind="stable")]
                comb = lambda a, b: np.sqrt(np.nan_to_num(se[a]) ** 2 + np.nan_to_num(se[b]) ** 2)  # noqa: E731
                b = order[0]
                if mu[order[1]] - mu[b] > comb(b, order[1]):
                    cells[b] += " *"
                else:
                    for m in (m for m in order if mu[m] - mu[b] <= comb(b, m)):
                        cells[m] += " ="
            lines.append(f"| {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def row_task(row, row_path, sel, true_of):
    """Index of the held-out task in ROW.nc: the only one, the one named like the selection's task,
    or else the one whose errors agree best with the measured ones (a note on stderr)."""
    names = pn.task_names(row)
    if len(names) == 1:
        return 0
    if sel.attrs.get("task") in names:
        return names.index(sel.attrs["task"])
    measured = np.asarray(sel["measured_error"].values, float)
    err = np.array([true_of(i) for i in range(len(names))])
    ok = np.isfinite(measured) & np.isfinite(err).all(0)
    if not ok.any():
        raise pn.InputError(f"{row_path}: {len(names)} tasks and none named '{sel.attrs.get('task')}'")
    i = int(np.argmin(np.abs(err[:, ok] - measured[ok]).sum(1)))
    print(f"plot_demo.py: note: {row_path} has {len(names)} tasks, none named '{sel.attrs.get('task')}'; "
          f"using '{names[i]}', whose errors match the measured ones best", file=sys.stderr)
    return i


def plot_select(sel_path, row_path, out, pdf):
    sel = pn.open_dataset(sel_path, ["memory", "predicted_error", "measured_error"], "the demo's selection figure")
    row = pn.open_dataset(row_path, ["error", "memory"], "the demo's selection figure (the whole row)")
    labels, row_labels = pn.config_labels(sel), pn.config_labels(row)
    where = {c: j for j, c in enumerate(row_labels)}
    jrow = np.array([where.get(c, -1) for c in labels])
    if (jrow < 0).all():
        raise pn.InputError(f"{row_path}: variable 'config' shares no label with {sel_path}")
    r_err, r_mem = (np.atleast_2d(np.asarray(row[v].values, float)) for v in ("error", "memory"))
    true_of = lambda i: np.where(jrow >= 0, r_err[i][np.maximum(jrow, 0)], np.nan)  # noqa: E731
    i = row_task(row, row_path, sel, true_of)
    true, r_err, r_mem = true_of(i), r_err[i], r_mem[i]
    mem, pred = (np.asarray(sel[v].values, float) for v in ("memory", "predicted_error"))
    std_name = next((v for v in ("predicted_std", "predicted_error_std", "std") if v in sel.variables), None)
    std = np.asarray(sel[std_name].values, float) if std_name else np.zeros_like(pred)
    meas_err = np.asarray(sel["measured_error"].values, float)
    measured = (np.asarray(sel["measured"].values) != 0) if "measured" in sel.variables else np.isfinite(meas_err)
    budget = float(sel.attrs["budget"]) if "budget" in sel.attrs else np.inf
    pick = int(sel.attrs.get("recommended_index", -1))
    if pick < 0 and sel.attrs.get("recommended_config") in labels:
        pick = labels.index(sel.attrs["recommended_config"])
    if pick < 0:
        pick = pn.recommend(mem, np.where(measured, meas_err, pred), budget)
    best = pn.recommend(mem, true, budget)
    task = sel.attrs.get("task", "?")

    fig, ax = plt.subplots(figsize=(10, 6.2))
    ax.scatter(r_mem, r_err, s=14, color="#999999", zorder=2, label="true error, every configuration (row)")
    pn.frontier_line(ax, r_mem, r_err, pn.pareto_mask(r_mem, r_err), color="black", lw=1.8, zorder=3,
                     label="true Pareto frontier")
    est = np.flatnonzero(pn.pareto_mask(mem, pred))
    est = est[np.argsort(mem[est], kind="stable")]
    c_est, c_meas, c_pick = pn.OKABE_ITO[1], pn.OKABE_ITO[0], pn.OKABE_ITO[3]
    pn.frontier_line(ax, mem, pred, pn.pareto_mask(mem, pred), color=c_est, lw=2.2, zorder=4,
                     label="estimated Pareto frontier")
    if std_name and est.size:
        ax.fill_between(mem[est], pred[est] - std[est], pred[est] + std[est], step="post", color=c_est,
                        alpha=0.25, lw=0, zorder=1, label="estimate ± 1 std")
    ax.scatter(mem[measured], meas_err[measured], s=110, color=c_meas, edgecolor="black", zorder=6,
               label=f"trained on the new task ({int(measured.sum())})")
    if np.isfinite(budget):
        ax.axvline(budget, color="black", ls="--", lw=1.2, zorder=1, label=f"budget {budget:.3g} MiB")
    text = ["| config | memory MiB | measured error | true error (row) |", "|---|---|---|---|"]
    text += [f"| {labels[j]} | {mem[j]:.3f} | {fmt(meas_err[j])} | {fmt(true[j])} |"
             for j in np.flatnonzero(measured)]
    if pick is not None:
        y = true[pick] if np.isfinite(true[pick]) else pred[pick]
        ax.scatter([mem[pick]], [y], marker="*", s=420, color=c_pick, edgecolor="black", zorder=7,
                   label="recommendation (at its true error)")
        if best is not None and best != pick:
            ax.scatter([mem[best]], [true[best]], s=260, facecolor="none", edgecolor=c_pick, lw=2, zorder=7,
                       label="best feasible (true)")
        pb = f", p_best {float(sel['p_best'].values[pick]):.2f}" if "p_best" in sel.variables else ""
        reg = true[pick] - true[best] if best is not None else np.nan
        best_txt = f"{fmt(true[best], 3)} ({labels[best]}; " if best is not None else "n/a ("
        note = (f"pick: {labels[pick]}, true error {fmt(true[pick], 3)}, best feasible true error "
                f"{best_txt}regret {fmt(reg, 3)}){pb}")
        seen = fmt(meas_err[pick]) if measured[pick] else f"predicted {fmt(pred[pick])} ± {fmt(std[pick])}"
        text.append(f"| **pick** {labels[pick]} | {mem[pick]:.3f} | {seen} | {fmt(true[pick])} |")
        if best is not None:
            text.append(f"| best feasible {labels[best]} | {mem[best]:.3f} | | {fmt(true[best])} |")
        text.append(f"\nregret of the pick: {fmt(reg)}")
        ax.annotate(note, (mem[pick], y), xytext=(0.98, 0.97), textcoords="axes fraction", ha="right", va="top",
                    fontsize=10, bbox=dict(boxstyle="round", fc="white", ec=c_pick),
                    arrowprops=dict(arrowstyle="->", color=c_pick))
    pn.log_memory_axis(ax)
    ax.set_xlabel("training memory (MiB, log scale)")
    ax.set_ylabel("test error (misclassification rate)")
    ax.set_title(f"New task '{task}': {int(measured.sum())} configurations trained, "
                 "estimate vs the whole row measured afterwards")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return pn.save(fig, out, pdf), "\n".join(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--loocv", required=True, metavar="LOOCV.nc", help="loocv.nc")
    p.add_argument("--selection", metavar="SELECTION.nc", help="selection.nc of one new task (needs --row)")
    p.add_argument("--row", metavar="ROW.nc", help="campaign.nc of that task measured on every configuration afterwards")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="folder for demo_loocv.png and demo_select.png")
    p.add_argument("--pdf", action="store_true", help="also write a PDF next to each PNG")
    args = p.parse_args()
    if bool(args.selection) != bool(args.row):
        p.error("--selection and --row go together")
    pn.style()
    ds = load_loocv(args.loocv)
    print(plot_loocv(ds, args.loocv, os.path.join(args.output_dir, "demo_loocv.png"), args.pdf))
    print(regret_table(ds))
    if args.selection:
        out, table = plot_select(args.selection, args.row, os.path.join(args.output_dir, "demo_select.png"),
                                 args.pdf)
        print(out)
        print(f"\n**New task**: configurations trained, measured vs true error\n\n{table}")
    return 0


if __name__ == "__main__":
    pn.run_main(main)
