"""Shared helpers for peppp's analysis scripts: open a peppp NetCDF file, check
the variables a figure needs (one-line error naming the file and the variable),
configuration labels (`e4m3/e6m7`), Pareto sets, and the figure style.

The schema is DESIGN.md section 5 (campaign.nc, completed.nc, loocv.nc,
selection.nc). Memory is in MiB (2^20 bytes), errors are misclassification
rates in [0, 1].
"""
import os
import sys

import numpy as np

import matplotlib

matplotlib.use("Agg")  # never needs a display
import matplotlib.pyplot as plt  # noqa: E402

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
             "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

# loocv.nc's method dimension and coordinate: `acquisition` (not `method`,
# which xarray's sel() takes as a keyword); files written before issue #13
# call it `method`. loocv_dataset() renames old files to the new name.
LOOCV_METHOD_DIM = "acquisition"
LOOCV_OLD_METHOD_DIM = "method"

STATUS_NOT_PLANNED, STATUS_PLANNED, STATUS_MEASURED, STATUS_DIVERGED, STATUS_FAILED = range(5)


class InputError(Exception):
    """Bad input: the script prints the message as one line and exits 1."""


def style():
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.fontsize": 8,
        "legend.framealpha": 0.85,
    })


def open_dataset(path, required=(), what=None):
    """Open a peppp NetCDF file with xarray (loaded into memory, file closed)
    and check that every name in `required` is a variable or coordinate."""
    import xarray as xr
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    try:
        with xr.open_dataset(path, decode_times=False, mask_and_scale=True) as ds:
            ds = ds.load()
    except Exception as e:  # netCDF4/HDF5 give long multi-line messages
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"{path}: not a readable NetCDF file ({first})")
    require(ds, path, required, what)
    return ds


def require(ds, path, names, what=None):
    missing = [n for n in names if n not in ds.variables]
    if missing:
        need = f" (needed for {what})" if what else ""
        plural = "s" if len(missing) > 1 else ""
        raise InputError(f"{path}: missing variable{plural} "
                         f"{', '.join(repr(m) for m in missing)}{need}")


def file_kind(ds):
    """'campaign', 'completed', 'selection' or 'loocv' from the variables present."""
    v = ds.variables
    if "setting" in ds.dims and (LOOCV_METHOD_DIM in ds.dims or LOOCV_OLD_METHOD_DIM in ds.dims):
        return "loocv"
    if "predicted_error" in v:
        return "selection"
    if "error_estimate" in v:
        return "completed"
    if "error" in v:
        return "campaign"
    return "unknown"


def loocv_dataset(ds):
    """A loocv.nc dataset with its method dimension called `acquisition`:
    files of earlier versions (dimension and coordinate `method`) renamed."""
    if LOOCV_METHOD_DIM not in ds.dims and LOOCV_OLD_METHOD_DIM in ds.dims:
        ds = ds.rename({LOOCV_OLD_METHOD_DIM: LOOCV_METHOD_DIM})
    return ds


def _strings(values):
    out = []
    for x in np.asarray(values).ravel():
        if isinstance(x, bytes):
            x = x.decode()
        out.append(str(x))
    return out


def format_label(exp, man):
    return f"e{int(exp)}m{int(man)}"


def config_labels(ds):
    """Labels `e4m3/e6m7` per configuration: the `config` coordinate when it
    holds strings, otherwise built from the four bit-count variables."""
    if "config" in ds.variables and ds["config"].dtype.kind in "OUS":
        return _strings(ds["config"].values)
    bits = ["a_exponent_bits", "a_mantissa_bits", "b_exponent_bits", "b_mantissa_bits"]
    if all(b in ds.variables for b in bits):
        ae, am, be, bm = (np.asarray(ds[b].values) for b in bits)
        return [f"{format_label(ae[j], am[j])}/{format_label(be[j], bm[j])}"
                for j in range(len(ae))]
    n = ds.sizes.get("config", 0)
    return [f"config {j}" for j in range(n)]


def task_names(ds):
    if "task" in ds.variables and ds["task"].dtype.kind in "OUS":
        return _strings(ds["task"].values)
    return [f"task {i}" for i in range(ds.sizes.get("task", 0))]


def coord_strings(ds, dim):
    if dim in ds.variables:
        return _strings(ds[dim].values)
    return [str(i) for i in range(ds.sizes[dim])]


