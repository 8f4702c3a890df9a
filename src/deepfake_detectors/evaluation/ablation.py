"""Evaluations of the SVDD + autoencoder repos beyond the test metrics: the noise sanity check and the ablation
of the input-complexity correction, and :func:`evaluate_all`, which runs them with the test and second-domain
evaluations and writes the result files a repo card is built from.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

from ..pipeline import EnsembleDeepfakeDetector
from ..training.data import load_image_dataset, select_label, random_subset
from .evaluate import evaluate_detector
from .metrics import detection_metrics

#: Images per class of the noise sanity check, and their side in pixels.
NOISE_CHECK_IMAGES, NOISE_IMAGE_SIDE = 500, 32


def noise_sanity_check(
    detector: EnsembleDeepfakeDetector, dataset: str, split: str, count: int, seed: int, side: int = NOISE_IMAGE_SIDE
) -> dict[str, Any]:
    """The published autoencoder check: real images of ``split`` (label 0) vs uniform random noise images (label 1).

    Args:
        detector: the detector, at its current threshold.
        dataset: a labelled dataset with a real class.
        split: the split the real images come from.
        count: real images, and noise images.
        seed: seed of the real-image sample and of the noise.
        side: side of the noise images in pixels.

    Returns:
        :func:`~deepfake_detectors.evaluation.detection_metrics` of the detector on the two groups.

    Example:
        >>> noise_sanity_check(detector, "../shared/data/cifake", "test", 500, 0)["auroc"]  # doctest: +SKIP
        1.0
    """
    rng = np.random.default_rng(seed)
    real = list(random_subset(select_label(load_image_dataset(dataset, split), "real"), count, seed)["image"])
    noise = [Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) for _ in range(count)]
    scores, _, _ = detector.score_images(real + noise)
    labels = np.r_[np.zeros(len(real), int), np.ones(count, int)]
    value, name = detector.threshold
    return detection_metrics(labels, scores, value, name)


def complexity_ablation(
    detector: EnsembleDeepfakeDetector, dataset: str, split: str, limit: Optional[int]
) -> dict[str, dict[str, Any]]:
    """Each member's AUROC on ``split`` with and without its input-complexity correction (what it adds).

    Args:
        detector: the detector; its members' corrections are switched off for one pass and then restored.
        dataset: a labelled dataset.
        split: the split to score.
        limit: images in all (half real, half fake); ``None`` = the whole split.

    Returns:
        ``{member: {"auroc_corrected", "auroc_uncorrected", "slope"}}`` (``slope`` ``None`` for a member without
        a correction); ``{}`` when no member has one.

    Example:
        >>> complexity_ablation(detector, "../shared/data/cifake", "test", 200)  # doctest: +SKIP
    """
    adjusted = {name: member.config.complexity_adjustment for name, member in detector.members.items()}
    if not any(adjusted.values()):
        return {}
    data = load_image_dataset(dataset, split)
    per_class = None if limit is None else limit // 2
    real = list(random_subset(select_label(data, "real"), per_class, 0)["image"])
    fake = list(random_subset(select_label(data, "fake"), per_class, 0)["image"])
    labels = np.r_[np.zeros(len(real), int), np.ones(len(fake), int)]
    corrected = detector.raw_scores(real + fake)
    try:
        for member in detector.members.values():
            member.config.complexity_adjustment = None
        uncorrected = detector.raw_scores(real + fake)
    finally:
        for name, member in detector.members.items():
            member.config.complexity_adjustment = adjusted[name]
    return {
        name: {
            "auroc_corrected": float(roc_auc_score(labels, corrected[name])),
            "auroc_uncorrected": float(roc_auc_score(labels, uncorrected[name])),
            "slope": None if adjusted[name] is None else adjusted[name]["slope"],
        }
        for name in detector.members
    }


def load_saved_results(out: Path) -> dict[str, Any]:
    """The results :func:`evaluate_all` wrote into ``out``: ``{"test": ..., **results_extra.json}``."""
    test = json.loads((Path(out) / "results_summary.json").read_text())
    return {"test": test, **json.loads((Path(out) / "results_extra.json").read_text())}


def evaluate_all(
    detector: EnsembleDeepfakeDetector,
    out: Path,
    name: str,
    *,
    dataset: str,
    test_split: str = "test",
    test_limit: Optional[int] = None,
    second_domain: Optional[str] = None,
) -> dict[str, Any]:
    """Test split (``results_summary.json`` + plots, with the robustness sweep), noise check, complexity
    ablation and the untuned second domain (``results_extra.json``), all written into ``out``.

    Args:
        detector: the detector as published (loaded from ``out``).
        out: the repo folder.
        name: the repo name (in the results and plots).
        dataset: the labelled dataset of the test split.
        test_split: the split evaluated.
        test_limit: test images in all (``None`` = the whole split).
        second_domain: a second labelled dataset evaluated untuned (skipped when empty or missing).

    Returns:
        ``{"test": ..., "noise_sanity_check": ..., "complexity_ablation": ..., "aiart_test": ...}``.

    Example:
        >>> evaluate_all(detector, Path("hub_repos/x"), "x", dataset="../shared/data/cifake")  # doctest: +SKIP
    """
    out = Path(out)
    started = time.time()
    test = evaluate_detector(
        detector, dataset, test_split, limit=test_limit, output_dir=str(out), model_name=name, robustness=True
    )
    test["seconds"] = round(time.time() - started, 1)
    (out / "results.json").rename(out / "results_summary.json")
    extra: dict[str, Any] = {
        "noise_sanity_check": noise_sanity_check(detector, dataset, test_split, NOISE_CHECK_IMAGES, 0)
    }
    extra["complexity_ablation"] = complexity_ablation(detector, dataset, test_split, test_limit)
    if second_domain and Path(second_domain).exists():
        extra["aiart_test"] = evaluate_detector(detector, second_domain, "test", model_name=name)
    (out / "results_extra.json").write_text(json.dumps(extra, indent=2) + "\n")
    return {"test": test, **extra}
