#!/usr/bin/env python
"""Train the EfficientNet detector on native-resolution crops of photos and CIFAKE, in two phases; calibrate; save.

Flow: the train split of every ``--dataset`` (``--max-train-samples`` each, half per class) -> augmentation
(flip, rescale 0.5-1.5x, blur, JPEG q60-100), images smaller than a crop upscaled to it, a random ``--crop-size``
crop at native resolution (``deepfake_detectors.training.native_crops``) -> two ``transformers.Trainer`` runs with
batches of one crop shape: the head on the frozen backbone (``--head-steps``), then the whole network
(``--max-steps``) -> Platt scaling of the fake logit and the named thresholds on the validation split of wild
(the domain the model is for) -> ``save_pretrained`` of model and processor, weights in float16
(``deepfake_detectors.training.supervised_recipes.train_efficientnet_on_crops``).

At inference the model scores ``--crops-per-side`` squared crops and averages their logits. Never tuned on a test
split. Runs unchanged under ``accelerate launch``.

Example (2 CPU cores, about 35 minutes from the CIFAKE-trained model):
    python scripts/train_efficientnet_on_crops.py --init-from hub_repos/deepfake-efficientnet \
        --dataset ../shared/data/wild ../shared/data/cifake --max-train-samples -1 6000 \
        --head-steps 150 --max-steps 900 --output-dir runs/efficientnet_crops
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from deepfake_detectors import EfficientNetDetectorForImageClassification
from deepfake_detectors.registry import detector_spec
from deepfake_detectors.training import add_crop_data_arguments, add_optimisation_arguments, add_output_arguments
from deepfake_detectors.training.supervised_recipes import train_efficientnet_on_crops


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_crop_data_arguments(parser, max_train_samples=[-1, 6000])
    model = parser.add_argument_group("model")
    model.add_argument("--init-from", default=None,
                       help="a trained EfficientNet detector to start from (default: ImageNet weights)")
    model.add_argument("--backbone", default="efficientnet_lite0", choices=["efficientnet_lite0"])
    model.add_argument("--head-hidden-size", type=int, default=256)
    model.add_argument("--crop-size", type=int, default=128)
    model.add_argument("--crops-per-side", type=int, default=2, help="crops per side at inference")
    optim = add_optimisation_arguments(
        parser, **detector_spec("efficientnet").supervised_recipe("train_efficientnet_on_crops").optimisation,
        helps={"max-steps": "phase 2 (whole network) optimiser steps", "learning-rate": "phase 2 peak learning rate"},
    )
    optim.add_argument("--head-steps", type=int, default=150, help="phase 1: head only (0 skips it)")
    optim.add_argument("--head-learning-rate", type=float, default=1e-3)
    optim.add_argument("--unfreeze-stages", type=int, default=None, help="last backbone stages to fine-tune (all)")
    add_output_arguments(parser, run_dir_default="<output-dir>_trainer")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> EfficientNetDetectorForImageClassification:
    return train_efficientnet_on_crops(parse_args(argv))


if __name__ == "__main__":
    main()
