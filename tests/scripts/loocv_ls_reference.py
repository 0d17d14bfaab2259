#!/usr/bin/env python3
"""Independent numpy reference of `peppp loocv --prediction least-squares`.

    /usr/bin/python3 tests/scripts/loocv_ls_reference.py OUT.nc

Builds the synthetic 40 x 99 matrix of benchmarks/loocv_synthetic.hpp (rank 3
around 0.3 plus 0.005 noise, F2-shaped memory, every third task 4x the
memory; errors clamped to [0, 1] as benchmarks/loocv_campaign.cpp writes
them) and runs METHOD.md F10 on it with numpy alone, settings I and II (the
full meta-training matrix: no SoftImpute), rank 3, cap = budget = 281 MiB,
counts 3,4,5,6,8,10,12,15, for the paper's three methods with the paper's
least-squares prediction (F6.2):

* Y = V_3^T of the SVD of the meta-training matrix (F5.1);
* ED-MF: the first k pivots of a Businger-Golub pivoted QR of Y[:, T], then the
  greedy of F6.5 with y_j^T A^-1 y_j recomputed by a linear solve at every
  step (no Sherman-Morrison), ties to the lowest index;
* QR-MF: the pivots of the pivoted QR of the meta-training matrix's columns T
  (F7.2);
* Random-MF: the seeded permutation of T (F7.1; the counter-based generator
  and seed rule of peppp, ported here);
* prediction e_hat = Y^T x_hat, x_hat = lstsq(Y_S^T, e_S), used for every
  configuration (measured ones included), not clipped;
* metrics: relative error (F8.5), convergence (F8.3) and HyperDiff (F8.4) on
  the Pareto sets of (m / max m, e) by the O(d^2) definition, reference point
  (1, 1); the F9.1 pick (argmin of e_hat under the budget, ties to the lower
  memory then the lower index), its true error and regret; the memory used.

Writes the matrix (error, memory) and every result into OUT.nc, which
integration_loocv_ls_reference compares with peppp's loocv.nc to 1e-12.
"""
import sys

import numpy as np
import netCDF4

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
N, D, K = 40, 99, 3
CAP = 4.0 * (8.0 * 5 + 1.5 * 20) + 1
COUNTS = [3, 4, 5, 6, 8, 10, 12, 15]
SETTINGS = ["I", "II"]
METHODS = ["ed-mf", "qr-mf", "random-mf"]
SEED = 1


def mix64(x):
    x = (x + GOLDEN) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def fnv1a64(text, seed):
    h = seed
    for c in text.encode():
        h = ((h ^ c) * 0x100000001B3) & MASK
    return h


def gauss(seed, k):
    u1 = ((mix64((mix64(seed) + 2 * k) & MASK) >> 11) + 0.5) / 9007199254740992.0
    u2 = ((mix64((mix64(seed) + 2 * k + 1) & MASK) >> 11) + 0.5) / 9007199254740992.0
    return np.sqrt(-2 * np.log(u1)) * np.cos(6.283185307179586 * u2)


