#!/usr/bin/env python
"""Train the zero-shot entropy detector (a pixel model) on real images only, calibrate it, save it.

Runs unchanged under `accelerate launch scripts/train_zero_shot_entropy.py ...`. No fake image is used for training;
the labelled validation fakes set the `optimal` threshold only (as for every one-class detector).

Example (the published photo model, as in scripts/zero_shot_entropy_weights.sh):
    python scripts/train_zero_shot_entropy.py --dataset ../shared/data/wild --max-steps 1200 --batch-size 16 \
        --learning-rate 1e-3 --seed 0 --output-dir runs/deepfake-zero-shot-entropy
"""

from __future__ import annotations

from typing import Optional, Sequence

from deepfake_detectors import ZeroShotEntropyConfig, ZeroShotEntropyModel
from deepfake_detectors.training.one_class_script import base_parser, run_one_class_training


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    model = parser.add_argument_group("model")
    model.add_argument("--crop-size", type=int, default=128, help="native-resolution crop side")
    model.add_argument("--crops-per-side", type=int, default=2, help="crops scored per image: this squared")
    model.add_argument("--crop-aggregation", default="mean_logit", help="how crop scores combine per image")
    model.add_argument("--hidden-size", type=int, default=48)
    model.add_argument("--num-blocks", type=int, default=4)
    model.add_argument("--num-levels", type=int, default=2, choices=[1, 2])
    model.add_argument("--score-level", type=int, default=1, help="the level whose surprise is the score")
    args = parser.parse_args(argv)
    config = ZeroShotEntropyConfig(
        image_size=args.crop_size,
        crops_per_side=args.crops_per_side,
        crop_aggregation=args.crop_aggregation,
        hidden_size=args.hidden_size,
        num_blocks=args.num_blocks,
        num_levels=args.num_levels,
        score_level=args.score_level,
    )
    run_one_class_training(args, config, ZeroShotEntropyModel)


if __name__ == "__main__":
    main()
