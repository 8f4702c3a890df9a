"""Read training data with `datasets` and turn it into ``pixel_values`` through a detector's image processor."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any, Optional

import datasets
import torch
from PIL import Image, ImageFilter

from ..processing import DeepfakeImageProcessor, load_image


def load_image_dataset(source: str, split: str) -> datasets.Dataset:
    """Load one split of an image dataset with ``image`` and ``label`` columns.

    Args:
        source: a local `datasets` directory (``../shared/data/cifake``), a folder of class subfolders
            (``real/``, ``fake/``; read with the ``imagefolder`` builder), or a Hub dataset id.
        split: ``"train"``, ``"validation"``, ``"test"``...

    Example:
        >>> load_image_dataset("../shared/data/cifake", "validation").num_rows
        5000
    """
    path = Path(source)
    is_plain_folder = path.is_dir() and not any(path.glob("*.parquet")) and not any(path.glob("data/*"))
    if is_plain_folder:
        dataset = datasets.load_dataset("imagefolder", data_dir=str(path), split=split)
    else:
        dataset = datasets.load_dataset(str(source), split=split)
    missing = {"image", "label"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"{source} [{split}] lacks columns {sorted(missing)}; it has {dataset.column_names}")
    return dataset


def _label_id(dataset: datasets.Dataset, label: str) -> int:
    feature = dataset.features["label"]
    names = [name.lower() for name in getattr(feature, "names", [])]
    if names:
        if label not in names:
            raise ValueError(f"label {label!r} not among the dataset's labels {names}")
        return names.index(label)
    return {"real": 0, "fake": 1}[label]


def select_label(dataset: datasets.Dataset, label: str) -> datasets.Dataset:
    """Keep only the rows of one class (``"real"`` or ``"fake"``), matched by ClassLabel name when present."""
    label_id = _label_id(dataset, label)
    labels = dataset["label"]
    return dataset.select([index for index, value in enumerate(labels) if value == label_id])


def random_subset(dataset: datasets.Dataset, limit: Optional[int], seed: int = 0) -> datasets.Dataset:
    """A deterministic random subset of at most ``limit`` rows (all rows when ``limit`` is None)."""
    if limit is None or limit >= dataset.num_rows:
        return dataset
    return dataset.shuffle(seed=seed).select(range(limit))


def jpeg_recompress(image: Image.Image, quality: int) -> Image.Image:
    """Re-encode an RGB image as JPEG at ``quality`` and decode it again."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


class ImageTransform:
    """`datasets` transform: decode with the shared loader, optionally augment, then run the image processor.

    Args:
        processor: the detector's image processor.
        augment: apply random horizontal flips (and, with ``robust=True``, JPEG re-compression, down-up
            resizing and mild blur, so that a model cannot lean on one file format).
        robust: add the format-robustness augmentations.
        seed: seed of the augmentation random generator.
    """

    def __init__(
        self, processor: DeepfakeImageProcessor, augment: bool = False, robust: bool = False, seed: int = 0
    ) -> None:
        self.processor = processor
        self.augment = augment
        self.robust = robust
        self.random = random.Random(seed)

    def _augment(self, image: Image.Image) -> Image.Image:
        if self.random.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if self.robust:
            if self.random.random() < 0.3:
                image = jpeg_recompress(image, self.random.randint(60, 95))
            if self.random.random() < 0.2:
                width, height = image.size
                factor = self.random.uniform(0.5, 0.9)
                small = image.resize((max(1, int(width * factor)), max(1, int(height * factor))), Image.BILINEAR)
                image = small.resize((width, height), Image.BILINEAR)
            if self.random.random() < 0.1:
                image = image.filter(ImageFilter.GaussianBlur(radius=self.random.uniform(0.3, 1.0)))
        return image

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, Any]:
        images = [load_image(image) for image in batch["image"]]
        if self.augment:
            images = [self._augment(image) for image in images]
        pixel_values = self.processor(images)["pixel_values"]
        output: dict[str, Any] = {"pixel_values": list(pixel_values)}
        if "label" in batch:
            output["labels"] = list(batch["label"])
        return output


def collate_pixel_values(rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Stack ``pixel_values`` (and ``labels`` when present) of dataset rows into a batch."""
    batch = {"pixel_values": torch.stack([row["pixel_values"] for row in rows])}
    if "labels" in rows[0]:
        batch["labels"] = torch.tensor([int(row["labels"]) for row in rows])
    return batch

