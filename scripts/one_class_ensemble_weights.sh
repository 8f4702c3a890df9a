#!/usr/bin/env bash
# The exact command behind hub_repos/fake-image-detection-ensemble (run from the repository root): trains all nine
# members on all 20,000 real CIFAKE training images, fits the complexity corrections and stacked weights on the whole
# labelled validation split, and evaluates on the test split and the AI-art test split.
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_one_class_ensemble.py --dataset ../shared/data/cifake --max-train-samples 20000 --epochs 2 \
  --max-calibration-samples 2500 --output-dir hub_repos/fake-image-detection-ensemble
# The bundled repo was then updated in steps, each reusing the members it did not retrain as they were:
#   python scripts/train_one_class_ensemble.py ... (the same options) --reuse-members --retrain statistical
#   python scripts/train_one_class_ensemble.py ... (the same options) --reuse-members --retrain local_outlier_factor
#     (run twice: for the jpeg_block_profile feature, then for the 48-component projection on all 20,000 images)
#   python scripts/train_one_class_ensemble.py ... (the same options) --reuse-members
#     (no member retrained: new weights from the constrained non-negative logistic fit)
# Every command is listed in the model card; the command above trains all nine the same way from scratch.
