#!/usr/bin/env python
"""Train Deep SVDD on real images only (centre fixed from the initial embeddings), calibrate, save.

Runs unchanged under `accelerate launch scripts/train_deep_svdd.py ...`.

Example (the bundled weights):
    python scripts/train_deep_svdd.py --dataset ../shared/data/cifake --epochs 1 --learning-rate 1e-4 \
        --weight-decay 5e-4 --output-dir runs/deep_svdd
"""

from __future__ import annotations

from typing import Optional, Sequence

from deepfake_detectors import DeepSVDDConfig, DeepSVDDModel
from deepfake_detectors.training.one_class_script import base_parser, run_one_class_training


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    model = parser.add_argument_group("model")
    model.add_argument("--image-size", type=int, default=32)
    model.add_argument("--hidden-sizes", type=int, nargs="+", default=[32, 64, 128])
    model.add_argument("--rep-dim", type=int, default=128)
    model.add_argument("--no-highpass", action="store_true", help="do not feed the high-pass residual")
    model.add_argument("--center-batches", type=int, default=20, help="batches used to fix the centre")
    parser.set_defaults(complexity_adjustment="png")
    args = parser.parse_args(argv)
    config = DeepSVDDConfig(
        image_size=args.image_size,
        hidden_sizes=args.hidden_sizes,
        rep_dim=args.rep_dim,
        input_highpass=not args.no_highpass,
    )

    def fix_center(model: DeepSVDDModel, loader) -> None:
        batches = (batch["pixel_values"] for _, batch in zip(range(args.center_batches), loader))
        model.fit_initial_statistics(batches)

    run_one_class_training(args, config, DeepSVDDModel, before_training=fix_center)


if __name__ == "__main__":
    main()
