#!/usr/bin/env bash
# The commands behind hub_repos/deepfake-reconstruction-ratio, run from the repository root. Nothing is trained: the
# weights are the MIT-licensed FLUX.2 tiny autoencoder of madebyollin/taesd (commit 5cccb12; pass the folder holding
# taef2_encoder.pth and taef2_decoder.pth as TAESD_DIR; about 31 minutes on 2 CPU cores, 8 of them calibration).
# Thresholds and P(fake) are calibrated on wild validation.
# How the score was chosen: docs/reconstruction_ratio_selection.md.
set -euo pipefail
export HF_HUB_OFFLINE=1
TAESD_DIR=${TAESD_DIR:?set TAESD_DIR to a folder with taef2_encoder.pth and taef2_decoder.pth}
python scripts/build_reconstruction_ratio.py --encoder "$TAESD_DIR/taef2_encoder.pth" \
    --decoder "$TAESD_DIR/taef2_decoder.pth" --dataset ../shared/data/wild --output-dir runs/deepfake-reconstruction-ratio
python scripts/fit_domain.py runs/deepfake-reconstruction-ratio --source ../shared/data/wild:train:1687 \
    --features log_noise spectral_slope --fitted-on "wild train real photos (ImageNet, Sun-Hays and Urban100 photographs; crops of at most 256 px)"
python scripts/build_native_crop_repo.py --model runs/deepfake-reconstruction-ratio --name deepfake-reconstruction-ratio \
    --title "Reconstruction-ratio detector: training-free, after AEROBLADE (native resolution)" \
    --cifake-limit 400 --selection docs/reconstruction_ratio_selection.md \
    --reproduce-script scripts/reconstruction_ratio_weights.sh
python scripts/domain_report.py hub_repos/deepfake-reconstruction-ratio
