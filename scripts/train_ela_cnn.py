#!/usr/bin/env python
"""Train the supervised Error Level Analysis + CNN detector on real and fake images, calibrate it, save it.

Flow: both classes of a `datasets` source (balanced, ``--max-train-samples`` in all) -> augmentation
(flips, JPEG re-compression, down-up resizing, blur; ``ImageTransform(augment=True, robust=True)``) -> ELA
computed by ``ElaImageProcessor`` *after* augmentation -> ``transformers.Trainer`` with cross-entropy, evaluated
on the validation split every epoch, best epoch by accuracy kept (``load_best_model_at_end``) -> calibration of
the P(fake) score on validation real and fake images -> ``save_pretrained`` of model and processor
(``deepfake_detectors.training.supervised_recipes.train_ela_cnn``).

Optimiser: AdamW (Trainer's default, ``--optimizer adamw``) with cosine decay and a short warm-up. Published
ELA + CNN recipes use RMSprop; ``--optimizer rmsprop`` selects it.

Note that the validation split both picks the best epoch and calibrates the thresholds; report test-split
results (``scripts/benchmark.py``), never validation ones.

Runs unchanged under ``accelerate launch scripts/train_ela_cnn.py ...``.

Example (2 CPU cores, about 9 minutes on 32 x 32 CIFAKE: ~75 training images/s at batch 128, so
10,000 images x 3 epochs, plus validation each epoch and calibration on 5,000 images):
    python scripts/train_ela_cnn.py --dataset ../shared/data/cifake --max-train-samples 10000 --epochs 3 \
        --batch-size 128 --learning-rate 2e-3 --output-dir runs/ela_cnn
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from deepfake_detectors import ElaCnnForImageClassification
from deepfake_detectors.registry import detector_spec
from deepfake_detectors.training import add_data_arguments, add_optimisation_arguments, add_output_arguments
from deepfake_detectors.training.supervised_recipes import train_ela_cnn


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    model = parser.add_argument_group("model")
    model.add_argument("--image-size", type=int, default=32)
    model.add_argument("--hidden-sizes", type=int, nargs="+", default=[32, 64, 128])
    model.add_argument("--dropout", type=float, default=0.25)
    model.add_argument("--ela-quality", type=int, default=90)
    model.add_argument("--ela-scale", type=float, default=10.0)
    model.add_argument("--ela-only", action="store_true", help="feed the ELA map alone (3 channels)")
    optim = add_optimisation_arguments(parser, **detector_spec("ela_cnn").supervised_recipe("train_ela_cnn").optimisation)
    optim.add_argument("--optimizer", choices=["adamw", "rmsprop"], default="adamw")
    optim.add_argument("--resume", default=None, help="a checkpoint folder, or 'latest'")
    add_output_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> ElaCnnForImageClassification:
    return train_ela_cnn(parse_args(argv))


if __name__ == "__main__":
    main()
