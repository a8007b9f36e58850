#!/usr/bin/env bash
# The demo: install, train the bundled example in script mode on a temporary /opt/ml tree without
# Docker, then serve the SavedModel it produced, print a prediction obtained over HTTP and stop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
work=$(mktemp -d -t sagemaker-tf-demo-XXXXXX)
echo "== generating the example's two channels under $work/data"
.venv/bin/python examples/half_plus_three/make_data.py "$work/data"
echo "== training (SAGEMAKER_BASE_DIR=$work/opt_ml)"
.venv/bin/sagemaker-tf-local \
    --source-dir examples/half_plus_three/src --entry-point train.py \
    --channel training="$work/data/training" --channel testing="$work/data/testing" \
    --hyperparameter epochs=15 --hyperparameter learning-rate=0.1 \
    --job-name half-plus-three-demo --base-dir "$work/opt_ml"
test -f "$work/opt_ml/output/success"
find "$work/opt_ml/model" -name saved_model.pb
echo "== serving it"
exec .venv/bin/python examples/half_plus_three/serve_and_predict.py "$work/opt_ml"
