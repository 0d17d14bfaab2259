#!/bin/bash
# sbatch --wait jobs/slurm/measure.sbatch (ci config, 2 tasks) gives the same
# campaign as a 2-rank run started by the launcher (mpi_launch 2).
source "$(dirname "$0")/lib.sh"
W=$(workdir measure)
cd "$PEPPP_SOURCE_DIR"
mpi_launch 2 "$PEPPP_EXE" measure --config inputs/ci.ini --output "$W/mpirun.nc" --quiet
sbatch --wait --ntasks=2 --overcommit --output="$W/job.out" \
  jobs/slurm/measure.sbatch inputs/ci.ini "$W/slurm.nc" || { cat "$W/job.out"; fail "sbatch job failed"; }
cat "$W/job.out"
[ -f "$W/slurm.nc" ] || fail "no campaign file from the Slurm job"
diff <(nc_values "$W/mpirun.nc" error,status,final_loss) <(nc_values "$W/slurm.nc" error,status,final_loss) \
  || fail "Slurm and mpirun campaigns differ"
ranks=$(ncdump -h "$W/slurm.nc" | sed -n 's/.*:mpi_ranks = "\{0,1\}\([0-9]*\).*/\1/p')
[ "$ranks" = "2" ] || fail "the Slurm campaign ran on '$ranks' ranks, expected 2"
echo "PASS: Slurm campaign equals the mpirun campaign"
