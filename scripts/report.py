#!/usr/bin/env python3
"""One-page Markdown report of a peppp run folder: draws every figure the
folder's NetCDF files allow (frontiers, tasks, memory, meta-LOOCV, selection)
into DIR/figures/ and links them from DIR/report.md, with the hardware-design
view of the paper's Appendix D: which configurations lie on the most (true
or estimated) Pareto frontiers across tasks, as a table and a bar chart.

A figure that cannot be drawn (a file missing a variable) is reported on
stderr and in the report; the others are still drawn, and the exit status
is then 1.
"""
import argparse
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peppp_nc as pn  # noqa: E402
from peppp_nc import plt  # noqa: E402
import plot_frontier  # noqa: E402
import plot_loocv  # noqa: E402
import plot_memory  # noqa: E402
import plot_tasks  # noqa: E402


def pareto_counts(campaign=None, campaign_path=None, completed=None, completed_path=None):
    """Per configuration, on how many tasks it is on the true and on the
    estimated Pareto frontier. Returns (labels, true_counts or None,
    estimated_counts or None, number of tasks counted for each)."""
    labels, true_c, est_c, n_true, n_est = None, None, None, 0, 0
    if completed is not None:
        labels = pn.config_labels(completed)
        if "pareto_estimate" in completed.variables:
            pe = np.asarray(completed["pareto_estimate"].values) == 1
            est_c, n_est = pe.sum(axis=0), pe.shape[0]
        if "pareto_true" in completed.variables:
            pt = np.asarray(completed["pareto_true"].values) == 1
            true_c, n_true = pt.sum(axis=0), pt.shape[0]
    if true_c is None and campaign is not None:
        pn.require(campaign, campaign_path, ["error", "memory"], "the Pareto counts")
        labels = labels or pn.config_labels(campaign)
        err = np.asarray(campaign["error"].values, float)
        mem = np.asarray(campaign["memory"].values, float)
        full = np.isfinite(err).all(axis=1)  # a true frontier needs every configuration measured
        if full.any():
            masks = np.array([pn.pareto_mask(mem[i], err[i]) for i in np.flatnonzero(full)])
            true_c, n_true = masks.sum(axis=0), int(full.sum())
    return labels, true_c, est_c, n_true, n_est


