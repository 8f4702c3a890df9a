#!/usr/bin/env python
"""Train the residual autoencoder on real images only, calibrate it on held-out validation images, save it.

Runs unchanged under `accelerate launch scripts/train_autoencoder.py ...`.

Example (the bundled weights, as in scripts/bundled_weights.sh):
    python scripts/train_autoencoder.py --dataset ../shared/data/cifake --max-train-samples 12000 --image-size 32 \
        --hidden-sizes 16 32 64 128 256 --latent-dim 512 --highpass-weight 4 --epochs 5 --batch-size 64 \
        --learning-rate 1e-3 --output-dir runs/autoencoder

The published size on native crops of real photos (scripts/autoencoder_photos_weights.sh):
    python scripts/train_autoencoder.py --dataset ../shared/data/wild --crops-per-side 2 --max-steps 340 \
        --batch-size 32 --learning-rate 1e-3 --max-calibration-samples 2000 --float16 --seed 0 \
        --output-dir runs/deepfake-autoencoder-photos --run-dir runs/deepfake-autoencoder-photos_trainer
"""

from __future__ import annotations

from typing import Optional, Sequence

from deepfake_detectors import ResidualAutoencoderConfig, ResidualAutoencoderModel
from deepfake_detectors.training.one_class_script import base_parser, run_one_class_training


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    model = parser.add_argument_group("model")
    model.add_argument("--image-size", type=int, default=128)
    model.add_argument("--hidden-sizes", type=int, nargs="+", default=[64, 128, 256, 512, 608])
    model.add_argument("--blocks-per-stage", type=int, default=1)
    model.add_argument("--latent-dim", type=int, default=512)
    model.add_argument("--highpass-weight", type=float, default=0.0, help="weight of the high-pass error term")
    model.add_argument(
        "--crops-per-side", type=int, default=None, help="train and score native-resolution crops (crops_per_side**2)"
    )
    model.add_argument("--crop-aggregation", default="mean_logit", help="how crop errors combine per image")
    parser.set_defaults(complexity_adjustment=None)
    args = parser.parse_args(argv)
    if args.complexity_adjustment is None:  # "png" for resized inputs; crop models have no one input size
        args.complexity_adjustment = "none" if args.crops_per_side else "png"
    config = ResidualAutoencoderConfig(
        image_size=args.image_size,
        hidden_sizes=args.hidden_sizes,
        blocks_per_stage=args.blocks_per_stage,
        latent_dim=args.latent_dim,
        highpass_weight=args.highpass_weight,
        crops_per_side=args.crops_per_side,
        crop_aggregation=args.crop_aggregation,
    )
    run_one_class_training(args, config, ResidualAutoencoderModel)


if __name__ == "__main__":
    main()
