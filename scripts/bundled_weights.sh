#!/usr/bin/env bash
# The exact commands behind the bundled SVDD + autoencoder weights (run from the repository root, ~12 min on 2 CPU cores).
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_deep_svdd.py --dataset ../shared/data/cifake --max-train-samples 16000 --epochs 1 \
  --batch-size 64 --learning-rate 1e-4 --weight-decay 5e-4 --rep-dim 64 --output-dir runs/deep_svdd
python scripts/train_autoencoder.py --dataset ../shared/data/cifake --max-train-samples 12000 --image-size 32 \
  --hidden-sizes 16 32 64 128 256 --latent-dim 512 --highpass-weight 4 --epochs 5 --batch-size 64 \
  --learning-rate 1e-3 --output-dir runs/autoencoder
python scripts/build_ensemble.py --autoencoder runs/autoencoder --deep-svdd runs/deep_svdd --reproduce-script scripts/bundled_weights.sh
