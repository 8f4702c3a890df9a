#!/usr/bin/env python
"""Fit the calibration a repo uses for images outside its domain, on the validation images its domain check rejects.

A detector trained on CIFAKE's 32 px images calls almost every photo fake with full confidence. With this
calibration, images its ``domain.safetensors`` rejects get their threshold and P(fake) from labelled validation
images like them (the named thresholds mean the same: ``balanced`` = 95th percentile of those real scores), so
P(fake) says how little the score means there. Written into the repo in place (``config.json`` of a single
detector, ``thresholds_calibrated.json``). Never pass a test split.

Example:
    python scripts/calibrate_out_of_domain.py hub_repos/deepfake-efficientnet hub_repos/deepfake-ela-cnn \
        --dataset ../shared/data/wild
"""

from __future__ import annotations

import argparse
import json
from typing import Optional, Sequence

from deepfake_detectors.pipeline.calibrating import calibrate_repo_out_of_domain


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", help="hub_repos/<name> folders with domain.safetensors")
    parser.add_argument("--dataset", default="../shared/data/wild", help="a labelled source with a validation split")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    for repo in args.repos:
        calibration = calibrate_repo_out_of_domain(repo, args.dataset, args.split, args.batch_size, progress=True)
        summary = {key: getattr(calibration, key) for key in ("n_real", "n_fake", "thresholds", "calibration_error")}
        print(json.dumps({"repo": repo, **summary}, indent=2))


if __name__ == "__main__":
    main()
