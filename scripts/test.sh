#!/usr/bin/env bash
# The test command: install Debian and Python packages, then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages the tests need. Distributed training: Open MPI and its headers (mpi4py and
# Horovod build against them), sshd and the ssh client, cmake/g++ for Horovod, a C compiler for
# the gethostname preload library, iproute2/util-linux for the network-namespace hosts.
DEBIAN_PACKAGES=(procps openmpi-bin libopenmpi-dev openssh-server openssh-client cmake g++ gcc
    make iproute2 util-linux)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
scripts/setup-env.sh
.venv/bin/ruff check sagemaker_tensorflow_runtime sagemaker_tensorflow tests bench examples
.venv/bin/mypy
.venv/bin/python -m pytest tests "$@"
