"""Shared pieces of the supervised training scripts (ELA + CNN, EfficientNet): labelled data and metrics."""

from __future__ import annotations

from typing import Any, Optional

import datasets
import numpy as np
import torch
from transformers import EvalPrediction

from .data import ImageTransform, select_label, take


def label_ids(dataset: datasets.Dataset) -> dict[int, int]:
    """Map a dataset's label ids to ours (real = 0, fake = 1), by ClassLabel name when there are names.

    Args:
        dataset: a dataset with a ``label`` column.

    Example:
        >>> label_ids(load_image_dataset("../shared/data/cifake", "validation"))  # doctest: +SKIP
        {0: 0, 1: 1}
    """
    names = [name.lower() for name in getattr(dataset.features["label"], "names", [])]
    if not names:
        return {0: 0, 1: 1}
    return {names.index("real"): 0, names.index("fake"): 1}


def balanced(dataset: datasets.Dataset, limit: Optional[int], seed: int) -> tuple[datasets.Dataset, datasets.Dataset]:
    """``(real, fake)`` subsets with at most ``limit // 2`` rows each (all rows when ``limit`` is None).

    Args:
        dataset: a dataset with a ``label`` column.
        limit: images in all, half per class; ``None`` keeps everything.
        seed: seed of the random subset.
    """
    per_class = None if limit is None else max(1, limit // 2)
    return take(select_label(dataset, "real"), per_class, seed), take(select_label(dataset, "fake"), per_class, seed)


class SupervisedTransform:
    """``ImageTransform`` (augment, then the model's processor) plus labels mapped to real = 0, fake = 1.

    Args:
        transform: the image transform (with or without augmentation).
        mapping: dataset label id -> our label id, from :func:`label_ids`.
    """

    def __init__(self, transform: ImageTransform, mapping: dict[int, int]) -> None:
        self.transform = transform
        self.mapping = mapping

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, Any]:
        output = self.transform(batch)
        output["labels"] = [self.mapping[int(label)] for label in output["labels"]]
        return output


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy (argmax of the two class logits) and ROC AUC of P(fake), for ``Trainer(compute_metrics=...)``."""
    from sklearn.metrics import roc_auc_score

    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    labels = np.asarray(prediction.label_ids)
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float32)
    probability = logits.softmax(-1)[:, 1].numpy()
    metrics = {"accuracy": float((logits.argmax(-1).numpy() == labels).mean())}
    if len(np.unique(labels)) == 2:
        metrics["roc_auc"] = float(roc_auc_score(labels, probability))
    return metrics
