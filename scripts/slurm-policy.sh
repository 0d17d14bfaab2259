# Sourced by scripts/local-slurm.sh and scripts/local-cluster.sh: the
# scheduling policy both test clusters share, one slurm.conf line each.
# MpiDefault=pmix (srun starts Open MPI ranks), proctrack/linuxproc and
# task/none (no cgroups in a container), cons_tres by core, prompt requeues
# (MinJobAge, KillWait, JobRequeue) and no scheduling delay, so the tests'
# jobs start and end within seconds.
slurm_policy_lines() {
  cat <<'POLICY'
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
MinJobAge=2
KillWait=5
InactiveLimit=0
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
JobRequeue=1
POLICY
}
