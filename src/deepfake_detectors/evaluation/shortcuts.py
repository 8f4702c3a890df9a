"""Shortcut baselines: how well trivial statistics of the images alone separate the classes of an evaluation set.

A detector's AUROC means little when the stored size, the JPEG quality or how smooth the images are already tells
the classes apart: the detector may be following that rather than generation traces. On wild validation the PNG
code length of a 256 px crop alone scores 0.737 (its AI images are smoother than its photos), more than any
training-free detector here (``docs/reconstruction_error_selection.md``), and how much a JPEG re-save changes an
image, i.e. how much JPEG compression it has already been through, can tell classes apart too. ``evaluate`` reports
these baselines next to the detector's figures so that a reader can see it.
"""

from __future__ import annotations

import io
from typing import Any, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from sklearn.metrics import roc_auc_score

from ..domain import DOMAIN_FEATURES, centre_square, image_statistics
from ..features.complexity import compressed_bits_per_dimension

#: The statistics measured, in the column order of :func:`shortcut_statistics`.
SHORTCUT_STATISTICS = (*DOMAIN_FEATURES, "png_bits", "jpeg_resave_change")
#: The JPEG quality of :func:`jpeg_resave_change`.
RESAVE_QUALITY = 75


def centre_crop_png_bits(image: Image.Image) -> float:
    """PNG code length, in bits per pixel value, of the centred square crop of at most 256 px (smooth images
    compress to few bits, detailed or noisy ones to many).

    Args:
        image: a loaded RGB image.

    Example:
        >>> round(centre_crop_png_bits(Image.new("RGB", (300, 200), "grey")), 2) < 0.5
        True
    """
    crop = np.asarray(centre_square(image).convert("RGB"), dtype=np.float32) / 255.0
    return float(compressed_bits_per_dimension(torch.from_numpy(crop).permute(2, 0, 1)[None])[0])


def jpeg_resave_change(image: Image.Image, quality: int = RESAVE_QUALITY) -> float:
    """Mean absolute change, in 8-bit levels, of the centred square crop of at most 256 px (its corner on the 8-pixel
    JPEG grid) when saved as a JPEG at ``quality``: small for an image that has already been through JPEG
    compression like it (and for smooth images), large for one that never was. Alone it scores 0.823 AUROC on wild
    validation (the photos change more) and 0.657 / 0.618 on the new public sources' train / validation splits (the
    AI images change more): the classes' compression histories differ, each set its own way (README, "evaluate").

    Args:
        image: a loaded RGB image.
        quality: the re-save's JPEG quality (PIL, 4:2:0 chroma subsampling).

    Example:
        >>> jpeg_resave_change(Image.new("RGB", (64, 64), "grey")) < 1.0
        True
    """
    crop = centre_square(image, grid=8).convert("RGB")
    buffer = io.BytesIO()
    crop.save(buffer, format="JPEG", quality=quality)
    resaved = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return float(np.abs(np.asarray(crop, dtype=np.int16) - np.asarray(resaved, dtype=np.int16)).mean())


def shortcut_statistics(images: Sequence[Image.Image]) -> np.ndarray:
    """``[len(images), len(SHORTCUT_STATISTICS)]``: the domain statistics (stored size, aspect, JPEG quality, noise,
    spectral slope), the centre crop's PNG bits and its change under a JPEG re-save, for each loaded image."""
    if not images:
        return np.zeros((0, len(SHORTCUT_STATISTICS)))
    extra = np.array([[centre_crop_png_bits(image), jpeg_resave_change(image)] for image in images])
    return np.hstack([image_statistics(images), extra])


def auroc_within_strata(labels: Any, scores: Any, nuisance: Any, bins: int = 5) -> Optional[float]:
    """AUROC of ``scores`` within quantile bins of a nuisance statistic, averaged with the bins' image counts as
    weights (bins holding one class only are left out): how well the scores separate images that the nuisance
    statistic cannot.

    Args:
        labels: 0 (real) / 1 (fake) per image.
        scores: fake-ness scores.
        nuisance: the statistic to hold fixed (e.g. the PNG bits of :func:`centre_crop_png_bits`).
        bins: quantile bins.

    Returns:
        The weighted mean AUROC, or ``None`` when no bin holds both classes.

    Example:
        >>> auroc_within_strata([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], [1.0, 1.1, 5.0, 5.1], bins=2)
        1.0
    """
    labels, scores, nuisance = (np.asarray(values, dtype=float) for values in (labels, scores, nuisance))
    edges = np.quantile(nuisance, np.linspace(0, 1, bins + 1)[1:-1])
    stratum = np.searchsorted(edges, nuisance, side="right")
    total, weight = 0.0, 0
    for index in np.unique(stratum):
        inside = stratum == index
        if labels[inside].min() == labels[inside].max():
            continue
        total += inside.sum() * roc_auc_score(labels[inside], scores[inside])
        weight += int(inside.sum())
    return None if weight == 0 else float(total / weight)


def shortcut_baselines(
    labels: Any, images: Sequence[Image.Image], scores: Optional[Any] = None
) -> Optional[dict[str, Any]]:
    """AUROC of each trivial statistic alone as a fake-ness score, in the direction that separates better.

    Args:
        labels: 0 (real) / 1 (fake) per image.
        images: the loaded RGB images, in the same order (as :func:`~deepfake_detectors.load_image` returns them,
            so that their stored size and JPEG quality are known).
        scores: the detector's scores of the same images; when given, ``detector_auroc_within_png_bits_quintiles``
            and ``detector_auroc_within_jpeg_resave_change_quintiles`` are added (:func:`auroc_within_strata`: the
            detector's AUROC among images of similar smoothness, and of similar compression history).

    Returns:
        ``{statistic: {"auroc": value >= 0.5, "higher_means": "fake" | "real" | None}, "strongest": name}``, or
        ``None`` when the labels hold one class only.

    Example:
        >>> baselines = shortcut_baselines(labels, images)  # doctest: +SKIP
        >>> baselines["png_bits"]  # doctest: +SKIP
        {'auroc': 0.737, 'higher_means': 'real'}
    """
    labels = np.asarray(labels).astype(int)
    if len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels but {len(images)} images")
    if labels.size == 0 or labels.min() == labels.max():
        return None
    statistics = shortcut_statistics(images)
    baselines: dict[str, Any] = {}
    for column, name in enumerate(SHORTCUT_STATISTICS):
        values = statistics[:, column]
        auroc = float(roc_auc_score(labels, values)) if np.ptp(values) > 0 else 0.5
        direction = None if auroc == 0.5 else ("fake" if auroc > 0.5 else "real")
        baselines[name] = {"auroc": max(auroc, 1.0 - auroc), "higher_means": direction}
    baselines["strongest"] = max(SHORTCUT_STATISTICS, key=lambda name: baselines[name]["auroc"])
    if scores is not None:  # the detector among images of similar smoothness, and of similar compression history
        for name in ("png_bits", "jpeg_resave_change"):
            baselines[f"detector_auroc_within_{name}_quintiles"] = auroc_within_strata(
                labels, scores, statistics[:, SHORTCUT_STATISTICS.index(name)]
            )
    return baselines
