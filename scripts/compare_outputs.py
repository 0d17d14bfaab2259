#!/usr/bin/env python3
"""Compare peppp output files variable by variable.

    scripts/compare_outputs.py REFERENCE NEW [--rtol X] [--allow-extra]

REFERENCE and NEW are two .nc files, or two folders: then every *.nc file of
REFERENCE is compared with the file of the same name in NEW. Two files agree
when every dimension, variable, variable attribute and value of REFERENCE is
in NEW with the same dimensions, type and values (NaN equals NaN; exact unless
--rtol is given). Global attributes (provenance: dates, command lines, git
commits) are not compared. Variables and dimensions that NEW adds are listed;
they are differences only without --allow-extra.

Wall times (`train_seconds`) differ from run to run and are not compared.

Renamed on purpose (read either way): the loocv.nc dimension and coordinate
`method` is now `acquisition` (xarray's `sel()` takes `method` as a keyword).

Prints one line per difference and a closing `N passed, N failed` count of
files. Exit 0 when every file agrees, 1 otherwise, 2 on unusable arguments.
"""
import argparse
import os
import sys

import numpy as np

try:
    import netCDF4
except ImportError:  # pragma: no cover
    sys.exit("compare_outputs.py: needs the netCDF4 module (apt-get install python3-netcdf4)")

# Names that a later version renamed on purpose: old name -> new name.
RENAMED = {"method": "acquisition"}
# Variables that differ from run to run by nature (wall times), never compared.
VOLATILE = ("train_seconds",)


def _renamer(table):
    """Maps a REFERENCE name to its name in NEW (either spelling of a rename)."""
    def rename(name):
        if name in table:
            return name
        new = RENAMED.get(name)
        if new is not None and new in table:
            return new
        for old, new in RENAMED.items():
            if name == new and old in table:
                return old
        return name
    return rename


def _values(var):
    var.set_auto_mask(False)
    return var[...]


def _equal(a, b, rtol):
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False, f"shape {a.shape} != {b.shape}"
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        a = a.astype(np.float64)
        b = b.astype(np.float64)
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if not np.array_equal(nan_a, nan_b):
            return False, f"NaN at different places ({int(nan_a.sum())} vs {int(nan_b.sum())})"
        ok = ~nan_a
        if rtol > 0:
            close = np.isclose(a[ok], b[ok], rtol=rtol, atol=0.0)
        else:
            close = a[ok] == b[ok]
        if not np.all(close):
            diff = np.abs(a[ok] - b[ok])
            return False, f"{int((~close).sum())} values differ, max |diff| {diff.max():.3g}"
        return True, ""
    if a.dtype.kind in "OSU" or b.dtype.kind in "OSU":
        a = np.vectorize(str)(a) if a.size else a
        b = np.vectorize(str)(b) if b.size else b
    if not np.array_equal(a, b):
        return False, f"{int(np.sum(a != b))} values differ"
    return True, ""


def compare_files(ref_path, new_path, rtol=0.0, allow_extra=False, ignore=VOLATILE):
    """Differences of NEW from REFERENCE, one string each (empty: they agree)."""
    out = []
    with netCDF4.Dataset(ref_path) as ref, netCDF4.Dataset(new_path) as new:
        _renamed = _renamer(set(new.dimensions) | set(new.variables))
        for name, dim in ref.dimensions.items():
            nname = _renamed(name)
            if nname not in new.dimensions:
                out.append(f"dimension '{name}' missing")
            elif len(new.dimensions[nname]) != len(dim):
                out.append(f"dimension '{name}': length {len(dim)} != {len(new.dimensions[nname])}")
        for name, var in ref.variables.items():
            if name in ignore:
                continue
            nname = _renamed(name)
            if nname not in new.variables:
                out.append(f"variable '{name}' missing")
                continue
            nvar = new.variables[nname]
            dims = tuple(_renamed(d) for d in var.dimensions)
            if dims != nvar.dimensions:
                out.append(f"variable '{name}': dimensions {dims} != {nvar.dimensions}")
                continue
            if var.dtype != nvar.dtype:
                out.append(f"variable '{name}': type {var.dtype} != {nvar.dtype}")
            for att in var.ncattrs():
                if att not in nvar.ncattrs():
                    out.append(f"variable '{name}': attribute '{att}' missing")
                else:
                    ok, why = _equal(np.atleast_1d(var.getncattr(att)), np.atleast_1d(nvar.getncattr(att)), 0.0)
                    if not ok:
                        out.append(f"variable '{name}': attribute '{att}' differs ({why})")
            ok, why = _equal(_values(var), _values(nvar), rtol)
            if not ok:
                out.append(f"variable '{name}': {why}")
        if not allow_extra:
            known_vars = {_renamed(v) for v in ref.variables}
            known_dims = {_renamed(d) for d in ref.dimensions}
            for name in new.variables:
                if name not in known_vars and name not in ignore:
                    out.append(f"variable '{name}' is new")
            for name in new.dimensions:
                if name not in known_dims:
                    out.append(f"dimension '{name}' is new")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("reference")
    p.add_argument("new")
    p.add_argument("--rtol", type=float, default=0.0, help="relative tolerance of floating-point values (default exact)")
    p.add_argument("--allow-extra", action="store_true", help="variables and dimensions NEW adds are not differences")
    a = p.parse_args(argv)
    if os.path.isdir(a.reference):
        if not os.path.isdir(a.new):
            print(f"compare_outputs.py: {a.reference} is a folder but {a.new} is not", file=sys.stderr)
            return 2
        names = sorted(f for f in os.listdir(a.reference) if f.endswith(".nc"))
        if not names:
            print(f"compare_outputs.py: {a.reference}: no .nc file", file=sys.stderr)
            return 2
        pairs = [(os.path.join(a.reference, f), os.path.join(a.new, f)) for f in names]
    else:
        pairs = [(a.reference, a.new)]
    passed = failed = 0
    for ref, new in pairs:
        if not os.path.exists(new):
            print(f"{new}: missing (reference {ref})")
            failed += 1
            continue
        diffs = compare_files(ref, new, a.rtol, a.allow_extra)
        for d in diffs:
            print(f"{new}: {d}")
        if diffs:
            failed += 1
        else:
            print(f"{new}: equal to {ref}")
            passed += 1
    print(f"compare: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
