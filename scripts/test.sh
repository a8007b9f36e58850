#!/usr/bin/env bash
# The test command: install Debian and Python packages, then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages the tests need (the distributed-training tests will add openmpi-bin, openssh-server).
DEBIAN_PACKAGES=(procps)
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
