#!/usr/bin/env python
"""Recalibrate a trained single detector on the validation split of your own data, in place.

Refits P(fake) (Platt scaling) and the named thresholds (strict / balanced / sensitive = 99th / 95th / 90th
percentile of the real validation scores, optimal = best F1) for the images you will score, without retraining.
Never pass a test split. ``scripts/train_npr.py`` calls the same function at the end of training.

Example:
    python scripts/calibrate.py --model runs/npr --dataset ../shared/data/wild
"""

from __future__ import annotations

import argparse
import json
from typing import Optional, Sequence

from transformers import AutoImageProcessor, AutoModel

import deepfake_detectors  # noqa: F401  (registers the detectors with the Auto classes)
from deepfake_detectors.training.supervised import calibrate_on_validation


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a single detector's directory (save_pretrained output)")
    parser.add_argument("--dataset", nargs="+", required=True, help="`datasets` sources with a validation split")
    parser.add_argument("--max-samples", type=int, nargs="+", default=None, help="per dataset, half per class")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = AutoModel.from_pretrained(args.model).eval()
    processor = AutoImageProcessor.from_pretrained(args.model)
    limits = args.max_samples or [None] * len(args.dataset)
    described = calibrate_on_validation(model, processor, args.dataset, limits, args.seed, args.split)
    training = dict(getattr(model.config, "training", None) or {})
    training["calibration"] = described
    model.config.training = training
    model.save_pretrained(args.model)
    print(json.dumps({"calibration": described, "thresholds": model.config.calibration["thresholds"]}, indent=2))


if __name__ == "__main__":
    main()
