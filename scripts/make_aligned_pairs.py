#!/usr/bin/env python
"""Aligned real / reconstructed training pairs from the real images of a dataset (Rajan et al., ICLR 2025).

Every real image of ``--split`` gives a native-resolution crop (label real) and its reconstruction through a tiny
image autoencoder (label fake), written as a `datasets` parquet folder that ``scripts/train_npr.py --dataset``
reads like any other source. The autoencoder weights are not part of this package: fetch the MIT-licensed
``madebyollin/taesd`` repository and pass its FLUX.2 pair.

Example (2 CPU cores, about 10 minutes for the 1,687 wild train reals):
    python scripts/make_aligned_pairs.py --dataset ../shared/data/wild --split train \
        --encoder taesd/taef2_encoder.pth --decoder taesd/taef2_decoder.pth --output-dir runs/aligned_pairs
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Sequence

import torch

from deepfake_detectors.training import load_image_dataset
from deepfake_detectors.training.aligned_pairs import TinyAutoencoder, build_aligned_pairs


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="../shared/data/wild")
    parser.add_argument("--split", default="train", help="never a test split")
    parser.add_argument("--encoder", required=True, help="*_encoder.pth of the tiny autoencoder")
    parser.add_argument("--decoder", required=True, help="*_decoder.pth of the tiny autoencoder")
    parser.add_argument("--latent-channels", type=int, default=32, help="32 for the FLUX.2 pair (taef2)")
    parser.add_argument("--crop-size", type=int, default=144)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args(argv)
    if args.split == "test":
        parser.error("aligned pairs are training data: never build them from a test split")
    if args.threads:
        torch.set_num_threads(args.threads)
    autoencoder = TinyAutoencoder(args.encoder, args.decoder, latent_channels=args.latent_channels)
    pairs = build_aligned_pairs(load_image_dataset(args.dataset, args.split), autoencoder, args.crop_size, args.seed)
    out = Path(args.output_dir) / "data"
    out.mkdir(parents=True, exist_ok=True)
    pairs.to_parquet(str(out / f"{args.split}-00000-of-00001.parquet"))
    print(f"{pairs.num_rows // 2} pairs written to {out}")


if __name__ == "__main__":
    main()
