#!/bin/bash
# scripts/arch_tables.sh on a small synthetic campaign of task x model rows (4 ci tasks x small-cnn,
# resnet8, 2 replicates) at 1 rank: per model a leave-one-architecture-out and a within-architecture
# table, one of all rows, each with zero-shot and random-high-memory, the heterogeneity report in
# summary.md; a rerun keeps the tables; a campaign of one model is refused; ROWS narrows every scenario.
set -euo pipefail
peppp=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$peppp" measure --config "$src/inputs/ci.ini" --synthetic.seconds 0.001 --campaign.models small-cnn,resnet8 \
  --train.replicates 2 --run.progress_interval 0 --output "$work/rows.nc" > "$work/measure.log" 2>&1 \
  || { cat "$work/measure.log"; fail "measure"; }
MEASUREMENTS=3 "$src/scripts/arch_tables.sh" "$peppp" "$work/rows.nc" "$work/out" 1 --rank 2 > "$work/log.txt" 2>&1 \
  || { cat "$work/log.txt"; fail "arch_tables.sh exited $?"; }
for n in across-small-cnn within-small-cnn across-resnet8 within-resnet8 all; do
  [ -s "$work/out/$n.nc" ] || fail "no $n.nc"
  grep -q '^| setting | method | trainings | mean regret ± s.e. | ±2σ coverage |$' "$work/out/$n.md" || fail "$n.md has no table"
  for m in zero-shot ei-mf ed-mf random-mf random-high-memory; do
    grep -Eq "^\| I \| $m \| [03] \| [0-9.]+ ± [0-9.]+( \((best|tie)\))? \| ([0-9.]+ ± [0-9.]+|-) \|$" "$work/out/$n.md" \
      || { cat "$work/out/$n.md"; fail "$n.md has no $m row"; }
  done
done
grep -q 'Leave one architecture out: resnet8 held out' "$work/out/summary.md" || fail "summary.md lacks the across table"
grep -q 'small-cnn vs resnet8: tau ' "$work/out/summary.md" || fail "summary.md lacks the Kendall tau"
grep -q 'resnet8: effect .*, noise .*, ratio ' "$work/out/summary.md" || fail "summary.md lacks the effect/noise ratio"
[ "$(grep -c '^### ' "$work/out/summary.md")" = 5 ] || fail "summary.md has not 5 tables"
# A rerun keeps what is there.
cp "$work/out/all.md" "$work/all-first.md"
MEASUREMENTS=3 "$src/scripts/arch_tables.sh" "$peppp" "$work/rows.nc" "$work/out" 1 --rank 2 > "$work/log2.txt" 2>&1 \
  || { cat "$work/log2.txt"; fail "rerun"; }
grep -q 'all: kept' "$work/log2.txt" || fail "the rerun did not keep all.nc"
cmp -s "$work/all-first.md" "$work/out/all.md" || fail "the rerun changed all.md"
# One model: refused.
"$peppp" measure --config "$src/inputs/ci.ini" --synthetic.seconds 0.001 --run.progress_interval 0 \
  --output "$work/one.nc" > "$work/measure1.log" 2>&1 || fail "measure one"
if "$src/scripts/arch_tables.sh" "$peppp" "$work/one.nc" "$work/out1" 1 > "$work/log3.txt" 2>&1; then
  fail "a one-model campaign was accepted"
fi
grep -q 'allowed: a row campaign of several' "$work/log3.txt" || { cat "$work/log3.txt"; fail "no reason given"; }
# ROWS narrows every scenario to those rows (here 3 of the 4 tasks, both models).
ROWS=task=shirt-coat,task=trouser-bag,task=shoes MEASUREMENTS=3 "$src/scripts/arch_tables.sh" "$peppp" \
  "$work/rows.nc" "$work/outr" 1 --rank 2 > "$work/log4.txt" 2>&1 || { cat "$work/log4.txt"; fail "ROWS run"; }
grep -q '6 rows x 9 configurations, 3 held out' "$work/outr/across-resnet8.log" \
  || { head -3 "$work/outr/across-resnet8.log"; fail "ROWS did not narrow the across scenario"; }
grep -q '3 rows x 9 configurations' "$work/outr/within-small-cnn.log" \
  || { head -3 "$work/outr/within-small-cnn.log"; fail "ROWS did not narrow the within scenario"; }
grep -q '6 rows x 9 configurations, 6 held out' "$work/outr/all.log" \
  || { head -3 "$work/outr/all.log"; fail "ROWS did not narrow the all-row scenario"; }
grep -q -- '--rows task=shirt-coat,task=trouser-bag,task=shoes' "$work/outr/summary.md" || fail "summary.md lacks ROWS"
echo "PASS: arch_tables.sh wrote the leave-one-architecture-out, within and all-row tables"
