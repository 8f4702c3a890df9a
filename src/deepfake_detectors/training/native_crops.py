"""Training on native-resolution crops: augmentation, crop sampling, several data sources, batches of one shape.

Used by ``scripts/train_npr.py``. A detector that looks at pixel-level traces must be trained on crops taken at
the image's own resolution, from images whose compression history says nothing about the label:
:class:`CropAugmentation` re-compresses (JPEG quality 60-100), rescales (0.5-1.5x before the crop), blurs and
flips, then cuts a random crop with even offsets (so the 2 x 2 grid of an up-sampling layer keeps its phase).

Images smaller than a crop (CIFAKE's 32 px) give smaller crops; :class:`ShapeGroupedTrainer` puts only crops of
one shape in each batch, so no image is padded or resized to fit another.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

import datasets
import numpy as np
import torch
from PIL import Image, ImageFilter
from torch.utils.data import DataLoader, Sampler
from transformers import Trainer

from ..processing import load_image
from ..processing_crops import upscale_to_crop
from .data import load_image_dataset, random_subset
from .supervised import label_ids


@dataclass
class CropAugmentation:
    """Random augmentation of one RGB image, then a random native-resolution crop.

    Args:
        crop_size: crop side in pixels (images smaller than that on a side keep that side whole, trimmed to even).
        jpeg_probability: chance of a JPEG re-compression at a quality drawn from ``jpeg_quality``.
        jpeg_quality: ``(low, high)`` JPEG qualities, inclusive.
        resize_probability: chance of rescaling by a factor drawn from ``resize_range`` before the crop (only
            images larger than ``2 * crop_size``, so the crop still fits; the result is at least one crop large).
        resize_range: ``(low, high)`` scale factors.
        blur_probability: chance of a Gaussian blur of radius 0.3-1.2 px.
        seed: seed of the random generator.
        upscale_small: after the augmentation, upscale an image whose shorter side is below ``crop_size`` to it
            (:func:`~deepfake_detectors.processing_crops.upscale_to_crop`), as a processor with
            ``upscale_small=True`` does at inference.
        offset_multiple: crop offsets are multiples of this (2: the up-sampling grid; 8: the JPEG grid, for ELA).

    Example:
        >>> augment = CropAugmentation(crop_size=64, seed=0)
        >>> augment(Image.new("RGB", (200, 150))).shape
        torch.Size([3, 64, 64])
    """

    crop_size: int = 96
    jpeg_probability: float = 0.5
    jpeg_quality: tuple[int, int] = (60, 100)
    resize_probability: float = 0.25
    resize_range: tuple[float, float] = (0.5, 1.5)
    blur_probability: float = 0.1
    seed: int = 0
    upscale_small: bool = False
    offset_multiple: int = 2

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def describe(self) -> str:
        """What the augmentation does, in words (for training records).

        Example:
            >>> CropAugmentation(resize_probability=0.0, blur_probability=0.0).describe()
            'flip, JPEG q60-100 (p=0.5), random native crop'
        """
        steps = ["flip"]
        if self.resize_probability > 0:
            low, high = self.resize_range
            steps.append(f"rescale {low:g}-{high:g}x (p={self.resize_probability:g})")
        if self.blur_probability > 0:
            steps.append(f"blur (p={self.blur_probability:g})")
        if self.jpeg_probability > 0:
            low, high = self.jpeg_quality
            steps.append(f"JPEG q{low}-{high} (p={self.jpeg_probability:g})")
        return ", ".join(steps + ["random native crop"])

    def augment(self, image: Image.Image) -> Image.Image:
        """The augmented image (flip, rescale, blur, JPEG), before cropping."""
        draw = self.random
        if draw.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if min(image.size) >= 2 * self.crop_size and draw.random() < self.resize_probability:
            factor = draw.uniform(*self.resize_range)
            size = tuple(max(self.crop_size, int(side * factor)) for side in image.size)
            image = image.resize(size, Image.Resampling.BICUBIC if factor > 1 else Image.Resampling.LANCZOS)
        if draw.random() < self.blur_probability:
            image = image.filter(ImageFilter.GaussianBlur(radius=draw.uniform(0.3, 1.2)))
        if draw.random() < self.jpeg_probability:
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=draw.randint(*self.jpeg_quality))
            image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        return image

    def random_crop(self, image: Image.Image) -> torch.Tensor:
        """A ``[3, h, w]`` crop in [0, 1] at a random offset, a multiple of ``offset_multiple``
        (``h, w = min(crop_size, side)``, even)."""
        array = np.asarray(image, dtype=np.uint8)
        height, width = array.shape[:2]
        crop_h = min(self.crop_size, height - height % 2)
        crop_w = min(self.crop_size, width - width % 2)
        step = self.offset_multiple
        top = step * self.random.randint(0, (height - crop_h) // step)
        left = step * self.random.randint(0, (width - crop_w) // step)
        crop = array[top : top + crop_h, left : left + crop_w].copy()
        return torch.from_numpy(crop).permute(2, 0, 1).float().div_(255.0)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        image = self.augment(image)
        if self.upscale_small:
            image = upscale_to_crop(image, self.crop_size)
        return self.random_crop(image)


class CropTransform:
    """`datasets` transform: load, (augment and) crop, label mapped to real = 0 / fake = 1.

    Without augmentation the crop is the image's centre crop, so evaluation is deterministic.

    Args:
        augmentation: the :class:`CropAugmentation` (its ``crop_size`` is used for centre crops too).
        mapping: dataset label id -> our label id (:func:`~deepfake_detectors.training.label_ids`).
        augment: augment and crop at random (training) or take the centre crop (evaluation).
        normalise: applied to every ``[3, h, w]`` crop in [0, 1] (e.g. a processor's ``normalise_tensor``);
            crops stay in [0, 1] when omitted.
    """

    def __init__(
        self,
        augmentation: CropAugmentation,
        mapping: dict[int, int],
        augment: bool,
        normalise: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    ) -> None:
        self.augmentation = augmentation
        self.mapping = mapping
        self.augment = augment
        self.normalise = normalise

    def centre_crop(self, image: Image.Image) -> torch.Tensor:
        side = self.augmentation.crop_size
        if self.augmentation.upscale_small:
            image = upscale_to_crop(image, side)
        width, height = image.size
        crop_w, crop_h = min(side, width - width % 2), min(side, height - height % 2)
        step = self.augmentation.offset_multiple
        left, top = step * ((width - crop_w) // (2 * step)), step * ((height - crop_h) // (2 * step))
        crop = np.asarray(image.crop((left, top, left + crop_w, top + crop_h)), dtype=np.uint8)
        return torch.from_numpy(crop.copy()).permute(2, 0, 1).float().div_(255.0)

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, Any]:
        images = [load_image(image) for image in batch["image"]]
        crop = self.augmentation if self.augment else self.centre_crop
        crops = [crop(image) for image in images]
        if self.normalise is not None:
            crops = [self.normalise(piece) for piece in crops]
        return {
            "pixel_values": crops,
            "labels": [self.mapping[int(label)] for label in batch["label"]],
        }


def crop_shape_groups(
    dataset: datasets.Dataset, crop_size: int, upscale_small: bool = False
) -> list[tuple[int, int]]:
    """The crop shape ``(h, w)`` each row will give, read from the image headers (no pixel is decoded).

    Args:
        dataset: rows with an ``image`` column.
        crop_size: the crop side.
        upscale_small: images smaller than a crop are upscaled to it (every row gives a full crop).
    """
    if upscale_small:
        return [(crop_size, crop_size)] * dataset.num_rows
    shapes = []
    for row in dataset.cast_column("image", datasets.Image(decode=False))["image"]:
        source = io.BytesIO(row["bytes"]) if row.get("bytes") else row["path"]
        with Image.open(source) as image:
            width, height = image.size
        shapes.append((min(crop_size, height - height % 2), min(crop_size, width - width % 2)))
    return shapes


class ShapeGroupedBatchSampler(Sampler[list[int]]):
    """Shuffled batches whose rows all give crops of one shape (big images in some batches, 32 px in others).

    Args:
        shapes: the crop shape of each row (:func:`crop_shape_groups`).
        batch_size: rows per batch.
        shuffle: shuffle rows and batches each epoch.
        seed: seed of the shuffling (advanced each epoch).

    Example:
        >>> sampler = ShapeGroupedBatchSampler([(32, 32), (96, 96), (32, 32)], batch_size=2, shuffle=False)
        >>> list(sampler)
        [[0, 2], [1]]
    """

    def __init__(self, shapes: Sequence[tuple[int, int]], batch_size: int, shuffle: bool = True, seed: int = 0):
        self.groups: dict[tuple[int, int], list[int]] = {}
        for index, shape in enumerate(shapes):
            self.groups.setdefault(tuple(shape), []).append(index)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def _batches(self) -> list[list[int]]:
        draw = random.Random(self.seed + self.epoch)
        batches = []
        for indices in self.groups.values():
            order = list(indices)
            if self.shuffle:
                draw.shuffle(order)
            batches.extend(order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size))
        if self.shuffle:
            draw.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()
        self.epoch += 1
        return iter(batches)

    def __len__(self) -> int:
        return sum(-(-len(indices) // self.batch_size) for indices in self.groups.values())


def collate_crops(rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Stack crops of one shape (and their labels) into a batch."""
    return {
        "pixel_values": torch.stack([row["pixel_values"] for row in rows]),
        "labels": torch.tensor([int(row["labels"]) for row in rows]),
    }


class ShapeGroupedTrainer(Trainer):
    """:class:`~transformers.Trainer` whose batches each hold crops of one shape.

    Args:
        train_shapes: the crop shape of each training row; eval_shapes: likewise for the evaluation rows.
        args, kwargs: as for :class:`~transformers.Trainer`.
    """

    def __init__(self, *args: Any, train_shapes: Sequence, eval_shapes: Optional[Sequence] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.train_shapes = list(train_shapes)
        self.eval_shapes = None if eval_shapes is None else list(eval_shapes)

    def _grouped_loader(self, dataset: datasets.Dataset, shapes: Sequence, batch_size: int, shuffle: bool):
        sampler = ShapeGroupedBatchSampler(shapes, batch_size, shuffle=shuffle, seed=self.args.seed)
        loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=collate_crops,
            num_workers=self.args.dataloader_num_workers,
        )
        return self.accelerator.prepare(loader)

    def get_train_dataloader(self) -> DataLoader:
        return self._grouped_loader(self.train_dataset, self.train_shapes, self.args.train_batch_size, True)

    def get_eval_dataloader(self, eval_dataset: Optional[datasets.Dataset] = None) -> DataLoader:
        dataset = self.eval_dataset if eval_dataset is None else eval_dataset
        shapes = self.eval_shapes if eval_dataset is None else crop_shape_groups(dataset, 10**6)
        return self._grouped_loader(dataset, shapes, self.args.eval_batch_size, False)


def load_crop_sources(
    sources: Sequence[str], split: str, limits: Sequence[Optional[int]], seed: int = 0
) -> datasets.Dataset:
    """Several labelled `datasets` sources as one dataset (``image`` and ``label`` columns, real = 0, fake = 1).

    Args:
        sources: dataset directories or ids (``../shared/data/wild``, ``../shared/data/cifake``).
        split: the split read from each.
        limits: rows to keep from each source (half per class; ``None`` = all).
        seed: seed of the subsets.
    """
    from .supervised import class_balanced_subsets

    parts = []
    for source, limit in zip(sources, limits):
        data = load_image_dataset(source, split)
        mapping = label_ids(data)
        real, fake = class_balanced_subsets(data, limit, seed) if limit is not None else (data, None)
        for part in [real] if fake is None else [real, fake]:
            part = part.select_columns(["image", "label"])
            labels = [mapping[int(value)] for value in part["label"]]
            part = part.remove_columns("label").add_column("label", labels)
            parts.append(part.cast_column("image", datasets.Image()))
    return datasets.concatenate_datasets(parts)


__all__ = [
    "CropAugmentation",
    "CropTransform",
    "ShapeGroupedBatchSampler",
    "ShapeGroupedTrainer",
    "collate_crops",
    "crop_shape_groups",
    "load_crop_sources",
    "random_subset",
]
