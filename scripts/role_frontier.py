#!/usr/bin/env python3
"""Does a per-role configuration move the frontier? (docs/roles.md)

    python3 scripts/role_frontier.py campaign.nc [more.nc ...]

For a campaign with per-role labels (e.g. `e3m1[last=e8m7]/e8m7`) and
replicates: at each budget B equal to a per-role configuration's memory, the
best per-role configuration under B against the best uniform one under B,
averaged over the tasks and per task. Each error carries the standard error
of its replicate mean (sd / sqrt(R); over tasks, the root sum of squares / n);
a difference counts when it exceeds the combined standard error.
A sparse-design campaign (`sampling.scheme = design`) measures each per-role
configuration on some tasks only; the paired section compares it, on exactly
the tasks that measured it, with the best uniform configuration of each of
those tasks under its memory (the uniform configurations are measured on
every task), so no comparison mixes different tasks.

Several campaign files (e.g. a sparse design and a follow-up campaign of a
few per-role configurations on every task) are joined by configuration: they
must have the same tasks and the same training settings (every `option.train.*`
but the replicates), and a configuration in two files must have the same
replicate errors in both (cell seeds depend on the campaign seed, task,
configuration and replicate only, so a re-measured cell is identical).
Needs numpy and netCDF4.
"""
import argparse
import warnings

import numpy as np

import peppp_nc as pn


