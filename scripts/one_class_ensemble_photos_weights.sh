#!/usr/bin/env bash
# Rebuild hub_repos/fake-image-detection-ensemble-photos (run from the repository root): the nine one-class members
# refitted on native-resolution crops (a 4 x 4 grid of 32 px crops; 64 px for the semantic member) of the wild train
# real photos only; weights, corrections and thresholds on wild validation; each test split scored once (wild test,
# 2,000 CIFAKE test images, AI-art test). Then the domain description (wild train real photos) and its card section.
# About 15 minutes on 2 CPU cores.
set -euo pipefail
export HF_HUB_OFFLINE=1
python scripts/train_one_class_ensemble.py --dataset ../shared/data/wild --max-train-samples 1687 \
    --max-calibration-samples 400 --epochs 2 --crops-per-side 4 --cifake-test-limit 2000 \
    --output-dir hub_repos/fake-image-detection-ensemble-photos
python scripts/fit_domain.py hub_repos/fake-image-detection-ensemble-photos --source ../shared/data/wild:train:1687 \
    --features log_noise spectral_slope --fitted-on "wild train real photos (ImageNet, Sun-Hays and Urban100 photographs; crops of at most 256 px)"
python scripts/domain_report.py hub_repos/fake-image-detection-ensemble-photos
