#!/usr/bin/env bash
# A one-node Slurm cluster on localhost (slurmctld + slurmd + munged), for the
# job-script tests and for trying jobs/slurm/ on a workstation. No systemd:
# the daemons run as root with all state under one folder.
#
#   scripts/local-slurm.sh up     [STATE_DIR]   start (idempotent); prints the SLURM_CONF to export
#   scripts/local-slurm.sh down   [STATE_DIR]   stop every daemon it started (idempotent)
#   scripts/local-slurm.sh status [STATE_DIR]   daemons and sinfo
#   scripts/local-slurm.sh env    [STATE_DIR]   the export line for SLURM_CONF
#
# STATE_DIR defaults to $PEPPP_SLURM_DIR, else /tmp/peppp-slurm. Options by
# environment: PEPPP_SLURM_CPUS (default: the online CPUs), PEPPP_SLURM_FAKE_GPUS
# (default 2: fake GPU devices so --gpus-per-task works and sets
# CUDA_VISIBLE_DEVICES per task; 0 disables).
#
# Facts this relies on (Debian 12, slurm-wlm 22.05, Open MPI 4.1):
# proctrack/linuxproc and task/none need no cgroups; MpiDefault=pmix (pmi2 and
# none fail with Debian's Open MPI); slurmd -N localhost because NodeName
# differs from the hostname; munged gets its own key and socket; short
# MinJobAge and zero scheduler delays make sbatch --wait return promptly;
# cred_expire=10 lets a requeued job start again after 10 s, not 120.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/slurm-policy.sh"

cmd=${1:-status}
STATE=${2:-${PEPPP_SLURM_DIR:-/tmp/peppp-slurm}}
CPUS=${PEPPP_SLURM_CPUS:-$(getconf _NPROCESSORS_ONLN)}   # not nproc: it follows OMP_NUM_THREADS
GPUS=${PEPPP_SLURM_FAKE_GPUS:-2}
CONF=$STATE/etc/slurm.conf
MUNGE_SOCKET=$STATE/munge/munge.socket
# Ports from the state folder, so two checkouts' clusters (two test runs on one
# machine) do not collide; below the ephemeral range. PEPPP_SLURM_PORT overrides.
PORT=${PEPPP_SLURM_PORT:-$((16000 + $(printf '%s' "$STATE" | cksum | cut -d' ' -f1) % 8000 * 2))}

die() { echo "local-slurm: $*" >&2; exit 1; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_config() {
  mkdir -p "$STATE"/{etc,log,spool/ctld,spool/d,munge,run,dev}
  local user; user=$(id -un)
  local gres_line="" gres_types=""
  if [ "$GPUS" -gt 0 ]; then
    : > "$STATE/etc/gres.conf"
    echo "AutoDetect=off" >> "$STATE/etc/gres.conf"
    for ((g = 0; g < GPUS; g++)); do
      # Character devices stand in for GPUs (/dev/null's numbers): Slurm
      # only needs a device file per GPU to bind.
      [ -e "$STATE/dev/fakegpu$g" ] || mknod "$STATE/dev/fakegpu$g" c 1 3
      echo "NodeName=localhost Name=gpu File=$STATE/dev/fakegpu$g" >> "$STATE/etc/gres.conf"
    done
    gres_line="Gres=gpu:$GPUS"
    gres_types="GresTypes=gpu"
  fi
  cat > "$CONF" <<CONF
ClusterName=peppp-local
SlurmctldHost=localhost
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET,cred_expire=10
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
$(slurm_policy_lines)
$gres_types
NodeName=localhost CPUs=$CPUS RealMemory=4096 State=UNKNOWN $gres_line
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
}

start_munge() {
  if pid_alive "$STATE/munge/munged.pid"; then return; fi
  if [ ! -f "$STATE/munge/munge.key" ]; then
    dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$STATE/munge/munge.key"
  fi
  chmod 700 "$STATE/munge"
  munged --key-file="$STATE/munge/munge.key" --socket="$MUNGE_SOCKET" \
         --pid-file="$STATE/munge/munged.pid" --seed-file="$STATE/munge/munge.seed" \
         --log-file="$STATE/munge/munged.log" --force
}

up() {
  command -v slurmctld >/dev/null || die "slurmctld not found; install slurm-wlm and munge (scripts/install-deps.sh)"
  write_config
  start_munge
  export SLURM_CONF=$CONF
  if ! pid_alive "$STATE/run/slurmctld.pid"; then
    slurmctld -f "$CONF" -i
  fi
  if ! pid_alive "$STATE/run/slurmd.pid"; then
    slurmd -f "$CONF" -N localhost
  fi
  # Wait until the node is idle (or mixed/allocated if jobs already run).
  for _ in $(seq 1 100); do
    state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
    case "$state" in idle*|mix*|alloc*) echo "export SLURM_CONF=$CONF"; return 0 ;; esac
    sleep 0.2
  done
  die "node did not become idle (state '${state:-none}'); see $STATE/log/"
}

down() {
  for p in "$STATE/run/slurmd.pid" "$STATE/run/slurmctld.pid" "$STATE/munge/munged.pid"; do
    if pid_alive "$p"; then
      pid=$(cat "$p")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$p"
  done
  # slurmstepd processes of jobs still running would outlive slurmd.
  pkill -f "slurmstepd.*$STATE" 2>/dev/null || true
  return 0
}

status() {
  for p in slurmctld slurmd; do
    if pid_alive "$STATE/run/$p.pid"; then echo "$p: running (pid $(cat "$STATE/run/$p.pid"))"; else echo "$p: stopped"; fi
  done
  if pid_alive "$STATE/munge/munged.pid"; then echo "munged: running"; else echo "munged: stopped"; fi
  if pid_alive "$STATE/run/slurmctld.pid"; then SLURM_CONF=$CONF sinfo || true; fi
}

case "$cmd" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) die "unknown command '$cmd'; allowed: up, down, status, env" ;;
esac
