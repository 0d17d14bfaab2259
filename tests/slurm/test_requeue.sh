#!/bin/bash
# A USR1 (as --signal=B:USR1@T sends before the time limit) interrupts the
# measure job mid-campaign: peppp exits 3, the job requeues itself, the rerun
# resumes from the journals and completes with every cell trained once.
source "$(dirname "$0")/lib.sh"
W=$(workdir requeue)
cd "$PEPPP_SOURCE_DIR"
# Synthetic cells of a known length make "mid-campaign" deterministic enough.
OPTS=(--synthetic.seconds 1.5 --synthetic.spread 0)
id=$(sbatch --parsable --ntasks=2 --overcommit --output="$W/job.out" \
       jobs/slurm/measure.sbatch inputs/ci.ini "$W/campaign.nc" "${OPTS[@]}")
# Wait until a few cells are journaled, then signal the batch shell.
for _ in $(seq 1 120); do
  n=$("$PEPPP_EXE" info "$W/campaign.nc.journal" 2>/dev/null | sed -n 's/^ *\([0-9]*\) cell records.*/\1/p' || true)
  [ "${n:-0}" -ge 3 ] && break   # three cells journaled
  sleep 0.5
done
scancel --signal=USR1 --batch "$id"
wait_job_gone "$id" 300
cat "$W/job.out"
grep -q "requeueing job $id" "$W/job.out" || fail "the job did not requeue itself"
grep -q "restart 1" "$W/job.out" || fail "the job did not run again after the requeue"
[ -f "$W/campaign.nc" ] || fail "no campaign file"
"$PEPPP_EXE" info "$W/campaign.nc" > "$W/info.txt"
cat "$W/info.txt"
planned=$(ncdump -v status "$W/campaign.nc" | sed -n '/^ status =/,/;/p' | grep -o '[0-9]' | grep -c -v '^[01]$' || true)
total=$(ncdump -v status "$W/campaign.nc" | sed -n '/^ status =/,/;/p' | grep -o '[0-9]' | wc -l)
[ "$planned" = "$total" ] || fail "$planned of $total cells have a result"
# Nothing trained twice: one journal record per planned cell.
"$PEPPP_EXE" info "$W/campaign.nc.journal"
records=$("$PEPPP_EXE" info "$W/campaign.nc.journal" | sed -n 's/^ *\([0-9]*\) cell records.*/\1/p')
[ "$records" = "$total" ] || fail "$records journal records for $total cells"
# Results equal an uninterrupted run.
mpi_launch 2 "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/ref.nc" --quiet --synthetic.seconds 0.01 --synthetic.spread 0   # same errors: they depend on the cell seed only
diff <(nc_values "$W/ref.nc" error,status) <(nc_values "$W/campaign.nc" error,status) || fail "requeued campaign differs"
echo "PASS: interrupted job requeued itself and completed every cell once"
