#!/bin/bash
# Example: the whole study as dependent jobs. Run from the peppp folder:
#   jobs/slurm/submit-all.sh inputs/demo.ini results/demo [ARRAY_PARTS]
# measure (requeues itself until complete) -> complete -> LOOCV parts as a
# job array -> merge. Each step starts only when the previous one succeeded
# (--dependency=afterok). Add your site's flags (account, partition, GPUs)
# through env.sh or SBATCH_* variables.
set -euo pipefail
CONFIG=${1:?usage: submit-all.sh CONFIG OUTPUT_DIR [ARRAY_PARTS]}
OUT=${2:?usage: submit-all.sh CONFIG OUTPUT_DIR [ARRAY_PARTS]}
PARTS=${3:-4}
J=jobs/slurm
mkdir -p "$OUT"
# --parsable: sbatch prints only the job id.
m=$(sbatch --parsable "$J/measure.sbatch" "$CONFIG" "$OUT/campaign.nc")
c=$(sbatch --parsable --dependency=afterok:$m --ntasks=1 --job-name=peppp-complete \
      --wrap "srun --mpi=\${PEPPP_SRUN_MPI:-pmix} \${PEPPP_EXE:-build/bin/peppp} complete --campaign $OUT/campaign.nc --output $OUT/completed.nc")
a=$(sbatch --parsable --dependency=afterok:$c --array=1-$PARTS "$J/loocv-array.sbatch" "$OUT/campaign.nc" "$OUT/loocv")
g=$(sbatch --parsable --dependency=afterok:$a "$J/loocv-merge.sbatch" "$OUT/loocv" "$PARTS" "$OUT/loocv.nc")
echo "submitted: measure $m -> complete $c -> loocv array $a (1-$PARTS) -> merge $g"