def plot_pareto_counts(labels, true_c, est_c, n_true, n_est, out, top, pdf=False):
    d = len(labels)
    tc = np.zeros(d) if true_c is None else np.asarray(true_c, float)
    ec = np.zeros(d) if est_c is None else np.asarray(est_c, float)
    order = np.lexsort((np.arange(d), -ec, -tc))[:top]
    order = order[(tc[order] > 0) | (ec[order] > 0)] if ((tc > 0) | (ec > 0)).any() else order[:0]
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.3 * max(len(order), 3)))
    y = np.arange(len(order))
    h = 0.4 if (true_c is not None and est_c is not None) else 0.7
    if true_c is not None:
        ax.barh(y - (h / 2 if est_c is not None else 0), tc[order], height=h, color=pn.OKABE_ITO[0],
                label=f"on the true frontier (of {n_true} tasks)")
    if est_c is not None:
        ax.barh(y + (h / 2 if true_c is not None else 0), ec[order], height=h, color=pn.OKABE_ITO[1],
                hatch="//", edgecolor="white", label=f"on the estimated frontier (of {n_est} tasks)")
    ax.set_yticks(y)
    ax.set_yticklabels([labels[j] for j in order], family="monospace", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("number of tasks on whose Pareto frontier the configuration lies")
    ax.set_ylabel("configuration (format A / format B)")
    ax.set_title("Hardware design view: most frequently Pareto-optimal configurations")
    ax.xaxis.get_major_locator().set_params(integer=True)
    if len(order) == 0:
        ax.text(0.5, 0.5, "no frontier available", transform=ax.transAxes, ha="center", va="center")
    else:
        ax.legend(loc="lower right")
    fig.tight_layout()
    return pn.save(fig, out, pdf)


def counts_table(labels, true_c, est_c, n_true, n_est, top):
    d = len(labels)
    tc = None if true_c is None else np.asarray(true_c)
    ec = None if est_c is None else np.asarray(est_c)
    key_t = np.zeros(d) if tc is None else -tc
    key_e = np.zeros(d) if ec is None else -ec
    order = np.lexsort((np.arange(d), key_e, key_t))[:top]
    head = "| rank | configuration |"
    sep = "|---:|---|"
    if tc is not None:
        head += f" true frontiers (of {n_true}) |"
        sep += "---:|"
    if ec is not None:
        head += f" estimated frontiers (of {n_est}) |"
        sep += "---:|"
    rows = [head, sep]
    for r, j in enumerate(order, 1):
        row = f"| {r} | `{labels[j]}` |"
        if tc is not None:
            row += f" {int(tc[j])} |"
        if ec is not None:
            row += f" {int(ec[j])} |"
        rows.append(row)
    return "\n".join(rows)


class Report:
    def __init__(self, run_dir, fig_dir, pdf):
        self.run_dir = run_dir
        self.fig_dir = fig_dir
        self.pdf = pdf
        self.lines = []
        self.failures = []

    def rel(self, path):
        return os.path.relpath(path, self.run_dir)

    def images(self, paths, caption=None, inline=1):
        """Show the first `inline` images, link the rest."""
        for p in paths[:inline]:
            self.lines.append(f"![{caption or os.path.basename(p)}]({self.rel(p)})\n")
        if len(paths) > inline:
            self.lines.append("More: " + ", ".join(f"[{os.path.splitext(os.path.basename(p))[0]}]({self.rel(p)})"
                                                  for p in paths[inline:]) + "\n")

    def attempt(self, what, fn):
        try:
            return fn()
        except pn.InputError as e:
            msg = f"{what}: {e}"
            print(f"report.py: warning: {msg}", file=sys.stderr)
            self.failures.append(msg)
            self.lines.append(f"*{what} not drawn: {e}*\n")
            return None


def find_files(run_dir):
    found = {"campaign": [], "completed": [], "loocv": [], "selection": [], "unknown": []}
    for path in sorted(glob.glob(os.path.join(run_dir, "*.nc"))):
        try:
            ds = pn.open_dataset(path)
        except pn.InputError as e:
            print(f"report.py: warning: {e}", file=sys.stderr)
            continue
        found[pn.file_kind(ds)].append((path, ds))
    return found


def build(run_dir, fig_dir, out, top=20, memory_tasks=2, pdf=False, max_tasks=None):
    pn.style()
    files = find_files(run_dir)
    if not any(files[k] for k in ("campaign", "completed", "loocv", "selection")):
        raise pn.InputError(f"{run_dir}: no campaign, completed, loocv or selection .nc file found")
    r = Report(run_dir, fig_dir, pdf)
    campaign_path, campaign = files["campaign"][0] if files["campaign"] else (None, None)
    completed_path, completed = files["completed"][0] if files["completed"] else (None, None)
    r.lines.append(f"# peppp report: {os.path.basename(os.path.abspath(run_dir))}\n")
    src = campaign if campaign is not None else (completed if completed is not None else None)
    if src is not None:
        a = src.attrs
        r.lines.append(f"peppp {a.get('peppp_version', '?')} (commit `{a.get('git_commit', '?')}`), "
                       f"created {a.get('created', '?')} on {a.get('mpi_ranks', '?')} MPI ranks.  ")
        if "command_line" in a:
            r.lines.append(f"Command: `{a['command_line']}`\n")
    r.lines.append("Files: " + ", ".join(f"`{os.path.basename(p)}` ({k})" for k, v in files.items()
                                         for p, _ in v if k != "unknown") + "\n")

    r.lines.append("## Error-memory tradeoff and Pareto frontiers\n")
    for kind, path in [("campaign", campaign_path), ("completed", completed_path)]:
        if path is None:
            continue
        sub = os.path.join(fig_dir, f"frontier_{kind}")
        r.lines.append(f"### {kind} (`{os.path.basename(path)}`)\n")

        def draw(path=path, sub=sub, kind=kind):
            views = plot_frontier.load_views(path, campaign_path if kind == "completed" else None)
            return plot_frontier.plot(views, sub, pdf, per_task_max=max_tasks)
        written = r.attempt(f"frontiers of {os.path.basename(path)}", draw)
        if written:
            overview = [w for w in written if w.endswith("frontier_overview.png")]
            per_task = [w for w in written if w not in overview]
            r.images(overview + per_task, f"frontiers, {kind}")
    for path, _ in files["selection"]:
        sub = os.path.join(fig_dir, "frontier_" + pn.safe_name(os.path.splitext(os.path.basename(path))[0]))
        r.lines.append(f"### selection (`{os.path.basename(path)}`)\n")
        written = r.attempt(f"frontier of {os.path.basename(path)}",
                            lambda path=path, sub=sub: plot_frontier.plot(plot_frontier.load_views(path), sub, pdf))
        if written:
            r.images(written, "selection frontier")

    src_path = completed_path or campaign_path
    if src_path:
        r.lines.append("## Tasks: similarity and low-rank structure\n")

        def tasks():
            e, names, source = plot_tasks.load_matrix(src_path)
            a = os.path.join(fig_dir, "tasks_kendall.png")
            b = os.path.join(fig_dir, "tasks_singular_values.png")
            plot_tasks.plot_kendall(e, names, source, a, pdf)
            plot_tasks.plot_singular(e, source, b, pdf)
            return [a, b]
        written = r.attempt(f"task figures of {os.path.basename(src_path)}", tasks)
        if written:
            r.images(written, "tasks", inline=2)

    if campaign_path:
        r.lines.append("## Memory breakdown\n")

        def memory():
            ds = pn.open_dataset(campaign_path, [n for n, *_ in plot_memory.PARTS], "the memory breakdown")
            labels, names = pn.config_labels(ds), pn.task_names(ds)
            vals = [np.asarray(ds[n].values, float) for n, *_ in plot_memory.PARTS]
            return [plot_memory.plot_task(labels, [v[i] for v in vals], names[i],
                                          os.path.join(fig_dir, f"memory_{pn.safe_name(names[i])}.png"), pdf=pdf)
                    for i in range(min(memory_tasks, len(names)))]
        written = r.attempt(f"memory breakdown of {os.path.basename(campaign_path)}", memory)
        if written:
            r.images(written, "memory breakdown")

    for path, _ in files["loocv"]:
        r.lines.append(f"## Meta-LOOCV (`{os.path.basename(path)}`)\n")

        def loocv(path=path):
            ds = plot_loocv.load(path)
            out = []
            for s, setting in enumerate(pn.coord_strings(ds, "setting")):
                tag = pn.safe_name(setting)
                out.append(plot_loocv.plot_curves(ds, s, setting, os.path.join(fig_dir, f"loocv_curves_{tag}.png"), pdf))
                out.append(plot_loocv.plot_selection(ds, s, setting,
                                                     os.path.join(fig_dir, f"loocv_selection_{tag}.png"), pdf=pdf))
            return out
        written = r.attempt(f"meta-LOOCV figures of {os.path.basename(path)}", loocv)
        if written:
            r.images(written, "meta-LOOCV", inline=2)

    if campaign is not None or completed is not None:
        r.lines.append("## Hardware design view (Appendix D)\n")
        r.lines.append("Configurations that lie on the most Pareto frontiers across tasks: the formats "
                       "a low-precision accelerator should support first.\n")

        def counts():
            labels, tc, ec, nt, ne = pareto_counts(campaign, campaign_path, completed, completed_path)
            if tc is None and ec is None:
                raise pn.InputError("no fully measured task and no pareto_estimate/pareto_true: no frontier to count")
            png = plot_pareto_counts(labels, tc, ec, nt, ne, os.path.join(fig_dir, "pareto_counts.png"), top, pdf)
            csv = os.path.join(fig_dir, "pareto_counts.csv")
            rows = ["config,true_frontiers,estimated_frontiers\n"]
            for j, lab in enumerate(labels):
                rows.append(f"{lab},{'' if tc is None else int(tc[j])},{'' if ec is None else int(ec[j])}\n")
            pn.write_text(csv, "".join(rows))
            return png, csv, counts_table(labels, tc, ec, nt, ne, min(top, 10))
        res = r.attempt("Pareto counts", counts)
        if res:
            png, csv, table = res
            r.lines.append(table + "\n")
            r.lines.append(f"Every configuration: [{os.path.basename(csv)}]({r.rel(csv)})\n")
            r.images([png], "Pareto counts")

    if r.failures:
        r.lines.append("## Not drawn\n")
        r.lines.extend(f"- {f}" for f in r.failures)
        r.lines.append("")
    pn.write_text(out, "\n".join(r.lines) + "\n")
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", help="a run folder (campaign.nc, completed.nc, loocv.nc, selection*.nc)")
    p.add_argument("-o", "--output", help="the Markdown report (default: RUN_DIR/report.md)")
    p.add_argument("--figures-dir", help="folder for the figures (default: RUN_DIR/figures)")
    p.add_argument("--top", type=int, default=20, help="configurations in the Appendix D chart (default: 20)")
    p.add_argument("--memory-tasks", type=int, default=2, help="tasks with a memory breakdown figure (default: 2)")
    p.add_argument("--max-tasks", type=int, help="tasks with their own frontier figure (default: every task; "
                   "the overview shows the first six)")
    p.add_argument("--pdf", action="store_true", help="also write PDF next to each PNG")
    args = p.parse_args()
    if not os.path.isdir(args.run_dir):
        raise pn.InputError(f"{args.run_dir}: no such folder")
    out = args.output or os.path.join(args.run_dir, "report.md")
    fig_dir = args.figures_dir or os.path.join(args.run_dir, "figures")
    pn.safe_folder(fig_dir)  # a link planted there would send every figure elsewhere
    r = build(args.run_dir, fig_dir, out, args.top, args.memory_tasks, args.pdf, args.max_tasks)
    print(out)
    return 1 if r.failures else 0


if __name__ == "__main__":
    pn.run_main(main)
