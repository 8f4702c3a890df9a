#!/usr/bin/env bash
# The exact commands behind hub_repos/deepfake-ela-cnn (run from the repository root; about 15 minutes on 2 CPU cores).
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_ela_cnn.py --dataset ../shared/data/cifake --max-train-samples 20000 --epochs 5 \
  --batch-size 128 --learning-rate 2e-3 --seed 0 --output-dir runs/ela_cnn
python scripts/build_supervised_repo.py --model runs/ela_cnn --name deepfake-ela-cnn \
  --title "Error Level Analysis + CNN deepfake detector" --reproduce-script scripts/ela_cnn_weights.sh \
  --description "The image is re-saved as JPEG at quality 90; the amplified absolute difference (the ELA map) is stacked with the image and fed to a compact CNN with a 2-class head."
