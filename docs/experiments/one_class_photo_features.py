"""Exploratory (issue 18): which hand-made features, crop sizes and crop aggregations make a one-class score on photos?

For every registered feature and crop size: one Gaussian (Ledoit-Wolf) fitted on the native crops of the wild
*train* real photos only; every image of a selection set scored by the squared Mahalanobis distance of its crops,
combined by the mean or the maximum. Two selection sets, neither of them a test split:

- ``wild-val``: wild validation (same sources as wild train, so it flatters);
- ``other``: the public sources of ``runs/photo_sources`` (people photos and BSD100 photos against Gemini, DALL-E 2 /
  SD / Midjourney and ComfyUI images), which share no source with wild train.

Run from the repository root (after ``python scripts/build_photo_sources.py --mirror /work/.mirror --output-dir
runs/photo_sources``):

    python docs/experiments/one_class_photo_features.py 4 32 64 128 > docs/experiments/one_class_photo_features.log

(the log was written in runs: 32 and 64 px, then 128 px, then the candidate feature alone with
``python docs/experiments/one_class_photo_features.py 4 32 64 128 candidate``; later headers removed.)

``jpeg=Q`` among the arguments (added 2026-12-06) re-saves every image, the training reals and both selection sets,
once as a JPEG at quality Q before its crops are taken: the same compression floor for all, since the two sets'
real and AI images differ in how much JPEG compression they have been through, in opposite directions (evaluate's
``jpeg_resave_change``), and the table above shows features ranking the two sets in opposite orders (e.g.
``jpeg_dct_stats`` 0.79 / 0.24). Run: ``python docs/experiments/one_class_photo_features.py 4 64 128 jpeg=75 >
docs/experiments/one_class_photo_features_jpeg75.log``. Rule, written before that run: the photo one-class
ensemble is refitted with the round trip only if some feature then reaches >= 0.65 AUROC on both sets with the
mean aggregation at 64 or 128 px (without it, none does: the best is ``patch_stats`` at 64 px, 0.617 / 0.624).
"""

from __future__ import annotations

import io
import sys
from typing import Any

import numpy as np
from PIL import Image
import torch
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score

from deepfake_detectors.features import FEATURES
from deepfake_detectors.features.statistics import _moments
from deepfake_detectors.processing import load_image
from deepfake_detectors.processing_crops import NativeCropImageProcessor
from deepfake_detectors.training import load_image_dataset, select_label

torch.set_num_threads(2)


def upsampling_residual_stats(images: torch.Tensor) -> torch.Tensor:
    """Candidate feature (NPR, Tan et al. 2024, as a one-class statistic): the residual between an image and the
    nearest-neighbour 2x up-sampling of its 2 x 2 average; per channel, its log mean magnitude in each of the four
    2 x 2 phases, its moments, and the correlation of horizontally and vertically neighbouring residuals within a
    2 x 2 block and across block borders."""
    height, width = images.shape[-2] // 2 * 2, images.shape[-1] // 2 * 2
    x = images[..., :height, :width]
    residual = x - torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(x, 2), scale_factor=2)
    features = [torch.log(residual[..., i::2, j::2].abs().mean(dim=(2, 3)) + 1e-6) for i in (0, 1) for j in (0, 1)]
    features.append(_moments(residual.flatten(2)).flatten(1))
    scale = residual.pow(2).mean(dim=(2, 3)) + 1e-8
    for within, across in (
        ((residual[..., :, 0::2] * residual[..., :, 1::2]), (residual[..., :, 1:-1:2] * residual[..., :, 2::2])),
        ((residual[..., 0::2, :] * residual[..., 1::2, :]), (residual[..., 1:-1:2, :] * residual[..., 2::2, :])),
    ):
        features += [within.mean(dim=(2, 3)) / scale, across.mean(dim=(2, 3)) / scale]
    return torch.cat(features, dim=1)


#: Candidate features measured next to the registered ones (not part of the package).
CANDIDATES = {"upsampling_residual_stats (candidate)": upsampling_residual_stats}


