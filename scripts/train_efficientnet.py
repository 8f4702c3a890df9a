#!/usr/bin/env python
"""Train the EfficientNet transfer-learning detector in two phases, calibrate it, save it.

Flow: both classes of a `datasets` source -> augmentation (flips, JPEG re-compression, down-up resizing, blur;
``ImageTransform(augment=True, robust=True)``) -> the backbone's processor (resize to ``--image-size``, the
backbone's ImageNet normalisation) -> two ``transformers.Trainer`` runs on the same model
(``deepfake_detectors.training.supervised.train_head_then_finetune``):

1. **head**: the ImageNet backbone frozen, only ``Dense(256) + ReLU + Dropout(0.5) + logit`` trains
   (``--head-epochs``, ``--head-learning-rate``);
2. **fine-tune**: the last ``--unfreeze-stages`` backbone stages (all of them by default) train too
   (``--epochs``, ``--learning-rate``), evaluated on the validation split every ``--eval-every`` of an epoch, the
   best evaluation by accuracy kept (``load_best_model_at_end``).

Then P(fake) is calibrated on validation real and fake images and the model is saved with ``save_pretrained``
(weights stored in float16 to keep the repo small; they load back as float32).

Schedules: AdamW with a linear warm-up and cosine decay in each phase (``--scheduler plateau`` selects
ReduceLROnPlateau on the validation loss, as in the published Keras recipe, which used lr 1e-4 then 1e-5 with
Adam; those rates are too slow for the few epochs a CPU allows, see the model card).

The validation split both picks the best checkpoint and calibrates the thresholds; report test-split results
(``scripts/build_supervised_repo.py``), never validation ones.

``--init-from runs/efficientnet --head-epochs 0 --image-size 96`` continues from a trained detector at a higher
resolution (progressive resizing); the earlier run's ``training`` record is kept in ``training_history``.

Runs unchanged under ``accelerate launch scripts/train_efficientnet.py ...``.

Example (2 CPU cores, about 100 training images/s at 64 px in the fine-tuning phase):
    python scripts/train_efficientnet.py --dataset ../shared/data/cifake --image-size 64 --head-epochs 1 \
        --epochs 4 --output-dir runs/efficientnet
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from deepfake_detectors import EfficientNetDetectorForImageClassification
from deepfake_detectors.registry import detector_spec
from deepfake_detectors.training import add_data_arguments, add_optimisation_arguments, add_output_arguments
from deepfake_detectors.training.supervised_recipes import train_efficientnet


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    model = parser.add_argument_group("model")
    model.add_argument("--backbone", default="efficientnet_lite0",
                       choices=["efficientnet_lite0", "efficientnet_b0", "resnet50"])
    model.add_argument("--init-from", default=None, help="start from a trained detector (e.g. a lower-resolution run: "
                       "progressive resizing) instead of ImageNet weights; use with --head-epochs 0")
    model.add_argument("--backbone-weights-path", default=None,
                       help="local ImageNet state dict (torchvision backbones)")
    model.add_argument("--image-size", type=int, default=64)
    model.add_argument("--head-hidden-size", type=int, default=256)
    model.add_argument("--dropout", type=float, default=0.5)
    optim = add_optimisation_arguments(
        parser, **detector_spec("efficientnet").supervised_recipe("train_efficientnet").optimisation,
        helps={"epochs": "phase 2: fine-tuning", "learning-rate": "phase 2 peak learning rate",
               "max-steps": "cap on phase 2 steps (overrides --epochs)"},
    )
    optim.add_argument("--head-epochs", type=float, default=1.0, help="phase 1: head only")
    optim.add_argument("--head-learning-rate", type=float, default=1e-3)
    optim.add_argument("--unfreeze-stages", type=int, default=None, help="last backbone stages to fine-tune (all)")
    optim.add_argument("--scheduler", choices=["cosine", "plateau"], default="cosine")
    optim.add_argument("--eval-every", type=float, default=0.5, help="evaluate every this fraction of an epoch")
    add_output_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> EfficientNetDetectorForImageClassification:
    return train_efficientnet(parse_args(argv))


if __name__ == "__main__":
    main()
