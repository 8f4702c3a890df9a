#!/usr/bin/env bash
# The exact commands behind hub_repos/deepfake-efficientnet (run from the repository root; about 45 minutes on 2 CPU cores).
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_efficientnet.py --dataset ../shared/data/cifake --image-size 64 --head-epochs 1 \
  --head-learning-rate 1e-3 --epochs 4 --learning-rate 3e-4 --batch-size 64 --seed 0 --output-dir runs/efficientnet
python scripts/build_supervised_repo.py --model runs/efficientnet --name deepfake-efficientnet \
  --title "EfficientNet-Lite0 transfer-learning deepfake detector" --reproduce-script scripts/efficientnet_weights.sh \
  --description "An ImageNet-pretrained EfficientNet-Lite0, global average pooling, Dense(256) + ReLU + Dropout(0.5) and one fake logit; the head is trained first with the backbone frozen, then the whole network is fine-tuned."
