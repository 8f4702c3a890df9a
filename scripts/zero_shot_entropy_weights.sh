#!/usr/bin/env bash
# The commands behind hub_repos/deepfake-zero-shot-entropy, run from the repository root (2 CPU cores: about 15
# minutes of training, then calibration, domain, evaluation and card). Trained on the wild train *real* photos only;
# the thresholds are calibrated on wild validation. How the recipe was chosen: docs/zero_shot_entropy_selection.md.
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_zero_shot_entropy.py --dataset ../shared/data/wild --max-steps 1200 --batch-size 16 \
    --learning-rate 1e-3 --seed 0 --output-dir runs/deepfake-zero-shot-entropy \
    --run-dir runs/deepfake-zero-shot-entropy_trainer
python scripts/fit_domain.py runs/deepfake-zero-shot-entropy --source ../shared/data/wild:train:1687 \
    --features log_noise spectral_slope --fitted-on "wild train real photos (ImageNet, Sun-Hays and Urban100 photographs; crops of at most 256 px)"
python scripts/build_native_crop_repo.py --model runs/deepfake-zero-shot-entropy --name deepfake-zero-shot-entropy \
    --title "Zero-shot entropy detector: a pixel model of real photographs (one-class, native resolution)" \
    --cifake-limit 2000 --selection docs/zero_shot_entropy_selection.md \
    --reproduce-script scripts/zero_shot_entropy_weights.sh
python scripts/domain_report.py hub_repos/deepfake-zero-shot-entropy
