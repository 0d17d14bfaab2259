#!/usr/bin/env bash
# Install every Debian 12 package peppp needs to build, test and run.
# Idempotent: installs only what is missing, and is quiet when all is there.
# Usage: scripts/install-deps.sh            (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ccache git pkg-config
  # the seven libraries (and their runtimes)
  libopenmpi-dev openmpi-bin
  libtorch-dev
  libeigen3-dev
  libboost-program-options-dev
  libnetcdf-dev netcdf-bin
  libbenchmark-dev
  libgtest-dev googletest
  zlib1g-dev
  # data: Fashion-MNIST (IDX gz) in /usr/share/datasets/fashion-mnist
  dataset-fashion-mnist
  # analysis scripts (Debian's python3, not a virtualenv)
  python3 python3-numpy python3-netcdf4 python3-xarray python3-matplotlib python3-pil
  # TorchScript networks: examples/models/ and the tests script them (the same 1.13 as libtorch-dev)
  python3-torch
  # local one-node Slurm for the job-script tests
  slurm-wlm munge
  # virtual multi-node cluster of the multinode tests (ip, unshare, nsenter)
  iproute2 util-linux
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's slurm-wlm and munge packages start services through systemd when it
# exists; our tests run their own daemons (scripts/local-slurm.sh), so stop any
# that a package post-install may have started.
for svc in slurmctld slurmd munge; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
echo "install-deps: done"