def synthetic():
    error = np.empty((N, D))
    memory = np.empty((N, D))
    for i in range(N):
        scale = 4.0 if i % 3 == 0 else 1.0
        for j in range(D):
            bits_a, bits_b = 5 + (j // 9) % 5, 14 + j % 9 % 7
            memory[i, j] = scale * (8.0 * bits_a + 1.5 * bits_b)
            e = 0.3
            for r in range(3):
                e += 0.05 * gauss(1, 100000 * r + i) * gauss(2, 100000 * r + j)
            error[i, j] = min(max(e + 0.005 * gauss(3, i * D + j), 0.0), 1.0)
    return error, memory


class CounterRng:
    def __init__(self, seed):
        self.key = mix64(seed)
        self.counter = 0

    def next_u64(self):
        x = mix64((self.key + self.counter * GOLDEN) & MASK)
        self.counter += 1
        return x

    def next_below(self, n):
        limit = MASK - MASK % n
        while True:
            x = self.next_u64()
            if x < limit:
                return x % n


def random_permutation(n, seed):
    p = list(range(n))
    rng = CounterRng(seed)
    for i in range(n - 1, 0, -1):
        j = rng.next_below(i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def pivoted_qr(a, count):
    """Businger-Golub: the column of largest residual norm, projected out; ties to the lowest index."""
    r = a.astype(float).copy()
    picked = []
    for _ in range(count):
        norms = np.linalg.norm(r, axis=0)
        norms[picked] = -1.0
        p = int(np.argmax(norms))
        picked.append(p)
        q = r[:, p] / np.linalg.norm(r[:, p])
        r = r - np.outer(q, q @ r)
    return picked


def greedy(y, t, count):
    t = list(t)
    k = y.shape[0]
    if count <= k or len(t) <= k:
        return [t[p] for p in pivoted_qr(y[:, t], min(count, len(t)))]
    s = [t[p] for p in pivoted_qr(y[:, t], k)]
    while len(s) < min(count, len(t)):
        a = y[:, s] @ y[:, s].T
        best, best_j = -np.inf, -1
        for j in t:
            if j in s:
                continue
            v = y[:, j] @ np.linalg.solve(a, y[:, j])
            if v > best:
                best, best_j = v, j
        s.append(best_j)
    return s


def pareto(m, e):
    d = len(m)
    out = np.ones(d, bool)
    for j in range(d):
        dominated = (m <= m[j]) & (e <= e[j]) & ((m < m[j]) | (e < e[j]))
        out[j] = not dominated.any()
    return out


def hypervolume(m, e):
    keep = (m < 1.0) & (e < 1.0)
    order = sorted(zip(m[keep], e[keep]))
    area, run = 0.0, np.inf
    for i, (mi, ei) in enumerate(order):
        run = min(run, ei)
        nxt = order[i + 1][0] if i + 1 < len(order) else 1.0
        area += (nxt - mi) * (1.0 - run)
    return area


def frontier(mem, truth, est):
    mn = mem / mem.max()
    pt, pe = pareto(mn, truth), pareto(mn, est)
    tm, te, em, ee = mn[pt], truth[pt], mn[pe], est[pe]
    conv = np.mean([np.min(np.hypot(a - tm, b - te)) for a, b in zip(em, ee)])
    hd = abs(hypervolume(tm, te) - hypervolume(em, ee))
    rel = np.linalg.norm(est - truth) / np.linalg.norm(truth)
    return rel, conv, hd


def pick(mem, est, budget):
    best = -1
    for j in range(len(mem)):
        if not mem[j] <= budget:
            continue
        if best < 0 or est[j] < est[best] or (est[j] == est[best] and mem[j] < mem[best]):
            best = j
    return best


def run(error, memory):
    S, M, L, F = len(SETTINGS), len(METHODS), len(COUNTS), N
    out = {name: np.full((S, M, L, F), np.nan) for name in
           ("relative_error", "convergence", "hyperdiff", "selected_error", "regret", "measured_memory")}
    out["selected_config"] = np.full((S, M, L, F), -1, np.int32)
    out["predicted_error"] = np.full((S, M, L, F, D), np.nan)
    out["selection_order"] = np.full((S, M, F, max(COUNTS)), -1, np.int32)
    for f in range(F):
        train = np.delete(error, f, axis=0)
        y = np.linalg.svd(train, full_matrices=False)[2][:K, :]
        truth, mem = error[f], memory[f]
        best = truth[mem <= CAP].min()
        for s, setting in enumerate(SETTINGS):
            t = [j for j in range(D) if setting == "I" or mem[j] <= CAP]
            for m, method in enumerate(METHODS):
                if method == "ed-mf":
                    order = greedy(y, t, max(COUNTS))
                elif method == "qr-mf":
                    order = [t[p] for p in pivoted_qr(train[:, t], min(max(COUNTS), len(t)))]
                else:
                    seed = mix64(fnv1a64("random-mf", SEED) ^ mix64(f * 1000003))
                    order = [t[p] for p in random_permutation(len(t), seed)[:max(COUNTS)]]
                out["selection_order"][s, m, f, :len(order)] = order
                for c, count in enumerate(COUNTS):
                    sel = order[:min(count, len(order))]
                    x = np.linalg.lstsq(y[:, sel].T, truth[sel], rcond=None)[0]
                    est = y.T @ x
                    rel, conv, hd = frontier(mem, truth, est)
                    j = pick(mem, est, CAP)
                    for name, v in (("relative_error", rel), ("convergence", conv), ("hyperdiff", hd),
                                    ("selected_error", truth[j]), ("regret", truth[j] - best),
                                    ("measured_memory", mem[sel].sum())):
                        out[name][s, m, c, f] = v
                    out["selected_config"][s, m, c, f] = j
                    out["predicted_error"][s, m, c, f, :] = est
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    error, memory = synthetic()
    out = run(error, memory)
    with netCDF4.Dataset(sys.argv[1], "w") as ds:
        ds.description = ("numpy reference of peppp loocv --prediction least-squares (tests/scripts/"
                          "loocv_ls_reference.py): settings I, II; ed-mf, qr-mf, random-mf; cap 281 MiB; rank 3")
        for name, n in (("task", N), ("config", D), ("setting", len(SETTINGS)), ("acquisition", len(METHODS)),
                        ("measurements", len(COUNTS)), ("fold", N), ("step", max(COUNTS))):
            ds.createDimension(name, n)
        ds.createVariable("error", "f8", ("task", "config"))[:] = error
        ds.createVariable("memory", "f8", ("task", "config"))[:] = memory
        ds.createVariable("measurements", "i4", ("measurements",))[:] = COUNTS
        m4 = ("setting", "acquisition", "measurements", "fold")
        for name, v in out.items():
            dims = m4 + ("config",) if name == "predicted_error" else (
                ("setting", "acquisition", "fold", "step") if name == "selection_order" else m4)
            ds.createVariable(name, v.dtype, dims)[:] = v


if __name__ == "__main__":
    main()
