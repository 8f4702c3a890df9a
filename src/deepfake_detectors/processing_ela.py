"""Error Level Analysis (ELA) image processor for :class:`~deepfake_detectors.ElaCnnForImageClassification`.

ELA re-saves an image as JPEG at a known quality and looks at what changed: regions that were already
compressed at that quality (or that are smooth) change little; regions with fresh high-frequency content, or
with a different compression history, change a lot. The amplified absolute difference is the *ELA map*.

How the processor fits the rest of the package:

- :meth:`ElaImageProcessor.to_unit_tensor` is the shared one: the image loaded with
  :func:`~deepfake_detectors.load_image`, resized to ``size`` and scaled to [0, 1] (``3 x size x size``).
- :meth:`ElaImageProcessor.normalise_tensor` turns such [0, 1] images into the model input: it quantises them to
  8 bits, computes the ELA map (JPEG round trip at ``ela_quality``), and returns the map scaled to [-1, 1],
  after the normalised image when ``include_image=True`` (6 channels) or alone (3 channels).

So :class:`~deepfake_detectors.EnsembleDeepfakeDetector`, which resizes each image once per input size and shares
the [0, 1] tensors between members, can run an ELA member next to members on plain pixels: the ELA is computed
in this processor's ``normalise_tensor`` and never mixed up with another member's input. Training
(:class:`~deepfake_detectors.training.ImageTransform`) calls the processor *after* augmentation, so the ELA map
always describes the augmented image the model sees.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image
from torchvision.io import ImageReadMode, decode_jpeg, encode_jpeg

from .processing import DeepfakeImageProcessor, ImageInput, load_image
from .processing_crops import NativeCropImageProcessor


def jpeg_error_levels_batch(images: torch.Tensor, quality: int, scale: float) -> torch.Tensor:
    """ELA maps of a batch of ``[N, 3, H, W]`` uint8 images, as float32 in [0, 1].

    Computes ``clip(|image - jpeg(image, quality)| / 255 * scale, 0, 1)``. The JPEG round trip runs in
    torchvision's libjpeg bindings, a batch per call with no Python work per image; with the default 4:2:0
    chroma subsampling it writes the same bytes as Pillow's encoder (a test checks this).

    Args:
        images: the RGB images as a uint8 tensor.
        quality: JPEG quality of the re-save (1-100).
        scale: amplification of the difference.

    Example:
        >>> float(jpeg_error_levels_batch(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), 90, 10.0).max())
        0.0
    """
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected a [N, 3, H, W] uint8 tensor, got {images.dtype} {tuple(images.shape)}")
    if images.shape[0] == 0:
        return torch.zeros(images.shape, dtype=torch.float32)
    images = images.cpu().contiguous()
    encoded = encode_jpeg(list(images), quality=int(quality))
    resaved = torch.stack(decode_jpeg(encoded, mode=ImageReadMode.RGB))
    difference = (images.to(torch.int16) - resaved.to(torch.int16)).abs_().to(torch.float32)
    return difference.mul_(float(scale) / 255.0).clamp_(0.0, 1.0)


def jpeg_error_levels(image: np.ndarray, quality: int, scale: float) -> np.ndarray:
    """The ELA map of one ``H x W x 3`` uint8 image, as float32 ``H x W x 3`` in [0, 1].

    Args:
        image: the RGB image as a uint8 array.
        quality: JPEG quality of the re-save (1-100).
        scale: amplification of the difference.

    Example:
        >>> float(jpeg_error_levels(np.zeros((8, 8, 3), np.uint8), 90, 10.0).max())  # flat black survives JPEG
        0.0
    """
    batch = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).unsqueeze(0)  # a writable copy
    return jpeg_error_levels_batch(batch, quality, scale)[0].permute(1, 2, 0).numpy()


class ErrorLevelMixin:
    """The ELA part of an image processor: ``normalise_tensor`` turns [0, 1] images into [image,] ELA map.

    Mixed into :class:`ElaImageProcessor` (resized input) and :class:`ElaCropImageProcessor` (native-resolution
    crops); the class it is mixed with normalises the image channels. Its ``__init__`` checks and stores
    ``ela_quality``, ``ela_scale`` and ``include_image``.
    """

    def __init__(
        self,
        *args: Any,
        ela_quality: int = 90,
        ela_scale: float = 10.0,
        include_image: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not 1 <= int(ela_quality) <= 100:
            raise ValueError(f"ela_quality must be between 1 and 100, got {ela_quality}")
        if not float(ela_scale) > 0:
            raise ValueError(f"ela_scale must be positive, got {ela_scale}")
        self.ela_quality = int(ela_quality)
        self.ela_scale = float(ela_scale)
        self.include_image = bool(include_image)

    @property
    def num_channels(self) -> int:
        """Channels of ``pixel_values``: 6 with the image, 3 for the ELA map alone."""
        return 6 if self.include_image else 3

    @property
    def is_identity_normalisation(self) -> bool:
        """Always ``False``: ``pixel_values`` hold an ELA map, never the plain [0, 1] image."""
        return False

    def ela_tensor(self, unit: torch.Tensor) -> torch.Tensor:
        """ELA maps in [0, 1] of ``[..., 3, H, W]`` images in [0, 1] (quantised to 8 bits first)."""
        flat = unit.detach().reshape(-1, *unit.shape[-3:]).float().cpu()
        images = flat.mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
        ela = jpeg_error_levels_batch(images, self.ela_quality, self.ela_scale)
        return ela.to(dtype=unit.dtype, device=unit.device).reshape(unit.shape)

    def normalise_tensor(self, unit: torch.Tensor) -> torch.Tensor:
        """Model input from ``[..., 3, H, W]`` images in [0, 1]: [normalised image,] ELA map in [-1, 1].

        Returns:
            ``[..., 6, H, W]`` with ``include_image=True``, else ``[..., 3, H, W]``.
        """
        ela = self.ela_tensor(unit) * 2.0 - 1.0
        if not self.include_image:
            return ela
        return torch.cat([super().normalise_tensor(unit), ela], dim=-3)

    def full_resolution_ela_map(self, image: ImageInput) -> Image.Image:
        """The ELA map of the image as loaded (every pixel, no resizing), as an RGB image."""
        array = np.asarray(load_image(image), dtype=np.uint8)
        ela = jpeg_error_levels(array, self.ela_quality, self.ela_scale)
        return Image.fromarray(np.round(ela * 255.0).astype(np.uint8))


class ElaImageProcessor(ErrorLevelMixin, DeepfakeImageProcessor):
    r"""Resize an image and compute its Error Level Analysis map, optionally stacked with the image itself.

    ``pixel_values`` are ``[N, 6, size, size]`` with ``include_image=True`` (channels 0-2: the image normalised
    with ``image_mean`` / ``image_std``, [-1, 1] by default; channels 3-5: the ELA map scaled from [0, 1] to
    [-1, 1]) or ``[N, 3, size, size]`` (the ELA map only). Every setting is saved in ``preprocessor_config.json``.

    Unlike :class:`~deepfake_detectors.DeepfakeImageProcessor`, :meth:`normalise_tensor` is not a plain mean /
    std: it takes [0, 1] images from :meth:`to_unit_tensor` and computes the ELA map (see the module docstring).

    Args:
        size (`int`, defaults to 32): output height and width; the ELA is computed on the resized image.
        resample (`str`, defaults to `"bilinear"`): interpolation for resizing.
        image_mean (`list[float]`, defaults to `[0.5, 0.5, 0.5]`): mean of the image channels (after [0, 1]).
        image_std (`list[float]`, defaults to `[0.5, 0.5, 0.5]`): standard deviation of the image channels.
        ela_quality (`int`, defaults to 90): JPEG quality of the re-save (1-100).
        ela_scale (`float`, defaults to 10.0): amplification of the absolute difference (then clipped to 1).
        include_image (`bool`, defaults to `True`): put the normalised image before the ELA map (6 channels).

    Example:
        >>> processor = ElaImageProcessor(size=32)
        >>> processor(["examples/real_01.jpg"])["pixel_values"].shape
        torch.Size([1, 6, 32, 32])
        >>> processor.ela_map("examples/real_01.jpg").size
        (32, 32)
    """

    def ela_map(self, image: ImageInput, full_resolution: bool = False) -> Image.Image:
        """The amplified JPEG difference as an RGB image (bright = high error level), for explanations.

        Args:
            image: a path, PIL image, array or bytes (read with :func:`~deepfake_detectors.load_image`).
            full_resolution: compute it on the image as loaded instead of resized to ``size`` (what the model
                sees); more legible for large images.
        """
        if full_resolution:
            return self.full_resolution_ela_map(image)
        ela = self.ela_tensor(self.to_unit_tensor(image)).permute(1, 2, 0).numpy()
        return Image.fromarray(np.round(ela * 255.0).astype(np.uint8))


class ElaCropImageProcessor(ErrorLevelMixin, NativeCropImageProcessor):
    r"""Native-resolution crops (never resized) and their Error Level Analysis maps, for photo-sized images.

    ``pixel_values`` are ``[N, K, 6, h, w]``: ``K = crops_per_side ** 2`` crops of ``crop_size`` pixels at the
    image's own resolution (see :class:`~deepfake_detectors.NativeCropImageProcessor`), each with the ELA map of
    the crop itself (re-saved as JPEG at ``ela_quality``). Crop offsets are multiples of 8 (``offset_multiple``),
    so each crop keeps the 8 x 8 JPEG grid of the image it was cut from. Images smaller than a crop are scored
    whole (CIFAKE's 32 px images as the CIFAKE model saw them).

    Args:
        crop_size, crops_per_side, image_mean, image_std, offset_multiple: as for
            :class:`~deepfake_detectors.NativeCropImageProcessor` (``image_mean`` / ``image_std`` default to 0.5,
            giving [-1, 1]; ``offset_multiple`` to 8).
        ela_quality, ela_scale, include_image: as for :class:`ElaImageProcessor`.

    Example:
        >>> processor = ElaCropImageProcessor(crop_size=64, crops_per_side=2)
        >>> processor(["examples/photo_real_01.jpg"])["pixel_values"].shape
        torch.Size([1, 4, 6, 64, 64])
    """

    def __init__(
        self,
        *args: Any,
        image_mean: Sequence[float] = (0.5, 0.5, 0.5),
        image_std: Sequence[float] = (0.5, 0.5, 0.5),
        offset_multiple: int = 8,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, image_mean=image_mean, image_std=image_std, offset_multiple=offset_multiple, **kwargs)

    def ela_map(self, image: ImageInput, full_resolution: bool = True) -> Image.Image:
        """The ELA map of the whole image at native resolution (what the crops see), as an RGB image."""
        return self.full_resolution_ela_map(image)
