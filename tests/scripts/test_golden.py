#!/usr/bin/env python3
"""The ci pipeline's outputs equal the reference files in tests/golden/ci,
variable by variable (scripts/compare_outputs.py; wall times excluded, the
loocv.nc dimension `method` read as its new name `acquisition`).

    test_golden.py MPIEXEC PEPPP_EXE SOURCE_DIR WORK_DIR

Runs `MPIEXEC -n 2 PEPPP_EXE run --config SOURCE_DIR/inputs/ci.ini` into
WORK_DIR and compares. A deliberate change of results regenerates the
reference files (tests/golden/README.md says how).
"""
import os
import shutil
import subprocess
import sys

mpiexec, exe, source, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
cmd = [mpiexec, "-n", "2", exe, "run", "--config", os.path.join(source, "inputs", "ci.ini"),
       "--output-dir", work, "--figures", "false", "--quiet"]
print(" ".join(cmd), flush=True)
subprocess.run(cmd, check=True)
sys.path.insert(0, os.path.join(source, "scripts"))
import compare_outputs  # noqa: E402

sys.exit(compare_outputs.main([os.path.join(source, "tests", "golden", "ci"), work]))
