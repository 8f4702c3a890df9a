#!/usr/bin/env python
"""Train the 9-member one-class ensemble on real images only, calibrate, weight, evaluate and write its repo.

The members, their published hyper-parameters, the weighting and the complexity correction live in
``deepfake_detectors.training.one_class``; the card text in ``deepfake_detectors.one_class_cards``.

Example:
    python scripts/train_one_class_ensemble.py --dataset ../shared/data/cifake --max-train-samples 10000
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.one_class_cards import rewrite_one_class_ensemble_card
from deepfake_detectors.training.one_class import (
    WEIGHTING_METHODS,
    OneClassEnsembleOptions,
    build_one_class_ensemble,
    check_retrain,
)


def build_parser() -> argparse.ArgumentParser:
    """The command line; every default is :class:`OneClassEnsembleOptions`'."""
    default = OneClassEnsembleOptions()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=default.dataset)
    parser.add_argument("--max-train-samples", type=int, default=default.max_train_samples, help="real training images")
    parser.add_argument(
        "--max-calibration-samples", type=int, default=default.max_calibration_samples, help="per class, validation split"
    )
    parser.add_argument("--test-limit", type=int, default=default.test_limit)
    parser.add_argument("--second-domain", default=default.second_domain)
    parser.add_argument("--members", nargs="+", default=default.members)
    parser.add_argument("--epochs", type=float, default=default.epochs, help="epochs of the deep members")
    parser.add_argument("--batch-size", type=int, default=default.batch_size)
    parser.add_argument(
        "--init-batches", type=int, default=default.init_batches, help="batches for centres / normalisation"
    )
    parser.add_argument("--weights", choices=WEIGHTING_METHODS, default=default.weights)
    parser.add_argument(
        "--reuse-members", action="store_true",
        help="skip training: reload the members already in --output-dir, then re-weight, calibrate and evaluate",
    )
    parser.add_argument(
        "--retrain", nargs="+", default=[], metavar="MEMBER",
        help="with --reuse-members: train these members again (same data options) and reuse the others",
    )
    parser.add_argument(
        "--cards-only", action="store_true",
        help="rewrite the model card from the results already in --output-dir (no training, no evaluation)",
    )
    parser.add_argument(
        "--complexity-adjustment", choices=["none", "png", "auto"], default=default.complexity_adjustment,
        help="correct member scores for input complexity (fitted on real validation images); auto = only members "
        "whose validation AUROC it raises",
    )
    parser.add_argument(
        "--normalise-brightness", action=argparse.BooleanOptionalAction, default=default.normalise_brightness,
        help="express the combined score relative to real validation images of the same mean luma (fitted on the "
        "real validation images only) before setting the thresholds",
    )
    parser.add_argument(
        "--crops-per-side", type=int, default=default.crops_per_side,
        help="0: members see the image resized (CIFAKE); n: an n x n grid of native-resolution crops per member",
    )
    parser.add_argument("--cifake-test-limit", type=int, default=default.cifake_test_limit,
                        help="with --crops-per-side: CIFAKE test images also scored for the card")
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--output-dir", default=default.output_dir)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cards_only:
        out = Path(args.output_dir)
        # The card describes the data of the command that trained the members, not this one's defaults.
        first = json.loads((out / "results_extra.json").read_text())["commands"][0]
        rewrite_one_class_ensemble_card(out, parser.parse_args(shlex.split(first)[2:]).max_train_samples)
        return
    try:
        check_retrain(args.retrain, args.reuse_members)
    except ValueError as error:
        parser.error(str(error))
    command = "python scripts/train_one_class_ensemble.py " + " ".join(argv if argv is not None else sys.argv[1:])
    options = OneClassEnsembleOptions(**{key: value for key, value in vars(args).items() if key != "cards_only"})
    test = build_one_class_ensemble(options, command)
    print(json.dumps({k: test[k] for k in ("auroc", "accuracy", "precision", "recall", "f1", "fpr")}, indent=2))


if __name__ == "__main__":
    main()
