#!/usr/bin/env python
"""Train the NPR detector on native-resolution crops of several sources, calibrate it, save it.

Flow: the train split of every ``--dataset`` (``--max-train-samples`` each, half per class) -> augmentation
(flip, rescale 0.5-1.5x, blur, JPEG q60-100) and a random crop at native resolution
(``deepfake_detectors.training.native_crops``) -> ``transformers.Trainer`` with batches of one crop shape, a fixed
number of steps (no checkpoint is picked on validation) -> Platt scaling of the fake logit and the named
thresholds on the validation split of wild (the domain the model is for) -> ``save_pretrained`` of model and processor
(``deepfake_detectors.training.supervised_recipes.train_npr``).

Hyper-parameters were chosen on wild-train sources held out of training (see the model card), never on a test
split. Runs unchanged under ``accelerate launch scripts/train_npr.py ...``.

Example (2 CPU cores, about 20 minutes; aligned pairs from ``scripts/make_aligned_pairs.py`` are one more --dataset):
    python scripts/train_npr.py --dataset ../shared/data/wild ../shared/data/cifake \
        --max-train-samples -1 10000 --max-steps 4000 --output-dir runs/npr
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from deepfake_detectors import NprDetectorForImageClassification
from deepfake_detectors.registry import detector_spec
from deepfake_detectors.training import add_crop_data_arguments, add_optimisation_arguments, add_output_arguments
from deepfake_detectors.training.supervised_recipes import train_npr


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_crop_data_arguments(parser, max_train_samples=[-1, 10000])
    model = parser.add_argument_group("model")
    model.add_argument("--crop-size", type=int, default=96)
    model.add_argument("--crops-per-side", type=int, default=3, help="crops per side at inference")
    model.add_argument("--hidden-sizes", type=int, nargs="+", default=[32, 64, 128, 128])
    add_optimisation_arguments(
        parser, **detector_spec("npr").supervised_recipe().optimisation,
        helps={"max-steps": "optimiser steps of the whole run"},
    )
    add_output_arguments(parser, run_dir_default="<output-dir>_trainer")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> NprDetectorForImageClassification:
    return train_npr(parse_args(argv))


if __name__ == "__main__":
    main()
