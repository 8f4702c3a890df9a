#!/usr/bin/env bash
# The ELA + CNN experiment of docs/photo_detectors_selection.md: the CIFAKE-trained ELA + CNN retrained for
# photographs on native crops (96 px on the 8-pixel JPEG grid, ELA of each augmented crop, CIFAKE images whole),
# run from the repository root (2 CPU cores: 31 minutes of training and calibration). P(fake) and the thresholds
# are calibrated on wild validation only. It lost to the CIFAKE model on the selection data (AI-art train), so it
# was not published and no test split was scored; its results are the JSON files beside this one.
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_ela_cnn_on_crops.py --init-from hub_repos/deepfake-ela-cnn \
    --dataset ../shared/data/wild ../shared/data/cifake --max-train-samples -1 6000 \
    --max-steps 1500 --output-dir runs/ela_crops
deepfake-detect evaluate --model runs/ela_crops --dataset ../shared/data/aiart --split train \
    --output runs/selection/ela_crops-aiart-train
