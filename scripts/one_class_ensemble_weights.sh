#!/usr/bin/env bash
# The exact command behind hub_repos/fake-image-detection-ensemble (run from the repository root): trains all nine
# members on all 20,000 real CIFAKE training images, fits the complexity corrections and stacked weights on the whole
# labelled validation split, and evaluates on the test split and the AI-art test split.
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_one_class_ensemble.py --dataset ../shared/data/cifake --max-train-samples 20000 --epochs 2 \
  --max-calibration-samples 2500 --output-dir hub_repos/fake-image-detection-ensemble
