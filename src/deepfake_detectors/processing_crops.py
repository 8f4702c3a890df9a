"""Native-resolution crops: the image processor of detectors that must see the pixels as the generator left them.

Generators leave their traces between neighbouring pixels (the up-sampling layers every image decoder ends with,
the absence of camera noise and demosaicing). Resizing an image to a fixed input size averages those traces away
and puts every photo far from anything the detector was trained on, so :class:`NativeCropImageProcessor` never
resamples: it cuts a grid of ``crop_size`` crops out of the image at its own resolution and the model combines
the crops' scores (``config.crop_aggregation``).

Images smaller than a crop are handled in one of two documented ways, chosen by ``upscale_small``:

- ``False`` (the NPR detector): scored whole. A side shorter than ``crop_size`` gives crops as long as that side
  (trimmed to an even number of pixels, so that the 2 x 2 pixel grid of an up-sampling layer keeps its phase).
  Nothing is padded or upscaled.
- ``True`` (detectors on ImageNet backbones, which were also trained on CIFAKE's 32 px images upscaled): an image
  whose shorter side is below ``crop_size`` is first upscaled (bilinear, aspect kept) until that side equals
  ``crop_size``; larger images are never resampled. :func:`upscale_to_crop` is that step, shared with training.

Crop offsets are even for the same reason.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np
import torch
from PIL import Image
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature

from .processing import ImageInput, load_image, normalise_channels

#: The pixel_values of one group of images with crops of the same shape: (input indices, [n, K, 3, h, w]).
CropGroup = tuple[list[int], torch.Tensor]


def crop_offsets(length: int, crop: int, count: int, multiple: int = 2) -> list[int]:
    """``count`` evenly spaced offsets of a ``crop``-long window in ``length`` pixels (one when it fits once), each
    a multiple of ``multiple`` (even by default).

    Args:
        length: the image side in pixels.
        crop: the crop side (already at most ``length``).
        count: how many crops along this side at most.
        multiple: every offset is a multiple of this (2 keeps the 2 x 2 up-sampling grid, 8 the JPEG grid).

    Example:
        >>> crop_offsets(256, 96, 3)
        [0, 80, 160]
        >>> crop_offsets(32, 32, 3)
        [0]
    """
    if crop >= length - 1:
        return [0]
    positions = np.linspace(0, length - crop, count)
    return sorted({multiple * int(value // multiple) for value in positions})


def tile_starts(length: int, tile: int) -> list[int]:
    """Even start offsets of ``tile``-long tiles covering ``length`` pixels, the last one flush with the end.

    Used by the explanations that cover the whole image tile by tile.

    Example:
        >>> tile_starts(256, 96)
        [0, 96, 160]
    """
    starts = list(range(0, length - tile + 1, tile))
    last = 2 * ((length - tile) // 2)
    return starts if starts[-1] >= last else starts + [last]


def unit_range_crop_processor(crop_size: int, crops_per_side: int) -> "NativeCropImageProcessor":
    """The processor of the native-crop models that read pixels in [-1, 1] (the photo autoencoder, the zero-shot
    entropy and reconstruction-ratio detectors): native crops of ``crop_size``, smaller images upscaled to it (and
    said so).

    Example:
        >>> unit_range_crop_processor(128, 2).image_mean
        [0.5, 0.5, 0.5]
    """
    return NativeCropImageProcessor(
        crop_size=crop_size,
        crops_per_side=crops_per_side,
        image_mean=(0.5, 0.5, 0.5),
        image_std=(0.5, 0.5, 0.5),
        upscale_small=True,
    )


def upscale_to_crop(image: Image.Image, crop_size: int) -> Image.Image:
    """Upscale an image whose shorter side is below ``crop_size`` (bilinear, aspect kept); return others unchanged.

    Args:
        image: an RGB image.
        crop_size: the crop side the image must reach.

    Example:
        >>> upscale_to_crop(Image.new("RGB", (32, 40)), 128).size
        (128, 160)
        >>> upscale_to_crop(Image.new("RGB", (300, 200)), 128).size
        (300, 200)
    """
    width, height = image.size
    shorter = min(width, height)
    if shorter >= crop_size:
        return image
    scale = crop_size / shorter
    size = (max(crop_size, round(width * scale)), max(crop_size, round(height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)


class NativeCropImageProcessor(BaseImageProcessor):
    r"""Cut a grid of crops out of each image at its native resolution (no resizing), as ``pixel_values``.

    Saved as ``preprocessor_config.json`` beside the model, so the repo says exactly what the model sees.

    Args:
        crop_size (`int`, defaults to 96): side of each square crop in pixels.
        crops_per_side (`int`, defaults to 3): crops along each side of images larger than a crop
            (``crops_per_side ** 2`` crops in all, evenly spaced from edge to edge, overlapping on small images).
        image_mean (`list[float]`, defaults to `[0.0, 0.0, 0.0]`): per-channel mean subtracted after scaling to
            [0, 1].
        image_std (`list[float]`, defaults to `[1.0, 1.0, 1.0]`): per-channel standard deviation.
        upscale_small (`bool`, defaults to `False`): upscale images whose shorter side is below ``crop_size`` to
            that size (:func:`upscale_to_crop`) instead of scoring them whole at their own size.
        offset_multiple (`int`, defaults to 2): crop offsets are multiples of this (8 keeps the JPEG grid).

    Example:
        >>> processor = NativeCropImageProcessor(crop_size=96, crops_per_side=2)
        >>> processor(["examples/real_01.jpg"])["pixel_values"].shape
        torch.Size([1, 1, 3, 32, 32])
    """

    model_input_names = ["pixel_values"]

    def __init__(
        self,
        crop_size: int = 96,
        crops_per_side: int = 3,
        image_mean: Sequence[float] = (0.0, 0.0, 0.0),
        image_std: Sequence[float] = (1.0, 1.0, 1.0),
        upscale_small: bool = False,
        offset_multiple: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 8 <= int(crop_size) <= 4096 or int(crop_size) % 2:
            raise ValueError(f"crop_size must be an even number of pixels between 8 and 4096, got {crop_size}")
        if not 1 <= int(crops_per_side) <= 16:
            raise ValueError(f"crops_per_side must be between 1 and 16, got {crops_per_side}")
        if len(image_mean) != 3 or len(image_std) != 3 or any(float(s) <= 0 for s in image_std):
            raise ValueError("image_mean and image_std need 3 values each, and every std must be positive")
        self.crop_size = int(crop_size)
        self.crops_per_side = int(crops_per_side)
        self.image_mean = [float(v) for v in image_mean]
        self.image_std = [float(v) for v in image_std]
        self.upscale_small = bool(upscale_small)
        if int(offset_multiple) not in (2, 4, 8, 16):
            raise ValueError(f"offset_multiple must be 2, 4, 8 or 16, got {offset_multiple}")
        self.offset_multiple = int(offset_multiple)

    @property
    def cache_key(self) -> tuple:
        """What identifies this processor's unnormalised output (an ensemble shares it between members)."""
        return ("native_crops", self.crop_size, self.crops_per_side, self.upscale_small, self.offset_multiple)

    def crop_boxes(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """The ``(left, top, right, bottom)`` boxes cut out of a ``width x height`` image.

        Example:
            >>> NativeCropImageProcessor(crop_size=96, crops_per_side=2).crop_boxes(200, 40)
            [(0, 0, 96, 40), (104, 0, 200, 40)]
        """
        crop_w = min(self.crop_size, width - width % 2)
        crop_h = min(self.crop_size, height - height % 2)
        if crop_w < 2 or crop_h < 2:
            raise ValueError(f"image of {width}x{height} pixels is too small to score (needs at least 2x2)")
        return [
            (left, top, left + crop_w, top + crop_h)
            for top in crop_offsets(height, crop_h, self.crops_per_side, self.offset_multiple)
            for left in crop_offsets(width, crop_w, self.crops_per_side, self.offset_multiple)
        ]

    def crop_images(self, image: Image.Image) -> list[Image.Image]:
        """The crops of one RGB image as images, exactly those :meth:`crops` scores (training data of members that
        see one crop at a time).

        Example:
            >>> crops = NativeCropImageProcessor(crop_size=32, crops_per_side=2).crop_images(Image.new("RGB", (64, 48)))
            >>> [crop.size for crop in crops]
            [(32, 32), (32, 32), (32, 32), (32, 32)]
        """
        if self.upscale_small:
            image = upscale_to_crop(image, self.crop_size)
        return [image.crop(box) for box in self.crop_boxes(*image.size)]

    def crops(self, image: Image.Image) -> torch.Tensor:
        """``[K, 3, h, w]`` float crops in [0, 1] of one RGB image (not normalised)."""
        # Crop before converting: a 12 MP photo is never copied whole, only the pixels that are scored.
        pieces = [np.asarray(crop, dtype=np.uint8) for crop in self.crop_images(image)]
        return torch.from_numpy(np.stack(pieces)).permute(0, 3, 1, 2).float().div_(255.0)

    def crop_groups(self, images: Sequence[Image.Image]) -> list[CropGroup]:
        """Crops of RGB images (loaded by :func:`~deepfake_detectors.load_image`), grouped by crop shape.

        Images at least one crop large share one group; smaller ones are grouped by their own size.

        Returns:
            ``[(indices, crops)]`` with ``crops`` of shape ``[len(indices), K, 3, h, w]`` in [0, 1].
        """
        by_shape: dict[tuple[int, ...], tuple[list[int], list[torch.Tensor]]] = {}
        for index, image in enumerate(images):
            crops = self.crops(image)
            indices, tensors = by_shape.setdefault(tuple(crops.shape), ([], []))
            indices.append(index)
            tensors.append(crops)
        return [(indices, torch.stack(tensors)) for indices, tensors in by_shape.values()]

    @property
    def is_identity_normalisation(self) -> bool:
        """True when ``pixel_values`` are the plain [0, 1] crops (mean 0, std 1)."""
        return all(m == 0.0 for m in self.image_mean) and all(s == 1.0 for s in self.image_std)

    def flat_crops(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Every crop of every image as one ``[sum of K, 3, h, w]`` batch in [0, 1], each crop scored as an image
        of its own (fitting statistics on crops). Images may give different numbers of crops, not crops of
        different sizes (use ``upscale_small`` for images smaller than a crop)."""
        flat = [crops.flatten(0, 1) for _, crops in self.crop_groups(images)]
        if len({tuple(crops.shape[1:]) for crops in flat}) > 1:
            raise ValueError("these images give crops of different shapes (some are smaller than a crop)")
        return torch.cat(flat)

    def normalise_tensor(self, unit: torch.Tensor) -> torch.Tensor:
        """Apply the stored mean / std to a ``[..., 3, H, W]`` tensor in [0, 1]."""
        return normalise_channels(unit, self.image_mean, self.image_std)

    def preprocess(self, images: Union[ImageInput, Sequence[ImageInput]], **kwargs: Any) -> BatchFeature:
        """``BatchFeature(pixel_values=[N, K, 3, h, w])`` for one image or images whose crops have one shape.

        Raises:
            ImageLoadError: for an unreadable input.
            ValueError: for images whose crops differ in shape (score those with
                :class:`~deepfake_detectors.EnsembleDeepfakeDetector`, which groups them).
        """
        if not isinstance(images, (list, tuple)):
            images = [images]
        groups = self.crop_groups([load_image(image) for image in images])
        if len(groups) != 1:
            raise ValueError(
                "these images give crops of different shapes (some are smaller than a crop); process them one "
                "at a time or use EnsembleDeepfakeDetector.predict, which groups them"
            )
        return BatchFeature(data={"pixel_values": self.normalise_tensor(groups[0][1])}, tensor_type=None)
