#!/usr/bin/env bash
# Rebuild hub_repos/deepfake-autoencoder-photos: the residual autoencoder at the published size (34.8M parameters),
# trained on native 128 px crops of the wild train real photos only, on the CPU (2 cores: 81 min of training, then
# about 25 min of calibration, domain, evaluation and card).
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_autoencoder.py --dataset ../shared/data/wild --crops-per-side 2 --max-steps 340 \
    --batch-size 32 --learning-rate 1e-3 --max-calibration-samples 2000 --float16 --seed 0 \
    --output-dir runs/deepfake-autoencoder-photos --run-dir runs/deepfake-autoencoder-photos_trainer
python scripts/fit_domain.py runs/deepfake-autoencoder-photos --source ../shared/data/wild:train:1687 \
    --features log_noise spectral_slope --fitted-on "wild train real photos (ImageNet, Sun-Hays and Urban100 photographs; crops of at most 256 px)"
python scripts/build_native_crop_repo.py --model runs/deepfake-autoencoder-photos --name deepfake-autoencoder-photos \
    --title "Residual autoencoder for photographs: one-class AI-image detection at native resolution" \
    --cifake-limit 2000 --selection docs/autoencoder_photos_selection.md \
    --reproduce-script scripts/autoencoder_photos_weights.sh
python scripts/domain_report.py hub_repos/deepfake-autoencoder-photos
