"""Shared pieces of the supervised training scripts (ELA + CNN, EfficientNet): labelled data and metrics."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Optional

import datasets
import numpy as np
import torch
from transformers import EvalPrediction

from ..processing import DeepfakeImageProcessor
from .data import ImageTransform, load_image_dataset, select_label, take


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


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``data`` options every supervised training script shares (dataset, splits, sample limits).

    Args:
        parser: the script's argument parser.
    """
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="../shared/data/cifake", help="datasets dir, imagefolder or Hub id")
    data.add_argument("--train-split", default="train")
    data.add_argument("--validation-split", default="validation", help="best checkpoint and calibration")
    data.add_argument("--max-train-samples", type=int, default=None, help="training images in all (half per class)")
    data.add_argument("--max-eval-samples", type=int, default=2000, help="validation images per evaluation, in all")
    data.add_argument("--max-calibration-samples", type=int, default=2500, help="per class, for calibration")


@dataclass
class SupervisedData:
    """Balanced training and evaluation sets, ready for ``Trainer``, and the validation split for calibration.

    Args:
        train: shuffled, augmented training rows (``pixel_values``, ``labels``).
        evaluation: plain validation rows for the per-epoch evaluation.
        validation: the whole validation split (raw), from which calibration images are drawn.
    """

    train: datasets.Dataset
    evaluation: datasets.Dataset
    validation: datasets.Dataset


def prepare_supervised_data(args: argparse.Namespace, processor: DeepfakeImageProcessor) -> SupervisedData:
    """Load both classes of the splits named by :func:`add_data_arguments` and attach the transforms.

    Training images are augmented (flips, JPEG re-compression, down-up resizing, blur) *before* the processor
    runs, so anything the processor computes (an ELA map) describes the augmented image.

    Args:
        args: parsed arguments with the data options and ``seed``.
        processor: the model's image processor.

    Example:
        >>> data = prepare_supervised_data(args, processor)  # doctest: +SKIP
        >>> Trainer(model=model, train_dataset=data.train, eval_dataset=data.evaluation, ...)  # doctest: +SKIP
    """
    train_data = load_image_dataset(args.dataset, args.train_split)
    validation = load_image_dataset(args.dataset, args.validation_split)
    train = datasets.concatenate_datasets(list(balanced(train_data, args.max_train_samples, args.seed)))
    train = train.shuffle(seed=args.seed)
    evaluation = datasets.concatenate_datasets(list(balanced(validation, args.max_eval_samples, args.seed)))
    augment = ImageTransform(processor, augment=True, robust=True, seed=args.seed)
    plain = ImageTransform(processor, augment=False)
    return SupervisedData(
        train=train.with_transform(SupervisedTransform(augment, label_ids(train_data))),
        evaluation=evaluation.with_transform(SupervisedTransform(plain, label_ids(validation))),
        validation=validation,
    )


def calibrate_on_validation(
    model: torch.nn.Module,
    processor: Any,
    sources: list[str],
    limits: list[Optional[int]],
    seed: int = 0,
    split: str = "validation",
) -> str:
    """Calibrate a single detector (Platt scaling and named thresholds) on the validation splits of datasets.

    Args:
        model: the trained detector (its ``config.calibration`` is replaced).
        processor: its image processor.
        sources: `datasets` sources whose ``split`` is used (never a test split).
        limits: images per source (half per class; ``None`` = all).
        seed: seed of the subsets.
        split: the split read.

    Returns:
        What the calibration was fitted on, in words (for the ``training`` record of the config).

    Example:
        >>> calibrate_on_validation(model, processor, ["../shared/data/wild"], [None])  # doctest: +SKIP
        "validation splits of ['../shared/data/wild'] (302 real, 369 fake)"
    """
    if split == "test":
        raise ValueError("never calibrate on a test split")
    from ..pipeline import EnsembleDeepfakeDetector

    real, fake = [], []
    for source, count in zip(sources, limits):
        source_real, source_fake = balanced(load_image_dataset(source, split), count, seed)
        real += list(source_real["image"])
        fake += list(source_fake["image"])
    detector = EnsembleDeepfakeDetector.from_members({"detector": (model, processor)}, device="cpu")
    detector.calibrate(real, fake, batch_size=64)
    return f"{split} splits of {list(sources)} ({len(real)} real, {len(fake)} fake)"
