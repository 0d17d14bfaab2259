#!/bin/bash
# LOOCV split over a job array + a merge job (afterok dependency) equals a
# single-job peppp loocv.
source "$(dirname "$0")/lib.sh"
W=$(workdir loocv_array)
cd "$PEPPP_SOURCE_DIR"
# The ci campaign has 9 configurations: with the median cap, 3 fit every fold.
LOOCV=(--measurements 3 --settings I,IV)
# A campaign of synthetic cells is enough to exercise the job mechanics.
mpi_launch 2 "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/campaign.nc" --quiet --synthetic.seconds 0.01
sbatch --wait --ntasks=2 --overcommit --output="$W/single.out" \
  jobs/slurm/loocv.sbatch "$W/campaign.nc" "$W/single.nc" "${LOOCV[@]}" || { cat "$W/single.out"; fail "single loocv job failed"; }
a=$(sbatch --parsable --array=1-3 --output="$W/part-%a.out" jobs/slurm/loocv-array.sbatch "$W/campaign.nc" "$W/loocv" "${LOOCV[@]}")
m=$(sbatch --parsable --dependency=afterok:$a --output="$W/merge.out" jobs/slurm/loocv-merge.sbatch "$W/loocv" 3 "$W/merged.nc")
wait_job_gone "$m" 300
cat "$W"/part-*.out "$W/merge.out"
[ -f "$W/merged.nc" ] || fail "no merged file"
vars=relative_error,convergence,hyperdiff,selected_config,selected_error,regret,measured_memory
diff <(nc_values "$W/single.nc" $vars) <(nc_values "$W/merged.nc" $vars) || fail "array+merge differs from one job"
echo "PASS: job-array LOOCV + merge equals one job"