def crops_of(images: list, processor: NativeCropImageProcessor) -> tuple[torch.Tensor, np.ndarray]:
    """All crops of ``images`` ``[n crops, 3, s, s]`` and the index of the image each came from."""
    crops, owners = [], []
    for index, image in enumerate(images):
        piece = processor.crops(load_image(image))
        crops.append(piece)
        owners += [index] * len(piece)
    return torch.cat(crops), np.asarray(owners)


def features_of(crops: torch.Tensor, name: str) -> np.ndarray:
    function = CANDIDATES.get(name) or FEATURES[name]
    values = [function(crops[i : i + 1024]).reshape(len(crops[i : i + 1024]), -1) for i in range(0, len(crops), 1024)]
    return torch.cat(values).double().numpy()


def image_scores(distances: np.ndarray, owners: np.ndarray, count: int, how: str) -> np.ndarray:
    out = np.full(count, -np.inf if how == "max" else 0.0)
    if how == "max":
        np.maximum.at(out, owners, distances)
        return out
    np.add.at(out, owners, distances)
    return out / np.bincount(owners, minlength=count)


def jpeg_round_trip(image: Any, quality: int) -> Image.Image:
    """``image`` loaded and re-saved once as a JPEG at ``quality``."""
    buffer = io.BytesIO()
    load_image(image).save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def main() -> None:
    quality = next((int(v.split("=")[1]) for v in sys.argv if v.startswith("jpeg=")), None)
    sys.argv = [v for v in sys.argv if not v.startswith("jpeg=")]
    crops_per_side, sizes = int(sys.argv[1]), [int(v) for v in sys.argv[2:] if v.isdigit()]
    wild_train = select_label(load_image_dataset("../shared/data/wild", "train"), "real")["image"]
    validation = load_image_dataset("../shared/data/wild", "validation")
    other = load_image_dataset("runs/photo_sources", "train")
    sets = {
        "wild-val": (list(validation["image"]), np.asarray(validation["label"])),
        "other": (list(other["image"]), np.asarray(other["label"])),
    }
    if quality is not None:
        wild_train = [jpeg_round_trip(image, quality) for image in wild_train]
        sets = {name: ([jpeg_round_trip(image, quality) for image in images], labels)
                for name, (images, labels) in sets.items()}
        print(f"every image re-saved once as a JPEG at quality {quality} before its crops")
    print(f"train reals {len(wild_train)}; " + "; ".join(f"{k}: {int((v[1] == 0).sum())} real / "
                                                         f"{int((v[1] == 1).sum())} fake" for k, v in sets.items()))
    print("| crop | feature | wild-val mean | wild-val max | other mean | other max |\n|---|---|---|---|---|---|")
    for size in sizes:
        processor = NativeCropImageProcessor(crop_size=size, crops_per_side=crops_per_side, upscale_small=True,
                                             offset_multiple=8)
        train_crops, _ = crops_of(wild_train, processor)
        scored = {name: crops_of(images, processor) for name, (images, _) in sets.items()}
        only = sys.argv[-1] if not sys.argv[-1].isdigit() else None
        for feature in [name for name in [*FEATURES, *CANDIDATES] if only is None or only in name]:
            if feature == "jpeg_block_dct" and size > 32:  # 64 values per 8x8 block: too many dimensions for one Gaussian
                print(f"| {size} | {feature} | skipped: {(size // 8) ** 2 * 64} dimensions | | | |")
                continue
            try:
                train_values = features_of(train_crops, feature)
            except Exception as error:  # a per-block feature of another shape, too small a crop, ...
                print(f"| {size} | {feature} | skipped: {type(error).__name__} | | | |")
                continue
            mean, std = train_values.mean(0), train_values.std(0) + 1e-8
            gaussian = LedoitWolf().fit((train_values - mean) / std)
            cells = []
            for name, (images, labels) in sets.items():
                crops, owners = scored[name]
                distances = gaussian.mahalanobis((features_of(crops, feature) - mean) / std)
                for how in ("mean", "max"):
                    scores = image_scores(distances, owners, len(images), how)
                    cells.append(f"{roc_auc_score(labels, scores):.3f}")
            print(f"| {size} | {feature} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
