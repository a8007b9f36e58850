#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the runtime with everything the demo and tests need.
# Sourced by demo.sh and test.sh; safe to run again (pip skips what is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[tensorflow,serving,test]"
# The TF Serving protos and gRPC stubs; --no-deps keeps pip from replacing tensorflow-cpu 2.15.1
# with the newest `tensorflow` that this package's metadata asks for.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    tensorflow-serving-api==2.15.1

# Distributed training (MPI/Horovod): mpi4py and Horovod build against the system Open MPI
# (Debian openmpi-bin libopenmpi-dev cmake g++, installed by test.sh). Horovod 0.28.1 is built
# once (about two minutes) into a wheel cache and reused from there on later runs.
HOROVOD_VERSION=0.28.1
WHEEL_CACHE=${SAGEMAKER_TF_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sagemaker-tensorflow-runtime/wheels}
if command -v mpicc >/dev/null 2>&1; then
    .venv/bin/python -c "import mpi4py" 2>/dev/null \
        || .venv/bin/python -m pip install --quiet --disable-pip-version-check "mpi4py>=3.1,<5"
    if ! .venv/bin/python -c "import horovod.tensorflow" 2>/dev/null; then
        mkdir -p "$WHEEL_CACHE"
        wheel=$(ls "$WHEEL_CACHE"/horovod-"$HOROVOD_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
        if [ -z "$wheel" ]; then
            echo "== building horovod==$HOROVOD_VERSION (about two minutes; cached in $WHEEL_CACHE)"
            # One retry: a first build here once failed to detect TensorFlow and passed on rerun.
            for attempt in 1 2; do
                HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_MPI=1 HOROVOD_WITHOUT_PYTORCH=1 \
                    HOROVOD_WITHOUT_MXNET=1 HOROVOD_WITHOUT_GLOO=1 \
                    .venv/bin/python -m pip wheel --quiet --disable-pip-version-check \
                    --no-build-isolation --no-deps --wheel-dir "$WHEEL_CACHE" \
                    "horovod==$HOROVOD_VERSION" && break
                [ "$attempt" -eq 2 ] && exit 1
                echo "== horovod build failed; retrying once"
            done
            wheel=$(ls "$WHEEL_CACHE"/horovod-"$HOROVOD_VERSION"-*.whl | head -n 1)
        fi
        .venv/bin/python -m pip install --quiet --disable-pip-version-check "$wheel"
    fi
fi
