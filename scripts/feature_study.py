#!/usr/bin/env python
"""How much each registered image feature separates real from fake on its own: one real-image Gaussian per feature.

For every feature in ``deepfake_detectors.features.FEATURES`` (and the combinations given with ``--combine``), fit
a Gaussian (Ledoit-Wolf covariance, features standardised) on real *training* images only (for a per-block feature:
one Gaussian of all blocks, each image scored by its worst block), score the labelled
*validation* split with the squared Mahalanobis distance and report AUROC and the recall at the 95th percentile
of the real validation scores. ``--shift`` also scores every feature on images shifted by a few pixels (cropped),
which moves the 8x8 JPEG grid: a feature whose AUROC drops there reads JPEG-grid traces. The test split is never
read.

Example:
    python scripts/feature_study.py --dataset ../shared/data/cifake --train-images 8000 --shift 4 \\
        --combine sobel_stats+highpass_stats+colour_moments --output docs/FEATURES.md
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

import numpy as np
import torch
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score

from deepfake_detectors.features import FEATURES
from deepfake_detectors.processing import DeepfakeImageProcessor, load_image
from deepfake_detectors.training import load_image_dataset, select_label, random_subset


def unit_images(images: list, size: int) -> torch.Tensor:
    """Decoded images as one ``[N, 3, size, size]`` tensor in [0, 1] (the feature members' processor)."""
    processor = DeepfakeImageProcessor(size=size, image_mean=[0.0] * 3, image_std=[1.0] * 3)
    batches = [images[start : start + 512] for start in range(0, len(images), 512)]
    return torch.cat([processor([load_image(image) for image in batch])["pixel_values"] for batch in batches])


def feature_matrix(names: list[str], images: torch.Tensor, shift: int = 0) -> np.ndarray:
    """The named features side by side for every image, optionally after a crop that moves the pixel grid."""
    if shift:
        images = images[..., shift:, shift:]
    batches = [images[start : start + 1000] for start in range(0, len(images), 1000)]
    blocks = [torch.cat([FEATURES[name](batch).flatten(1) for batch in batches]) for name in names]
    return torch.cat(blocks, dim=1).double().numpy()


def gaussian_scores(train: np.ndarray, evaluate: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance to the Ledoit-Wolf Gaussian of ``train`` (both standardised on ``train``)."""
    mean, scale = train.mean(0), train.std(0) + 1e-6
    return LedoitWolf().fit((train - mean) / scale).mahalanobis((evaluate - mean) / scale)


def is_block_feature(name: str) -> bool:
    """Whether a feature returns one vector per block (``[batch, blocks, dim]``) rather than per image."""
    return FEATURES[name](torch.rand(1, 3, 32, 32)).ndim == 3


def block_matrix(name: str, images: torch.Tensor, shift: int = 0) -> np.ndarray:
    """A block feature of every image, ``[N, blocks, dim]``, optionally after a crop that moves the grid."""
    if shift:
        images = images[..., shift:, shift:]
    batches = [FEATURES[name](images[start : start + 1000]) for start in range(0, len(images), 1000)]
    return torch.cat(batches).double().numpy()


def worst_block_scores(train: np.ndarray, evaluate: np.ndarray) -> np.ndarray:
    """One Gaussian of all real training blocks; each image scored by its least typical block (as the
    statistical member does)."""
    dim = train.shape[-1]
    distances = gaussian_scores(train.reshape(-1, dim), evaluate.reshape(-1, dim))
    return distances.reshape(evaluate.shape[0], -1).max(axis=1)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="../shared/data/cifake")
    parser.add_argument("--train-images", type=int, default=8000, help="real training images for each Gaussian")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--shift", type=int, default=0, help="also score with the grid moved by this many pixels")
    parser.add_argument("--combine", nargs="*", default=[], help="feature combinations, names joined with '+'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)

    train = random_subset(select_label(load_image_dataset(args.dataset, "train"), "real"), args.train_images, args.seed)
    validation = load_image_dataset(args.dataset, "validation")
    labels = np.asarray(validation["label"])
    train_images = unit_images(list(train["image"]), args.image_size)
    validation_images = unit_images(list(validation["image"]), args.image_size)

    rows = []
    for combination in [[name] for name in sorted(FEATURES)] + [c.split("+") for c in args.combine]:
        per_block = len(combination) == 1 and is_block_feature(combination[0])
        label = " + ".join(f"`{name}`" for name in combination)
        row = {"feature": label + (" (per block, worst block)" if per_block else "")}
        for shift in sorted({0, args.shift}):
            if per_block:
                scores = worst_block_scores(
                    block_matrix(combination[0], train_images, shift),
                    block_matrix(combination[0], validation_images, shift),
                )
            else:
                scores = gaussian_scores(
                    feature_matrix(combination, train_images, shift),
                    feature_matrix(combination, validation_images, shift),
                )
            threshold = np.percentile(scores[labels == 0], 95)
            row[f"auroc_{shift}"] = roc_auc_score(labels, scores)
            row[f"recall_{shift}"] = float((scores[labels == 1] > threshold).mean())
        row["dim"] = FEATURES[combination[0]](train_images[:1]).shape[-1] if per_block else \
            feature_matrix(combination, train_images[:2]).shape[1]
        rows.append(row)
        print(row, flush=True)

    header = "| feature | dim | validation AUROC | recall at 5% false alarms |"
    line = "|---|---|---|---|"
    if args.shift:
        header += f" AUROC, grid shifted by {args.shift} px |"
        line += "---|"
    table = [header, line]
    for row in sorted(rows, key=lambda r: -r["auroc_0"]):
        cells = f"| {row['feature']} | {row['dim']} | {row['auroc_0']:.4f} | {row['recall_0']:.3f} |"
        if args.shift:
            cells += f" {row[f'auroc_{args.shift}']:.4f} |"
        table.append(cells)
    command = "python scripts/feature_study.py " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    report = (
        "# Image features on their own\n\n"
        f"One Gaussian per feature (Ledoit-Wolf, standardised), fitted on {len(train_images)} real CIFAKE training "
        "images, scored on the labelled validation split (squared Mahalanobis distance; the test split is never "
        "read). Recall is at the 95th percentile of the real validation scores.\n\n"
        f"Command: `{command}`\n\n" + "\n".join(table) + "\n"
    )
    print(report)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(report)


if __name__ == "__main__":
    main()
