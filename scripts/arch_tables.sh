#!/usr/bin/env bash
# Tables of meta-LOOCV on a campaign of task x model rows with several
# architectures (issue #30, docs/ei-mf.md §5): for each model M
#   across-M : every row meta-trains, M's rows are held out (--test-rows model=M)
#   within-M : M's rows only, meta-training and held out (--rows model=M)
# and all   : every row, held out by task;
# always --fold-by task --cap task-median (zero-shot and random-high-memory are
# always in loocv's comparison). Per scenario it keeps NAME.nc (loocv.nc) and
# NAME.log, and writes NAME.md: one markdown table of method, trainings, mean
# regret ± standard error over folds, ±2σ coverage (from loocv's printed
# summary: 3 decimals; NAME.nc has every fold). summary.md gathers them with
# the heterogeneity report of `peppp info` (Kendall tau between the models'
# mean configuration rankings, configuration effect over replicate noise).
#
#   scripts/arch_tables.sh PEPPP CAMPAIGN.nc OUTDIR [RANKS] [extra loocv options...]
#
# Environment: SETTINGS (I), METHODS (ei-mf,ed-mf,random-mf), MEASUREMENTS (3,5),
# MODELS (default: the campaign's, from peppp info), MPIRUN (the launcher, e.g.
# "mpirun --oversubscribe"; default mpirun, none for 1 rank), ROWS (row
# selectors of loocv --rows, e.g. task=five,task=all10, that narrow every
# scenario to those rows: the tasks every architecture measured, when one
# model has rows of more tasks; default: every row).
# A scenario whose NAME.md and NAME.nc exist is not run again. Exit 1 when a
# scenario failed (its NAME.md says so; the others are written).
set -uo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
  exit 2
fi
peppp=$1 campaign=$2 out=$3
ranks=${4:-1}
shift $(($# < 4 ? $# : 4))
extra=("$@")
mkdir -p "$out" || exit 1
info=$("$peppp" info "$campaign") || { echo "arch_tables: peppp info $campaign failed" >&2; exit 1; }
models=${MODELS:-$(printf '%s\n' "$info" | sed -n 's/^  rows: .* x models (\(.*\)) x learning rates.*/\1/p' | sed 's/, /,/g')}
IFS=',' read -r -a model_list <<< "$models"
if [ "${#model_list[@]}" -lt 2 ]; then
  echo "arch_tables: $campaign has rows of ${#model_list[@]} model(s) (${models:-none}); allowed: a row campaign of several (peppp merge, campaign.models)" >&2
  exit 1
fi
common=(--fold-by task --cap task-median --settings "${SETTINGS:-I}" --methods "${METHODS:-ei-mf,ed-mf,random-mf}"
        --measurements "${MEASUREMENTS:-3,5}")

# The markdown table of loocv's printed summary (file $1) titled $2.
summary_table() {
  awk -v title="$2" '
    /^Setting / { setting = $2; next }
    $1 == "method" && $2 == "l" { print_header(); inside = 1; next }
    inside && NF >= 8 {
      regret = $6; mark = ""
      if (regret ~ /[*=]$/) { mark = substr(regret, length(regret)); regret = substr(regret, 1, length(regret) - 1) }
      sub(/±/, " ± ", regret)
      cover = $8; sub(/±/, " ± ", cover)
      note = mark == "*" ? " (best)" : mark == "=" ? " (tie)" : ""
      printf "| %s | %s | %s | %s%s | %s |\n", setting, $1, $2, regret, note, cover
      next
    }
    { inside = 0 }
    function print_header() {
      if (done) return
      done = 1
      printf "### %s\n\n", title
      print "| setting | method | trainings | mean regret ± s.e. | ±2σ coverage |"
      print "|---|---|---|---|---|"
    }
    END { if (!done) { printf "### %s\n\nno summary in the log\n", title; exit 1 } }' "$1"
}

launch=(${MPIRUN:-mpirun} -np "$ranks")
[ -z "${MPIRUN:-}" ] && [ "$ranks" = 1 ] && launch=()
failed=0
# run_scenario NAME TITLE [loocv row options...]
run_scenario() {
  local name=$1 title=$2
  shift 2
  if [ -s "$out/$name.md" ] && [ -s "$out/$name.nc" ]; then
    echo "arch_tables: $name: kept ($out/$name.nc)"
    return
  fi
  rm -f "$out/$name.nc"
  echo "arch_tables: $name: loocv $* ..."
  if "${launch[@]}" "$peppp" loocv --campaign "$campaign" --output "$out/$name.nc" "${common[@]}" \
       "$@" "${extra[@]}" > "$out/$name.log" 2>&1 && summary_table "$out/$name.log" "$title" > "$out/$name.md"; then
    cat "$out/$name.md"
  else
    printf '### %s\n\nloocv failed: see %s\n' "$title" "$out/$name.log" > "$out/$name.md"
    tail -5 "$out/$name.log" >&2
    rm -f "$out/$name.nc"
    failed=1
  fi
}

names=()
for m in "${model_list[@]}"; do
  tag=$(printf '%s' "$m" | sed 's#^torchscript:##; s#.*/##; s#[^A-Za-z0-9._-]#_#g')
  run_scenario "across-$tag" "Leave one architecture out: $m held out, every row meta-trains" \
    ${ROWS:+--rows "$ROWS"} --test-rows "model=$m"
  run_scenario "within-$tag" "Within one architecture: $m rows only" --rows "${ROWS:+$ROWS,}model=$m"
  names+=("across-$tag" "within-$tag")
done
run_scenario all "All rows, held out by task" ${ROWS:+--rows "$ROWS"}
names+=(all)
{
  echo "# Meta-LOOCV across architectures: $campaign"
  echo
  echo "Options: ${common[*]} ${ROWS:+--rows $ROWS} ${extra[*]}; $ranks rank(s). Regret: mean ± standard error over folds."
  echo
  echo '```'
  printf '%s\n' "$info" | sed -n '/^  rows: /,/^  per-epoch\|^  noise\|^  attributes/p' | grep -v '^  per-epoch\|^  noise\|^  attributes'
  echo '```'
  for n in "${names[@]}"; do
    echo
    cat "$out/$n.md"
  done
} > "$out/summary.md"
echo "arch_tables: -> $out/summary.md"
exit $failed
