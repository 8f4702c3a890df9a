#!/usr/bin/env python
"""Recalibrate a trained single detector on the validation split of your own data, in place.

Refits P(fake) (Platt scaling) and the named thresholds (strict / balanced / sensitive = 99th / 95th / 90th
percentile of the real validation scores, optimal = best F1) for the images you will score, without retraining.
Only ``config.json`` (and a repo's ``thresholds_calibrated.json``) is rewritten; the weights stay as they are.
Never pass a test split. ``scripts/train_npr.py`` calls the same function at the end of training.

Example:
    python scripts/calibrate.py --model runs/npr --dataset ../shared/data/wild
"""

from __future__ import annotations

import argparse
import json
from typing import Optional, Sequence

from deepfake_detectors.training.supervised import recalibrate_saved_detector


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a single detector's directory (save_pretrained output)")
    parser.add_argument("--dataset", nargs="+", required=True, help="`datasets` sources with a validation split")
    parser.add_argument("--max-samples", type=int, nargs="+", default=None, help="per dataset, half per class")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    limits = args.max_samples or [None] * len(args.dataset)
    summary = recalibrate_saved_detector(args.model, args.dataset, limits, args.seed, args.split)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
