"""Calibrate and save a detector that needs no training (its weights come from a pretrained model)."""

from __future__ import annotations

import time
from typing import Any, Optional

from ..modeling.base import DeepfakeDetectorPreTrainedModel
from ..pipeline import EnsembleDeepfakeDetector
from .data import load_image_dataset, random_subset, select_label
from .supervised import round_to_float16_, save_trained_detector, training_device


def calibrate_and_save_training_free(
    model: DeepfakeDetectorPreTrainedModel,
    dataset: str,
    output_dir: str,
    *,
    calibration_split: str = "validation",
    max_calibration_samples: Optional[int] = 2000,
    seed: int = 0,
    float16: bool = True,
    record: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """Calibrate a training-free detector's thresholds and P(fake) on a held-out split and save it.

    As for a one-class detector, the real images of ``calibration_split`` set ``strict`` / ``balanced`` /
    ``sensitive`` (their 99th / 95th / 90th percentiles) and the labelled images the ``optimal`` threshold and the
    Platt scaling; no test split is read.

    Args:
        model: the detector, weights loaded (e.g. :meth:`ReconstructionRatioModel.from_tiny_autoencoder`).
        dataset: a `datasets` folder with ``calibration_split`` (never a test split).
        output_dir: where ``save_pretrained`` writes model, processor and thresholds.
        calibration_split: the held-out split the calibration reads.
        max_calibration_samples: images per class (``None`` or -1: all).
        seed: seed of the subset.
        float16: store the weights in float16; they are rounded first, so the calibration fits the stored weights.
        record: extra fields for the ``training`` record in ``config.json`` (where the weights came from).

    Returns:
        The summary :func:`save_trained_detector` prints.

    Example:
        >>> calibrate_and_save_training_free(model, "../shared/data/wild", "runs/ratio")  # doctest: +SKIP
    """
    if calibration_split == "test":
        raise ValueError("calibration reads a held-out split, never a test split")
    started = time.time()
    data = load_image_dataset(dataset, calibration_split)
    limit = None if max_calibration_samples in (None, -1) else max_calibration_samples
    real = random_subset(select_label(data, "real"), limit, seed)["image"]
    fake = random_subset(select_label(data, "fake"), limit, seed)["image"]
    model = model.cpu().eval()
    if float16:
        round_to_float16_(model)
    processor = model.default_processor()
    name = model.config.model_type.removeprefix("deepfake-").replace("-", "_")
    EnsembleDeepfakeDetector.from_members({name: (model, processor)}, device="cpu").calibrate(real, fake)
    training = {
        "dataset": str(dataset),
        "training": "none (pretrained weights)",
        "calibration_split": calibration_split,
        "crops_per_side": getattr(model.config, "crops_per_side", None),
        "calibration_seconds": round(time.time() - started, 1),
        "device": training_device(),
        **(record or {}),
    }
    return save_trained_detector(model, processor, output_dir, training, float16=float16)