def pareto_mask(memory, error):
    """Pareto-optimal points minimizing (memory, error) among finite points;
    exact duplicates are all optimal (METHOD.md F8.1). O(d log d) sweep."""
    memory = np.asarray(memory, float)
    error = np.asarray(error, float)
    ok = np.isfinite(memory) & np.isfinite(error)
    mask = np.zeros(memory.shape, bool)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return mask
    order = idx[np.lexsort((error[idx], memory[idx]))]
    best = np.inf  # lowest error among strictly smaller memory
    i = 0
    while i < order.size:
        j = i
        while j < order.size and memory[order[j]] == memory[order[i]]:
            j += 1
        group = order[i:j]
        emin = error[group].min()
        if emin < best:
            mask[group[error[group] == emin]] = True
            best = emin
        i = j
    return mask


def recommend(memory, error, budget):
    """F9.1: argmin error among configurations with memory <= budget; ties to
    smaller memory, then lower index. None when nothing is feasible."""
    memory = np.asarray(memory, float)
    error = np.asarray(error, float)
    ok = np.flatnonzero(np.isfinite(error) & np.isfinite(memory) & (memory <= budget))
    if ok.size == 0:
        return None
    order = ok[np.lexsort((ok, memory[ok], error[ok]))]
    return int(order[0])


def frontier_line(ax, memory, error, mask, **kw):
    """Draw a Pareto frontier as a staircase through the masked points."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return None
    idx = idx[np.lexsort((error[idx], memory[idx]))]
    return ax.step(memory[idx], error[idx], where="post", **kw)[0]


def log_memory_axis(ax, axis="x"):
    """Log scale with plain-number ticks (3, 4, 5 MiB rather than 4x10^0)."""
    from matplotlib import ticker
    set_scale = ax.set_xscale if axis == "x" else ax.set_yscale
    set_scale("log")
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        return
    ticks = []
    for mantissas in [(1,), (1, 2, 5), (1, 2, 3, 5), (1, 1.5, 2, 3, 4, 5, 6, 7, 8),
                      (1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9)]:
        cand = [m * 10.0 ** k for k in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
                for m in mantissas]
        cand = [t for t in cand if lo <= t <= hi]
        if len(cand) > 9:
            break
        ticks = cand
        if len(cand) >= 4:
            break
    axis_obj = ax.xaxis if axis == "x" else ax.yaxis
    axis_obj.set_major_locator(ticker.FixedLocator(ticks))
    axis_obj.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    axis_obj.set_minor_formatter(ticker.NullFormatter())
    (ax.set_xlim if axis == "x" else ax.set_ylim)(lo, hi)


def safe_folder(folder):
    """Create `folder` (and its parents) and return it; refused (InputError)
    when it, or a folder made for it, is a symbolic link: a link planted in a
    shared run folder must not send the figures somewhere else."""
    folder = os.path.abspath(folder)
    if os.path.islink(folder):
        raise InputError(f"{folder}: is a symbolic link; figures are written only into a real folder "
                         "(remove the link)")
    os.makedirs(folder, exist_ok=True)
    if os.path.islink(folder) or not os.path.isdir(folder):
        raise InputError(f"{folder}: not a folder")
    return folder


def safe_replace(path, write):
    """Write `path` the way peppp writes its outputs: `write(tmp)` fills an
    exclusively created, unpredictably named temporary in the same folder
    (never through a link), which then replaces `path` by rename (a link at
    `path` is replaced itself, its target untouched)."""
    import tempfile
    folder = safe_folder(os.path.dirname(os.path.abspath(path)))
    base = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(prefix=base + ".tmp-", suffix=os.path.splitext(base)[1], dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the figures from the group
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_text(path, text):
    """`text` to `path` through `safe_replace`."""
    def fill(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    return safe_replace(path, fill)


def save(fig, path, pdf=False):
    safe_replace(path, lambda tmp: fig.savefig(tmp, bbox_inches="tight", format="png"))
    if pdf:
        safe_replace(os.path.splitext(path)[0] + ".pdf",
                     lambda tmp: fig.savefig(tmp, bbox_inches="tight", format="pdf"))
    plt.close(fig)
    return path


def safe_name(text):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def run_main(main):
    """Run a script's main(); InputError -> one line on stderr, exit 1."""
    prog = os.path.basename(sys.argv[0])
    try:
        rc = main()
    except InputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)
    sys.exit(rc or 0)