def load(path):
    """(configs, tasks, mean error n x d, its standard error, memory n x d)."""
    import netCDF4
    try:
        d = netCDF4.Dataset(path)
    except OSError as e:
        raise pn.InputError(f"{path}: cannot be read ({e})")
    for v in ("config", "error_replicates", "memory"):
        if v not in d.variables:
            raise pn.InputError(f"{path}: no variable '{v}' (a campaign.nc with replicates is needed)")
    rows = "task" if "task" in d.variables else "row"
    cfg = [str(c) for c in d["config"][:]]
    tasks = [str(t) for t in d[rows][:]]
    rep = np.ma.filled(d["error_replicates"][:].astype(float), np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells a sparse design did not measure: NaN
        mean = np.nanmean(rep, axis=-1)
        se = np.nanstd(rep, axis=-1, ddof=1) / np.sqrt(np.sum(np.isfinite(rep), axis=-1))
    train = {a: str(getattr(d, a)) for a in d.ncattrs() if a.startswith("option.train.")
             or a in ("option.campaign.seed", "option.campaign.model")}
    train.pop("option.train.replicates", None)
    load.settings = train
    return cfg, tasks, mean, se, np.ma.filled(d["memory"][:].astype(float), np.nan), rep


def load_joined(paths):
    """load() of several campaigns of the same tasks and training settings, joined by configuration."""
    cfg, tasks, err, se, mem, rep = load(paths[0])
    settings = load.settings
    for path in paths[1:]:
        c2, t2, e2, s2, m2, r2 = load(path)
        if sorted(t2) != sorted(tasks):
            raise pn.InputError(f"{path}: its tasks ({', '.join(t2)}) are not those of {paths[0]} ({', '.join(tasks)})")
        diff = sorted(k for k in set(settings) | set(load.settings) if settings.get(k) != load.settings.get(k))
        if diff:
            k = diff[0]
            raise pn.InputError(f"{path}: {k} = {load.settings.get(k)}, but {settings.get(k)} in {paths[0]}: "
                                "campaigns trained differently cannot be joined")
        order = [t2.index(t) for t in tasks]
        e2, s2, m2, r2 = e2[order], s2[order], m2[order], r2[order]
        width = max(rep.shape[-1], r2.shape[-1])
        pad = lambda r: np.concatenate([r, np.full(r.shape[:-1] + (width - r.shape[-1],), np.nan)], axis=-1)
        rep, r2 = pad(rep), pad(r2)
        for j, c in enumerate(c2):
            if c in cfg:
                k = cfg.index(c)
                both = np.isfinite(rep[:, k]) & np.isfinite(r2[:, j])
                if not np.array_equal(rep[:, k][both], r2[:, j][both]):
                    raise pn.InputError(f"{path}: configuration {c} has other replicate errors than in {paths[0]}")
                fill = ~np.isfinite(err[:, k]) & np.isfinite(e2[:, j])  # cells only this file measured
                err[fill, k], se[fill, k], mem[fill, k], rep[fill, k] = e2[fill, j], s2[fill, j], m2[fill, j], r2[fill, j]
                continue
            cfg.append(c)
            err, se, mem = (np.column_stack([x, y[:, j]]) for x, y in ((err, e2), (se, s2), (mem, m2)))
            rep = np.concatenate([rep, r2[:, j:j + 1]], axis=1)
    return cfg, tasks, err, se, mem, rep


def budget_wins(cfg, err, se, mem):
    """[(B, per-role label, its error, se, best uniform label, its error, se)] at every budget where the
    best per-role configuration under B is below the best uniform one under B."""
    uniform = [j for j, c in enumerate(cfg) if "[" not in c]
    mixed = [j for j, c in enumerate(cfg) if "[" in c]
    out = []
    for j in mixed:
        if not np.isfinite(err[j]):
            continue
        b = mem[j]
        u = [k for k in uniform if mem[k] <= b + 1e-12 and np.isfinite(err[k])]
        if not u or any(err[k] < err[j] for k in mixed if mem[k] <= b + 1e-12 and np.isfinite(err[k])):
            continue
        best = min(u, key=lambda k: err[k])
        if err[j] < err[best]:
            out.append((b, cfg[j], err[j], se[j], cfg[best], err[best], se[best]))
    return out


def paired_wins(cfg, err, se, mem):
    """Per per-role configuration j measured on at least two tasks: on those tasks, the best uniform
    configuration under j's memory minus j, averaged; [(j's label, tasks, mean memory, mean error of j,
    mean of the uniform picks, difference, its standard error)], largest difference first."""
    uniform = [k for k, c in enumerate(cfg) if "[" not in c]
    out = []
    for j, c in enumerate(cfg):
        if "[" not in c:
            continue
        diff, var, ej, eu, mj = [], [], [], [], []
        for i in range(err.shape[0]):
            if not np.isfinite(err[i, j]):
                continue
            u = [k for k in uniform if mem[i, k] <= mem[i, j] + 1e-12 and np.isfinite(err[i, k])]
            if not u:
                continue
            best = min(u, key=lambda k: err[i, k])
            diff.append(err[i, best] - err[i, j])
            var.append(se[i, j] ** 2 + se[i, best] ** 2)
            ej.append(err[i, j]), eu.append(err[i, best]), mj.append(mem[i, j])
        if len(diff) >= 2:
            m = len(diff)
            out.append((c, m, np.mean(mj), np.mean(ej), np.mean(eu), np.mean(diff), np.sqrt(np.sum(var)) / m))
    return sorted(out, key=lambda w: -w[5])


def print_paired(cfg, err, se, mem, top):
    wins = paired_wins(cfg, err, se, mem)
    sig = [w for w in wins if w[5] > w[6]]
    print(f"paired, per per-role configuration on the tasks that measured it: best uniform under its memory minus it "
          f"(> 0: the per-role one is better); {len(sig)} of {len(wins)} better by more than the standard error")
    for w in wins[:top]:
        print(f"  {w[0]:<40} tasks {w[1]}  {w[2]:.3f} MiB  {w[3]:.4f} vs uniform {w[4]:.4f}  difference "
              f"{w[5]:+.4f} ± {w[6]:.4f}{'  *' if w[5] > w[6] else ''}")


def significant(win):
    return win[5] - win[2] > np.hypot(win[3], win[6])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("campaign", nargs="+", help="campaign.nc with per-role labels and replicates (several: joined "
                    "by configuration; same tasks and training settings)")
    ap.add_argument("--top", type=int, default=12, help="rows of the paired table to print (default 12)")
    a = ap.parse_args()
    cfg, tasks, err, se, mem, rep = load_joined(a.campaign)
    if not any("[" in c for c in cfg) or not any("[" not in c for c in cfg):
        raise pn.InputError(f"{', '.join(a.campaign)}: needs both uniform and per-role configurations (labels with '[')")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        noise = np.sqrt(np.nanmean(np.nanvar(rep, axis=-1, ddof=1)))
    print(f"{len(tasks)} tasks x {len(cfg)} configurations; pooled replicate sd {noise:.4f}")
    n = len(tasks)
    mean_err, mean_se, mean_mem = err.mean(0), np.sqrt((se ** 2).sum(0)) / n, mem.mean(0)
    print("mean over the tasks: at budget B (a per-role configuration's memory), best per-role vs best uniform under B")
    for w in budget_wins(cfg, mean_err, mean_se, mean_mem):
        comb = np.hypot(w[3], w[6])
        print(f"  B={w[0]:.3f} MiB: {w[1]:<34} {w[2]:.4f}±{w[3]:.4f} vs {w[4]:<12} {w[5]:.4f}±{w[6]:.4f}  "
              f"difference {w[5] - w[2]:.4f} ({'>' if significant(w) else '<='} combined se {comb:.4f})")
    hit = 0
    for i, t in enumerate(tasks):
        wins = budget_wins(cfg, err[i], se[i], mem[i])
        sig = [w for w in wins if significant(w)]
        hit += bool(sig)
        print(f"  {t:<24} budgets where the best per-role is below the best uniform: {len(wins)}, by more than the "
              f"combined se: {len(sig)} " + " ".join(f"{w[1]}({w[2]:.3f} vs {w[5]:.3f})" for w in sig))
    print(f"tasks with a per-role configuration below the best uniform one by more than the combined se: {hit} of {n}")
    print_paired(cfg, err, se, mem, a.top)
    return 0


if __name__ == "__main__":
    pn.run_main(main)
