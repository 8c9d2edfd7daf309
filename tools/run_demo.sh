#!/usr/bin/env bash
# Sets everything up (tools/setup_env.sh), then runs the main job on the embedded default:
# generate the synthetic dataset, train the CPU config on crops, evaluate PQ on the val split and
# save one visualised prediction as PNG.
#
# Environment: CONFIG (default: the synthetic CPU config), WORK_DIR, DATA (default data/synthetic).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash tools/setup_env.sh
VENV="${VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
CONFIG="${CONFIG:-configs/synthetic/seamless_hrnet-slim_crop-256_1200i_synthetic.py}"
NAME="$(basename "$CONFIG" .py)"
WORK_DIR="${WORK_DIR:-work_dirs/$NAME}"
DATA="${DATA:-data/synthetic}"
start=$(date +%s)

if [ ! -f "$DATA/annotations/panoptic_val.json" ]; then
    "$PY" tools/dataset_converters/make_synthetic_panoptic.py --out "$DATA" --seed 0
fi
# Validation is left to tools/test.py below, so training does not evaluate twice.
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" \
    --cfg-options val_cfg=None val_dataloader=None val_evaluator=None
CKPT="$(cat "$WORK_DIR/last_checkpoint")"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test" | tee "$WORK_DIR/test.log"
IMG="$(ls "$DATA"/images/val/*.jpg | head -n 1)"
"$PY" demo/image_demo.py "$IMG" "$CONFIG" "$CKPT" --out-file "$WORK_DIR/demo_prediction.png"
echo "visualised prediction: $WORK_DIR/demo_prediction.png"
echo "total wall time: $(( $(date +%s) - start )) s"
