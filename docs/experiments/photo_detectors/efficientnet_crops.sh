#!/usr/bin/env bash
# The experiment of docs/photo_detectors_selection.md: EfficientNet-Lite0 retrained for photographs on native crops,
# run from the repository root (2 CPU cores: 27 minutes of training and calibration, 5 of evaluation). It starts from
# the CIFAKE-trained hub_repos/deepfake-efficientnet; P(fake) and the thresholds are calibrated on wild validation
# only. It scored AUROC 0.488 on wild test, so it was not published; its results are the JSON files beside this one.
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_efficientnet_on_crops.py --init-from hub_repos/deepfake-efficientnet \
    --dataset ../shared/data/wild ../shared/data/cifake --max-train-samples -1 6000 \
    --head-steps 150 --max-steps 900 --output-dir runs/efficientnet_crops
deepfake-detect evaluate --model runs/efficientnet_crops --dataset ../shared/data/aiart --split train \
    --output runs/selection/efficientnet_crops-aiart-train
# Wild test, CIFAKE test and AI-art test, each scored once, into a scratch repo folder (not kept):
python scripts/build_native_crop_repo.py --model runs/efficientnet_crops --name deepfake-efficientnet-photos \
    --hub-dir runs/unpublished --title "EfficientNet-Lite0 on native crops" \
    --selection docs/photo_detectors_selection.md --reproduce-script docs/experiments/photo_detectors/efficientnet_crops.sh
