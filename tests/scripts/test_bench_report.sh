#!/bin/bash
# scripts/bench-report.sh end to end at smoke size: every suite but the slow
# loocv and campaign ones runs, the summary has a table per suite with its
# limits, and --update replaces the generated block of a BENCHMARKS.md copy
# between its markers (hand-written text kept, one block only), twice.
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
printf '# Benchmarks\n\nintro\n\n## Hand-written\n\nkept text\n' > "$work/B.md"
# The second round (only the fast meta suite) must replace the block, not add one.
for skip in loocv,growth,campaign loocv,growth,campaign,quant,nn; do
  "$src/scripts/bench-report.sh" "$build" --quick --skip "$skip" --out "$work/out" --update "$work/B.md" > "$work/log.txt" 2>&1 \
    || { cat "$work/log.txt"; exit 1; }
  [ "$skip" = loocv,growth,campaign ] && cp "$work/B.md" "$work/B-first.md"
done
grep -q '### Quantization kernels' "$work/B-first.md" || { echo "FAIL: first round has no quant table"; exit 1; }
if grep -q '### Quantization kernels' "$work/B.md"; then echo "FAIL: the block was not replaced"; exit 1; fi
fail() { echo "FAIL: $*"; cat "$work/B.md"; exit 1; }
[ "$(grep -c 'bench-report:begin' "$work/B.md")" = 1 ] || fail "not one generated block"
grep -q '^kept text$' "$work/B.md" || fail "hand-written text lost"
grep -q '^intro$' "$work/B.md" || fail "intro lost"
for want in '### Quantization kernels' '| buffer | e4m3 | nearest | 1 |' 'read+write' 'clone()' \
            '### Training step' '| small-cnn |' '### SoftImpute 87' 'factored (default)' 'load '; do
  grep -qF "$want" "$work/B-first.md" || fail "no '$want' in the summary"
done
grep -qF 'factored (default)' "$work/B.md" || fail "second round lost the meta table"
echo "PASS: bench-report summary generated and BENCHMARKS.md block replaced in place"
