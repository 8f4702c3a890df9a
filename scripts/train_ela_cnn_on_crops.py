#!/usr/bin/env python
"""Train the Error Level Analysis + CNN detector on native-resolution crops of photos and CIFAKE; calibrate; save.

Flow: the train split of every ``--dataset`` (``--max-train-samples`` each, half per class) -> augmentation
(flip, rescale 0.5-1.5x, blur, JPEG q60-100) and a random ``--crop-size`` crop at native resolution on the 8-pixel
JPEG grid -> the ELA map of each augmented crop (JPEG re-save at quality 90), stacked with the crop
(``deepfake_detectors.ElaCropImageProcessor``) -> ``transformers.Trainer`` with batches of one crop shape for a fixed
number of steps (CIFAKE's 32 px images are used whole, as the CIFAKE model saw them) -> Platt scaling of the fake
logit and the named thresholds on the validation split of wild -> ``save_pretrained``
(``deepfake_detectors.training.supervised_recipes.train_ela_cnn_on_crops``).

At inference the model scores ``--crops-per-side`` squared crops and averages their fake logits. Never tuned on a
test split.

Example (2 CPU cores, about 20 minutes from the CIFAKE-trained model):
    python scripts/train_ela_cnn_on_crops.py --init-from hub_repos/deepfake-ela-cnn \
        --dataset ../shared/data/wild ../shared/data/cifake --max-train-samples -1 6000 --output-dir runs/ela_crops
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from deepfake_detectors import ElaCnnForImageClassification
from deepfake_detectors.registry import detector_spec
from deepfake_detectors.training import add_crop_data_arguments, add_optimisation_arguments, add_output_arguments
from deepfake_detectors.training.supervised_recipes import train_ela_cnn_on_crops


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_crop_data_arguments(parser, max_train_samples=[-1, 6000])
    model = parser.add_argument_group("model")
    model.add_argument("--init-from", default=None, help="a trained ELA + CNN detector to start from (default: new)")
    model.add_argument("--hidden-sizes", type=int, nargs="+", default=[32, 64, 128], help="for a new model")
    model.add_argument("--crop-size", type=int, default=96, help="a multiple of 8 (the JPEG grid)")
    model.add_argument("--crops-per-side", type=int, default=3, help="crops per side at inference")
    add_optimisation_arguments(
        parser, **detector_spec("ela_cnn").supervised_recipe("train_ela_cnn_on_crops").optimisation,
        helps={"max-steps": "optimiser steps of the whole run"},
    )
    add_output_arguments(parser, run_dir_default="<output-dir>_trainer")
    args = parser.parse_args(argv)
    if args.crop_size % 8:
        parser.error(f"--crop-size must be a multiple of 8 (the JPEG grid), got {args.crop_size}")
    return args


def main(argv: Optional[Sequence[str]] = None) -> ElaCnnForImageClassification:
    return train_ela_cnn_on_crops(parse_args(argv))


if __name__ == "__main__":
    main()
