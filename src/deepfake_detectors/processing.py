"""Safe image loading and the image processor shared by every detector.

Every entry point (CLI, pipeline, Space, training) goes through :func:`load_image`, so an image is decoded the
same way everywhere: EXIF orientation applied, any mode converted to RGB, the first frame of an animation, a
decompression-bomb limit, and a clear :class:`ImageLoadError` naming the file for anything unreadable.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature

ImageInput = Union[str, os.PathLike, bytes, Image.Image, np.ndarray, torch.Tensor]

#: Largest image (in pixels) we decode; larger files are refused as possible decompression bombs.
MAX_IMAGE_PIXELS = 89_478_485  # PIL's own default warning limit (about 9459 x 9459)

#: Largest decoded image in bytes, conversions included (3 bytes per RGB pixel, 4 more for 16-bit / float modes).
MAX_DECODED_BYTES = 3 * MAX_IMAGE_PIXELS
#: Modes converted to 8 bits through a float32 copy.
HIGH_BIT_MODES = ("I;16", "I;16B", "I;16L", "I", "F")

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".avif"}
#: Image formats Pillow cannot read here: a folder scan names such files as skipped instead of passing over them.
UNSUPPORTED_IMAGE_EXTENSIONS = {
    ".heic": "HEIC", ".heif": "HEIF", ".jxl": "JPEG XL", ".dng": "raw", ".cr2": "raw", ".cr3": "raw",
    ".nef": "raw", ".arw": "raw", ".raf": "raw", ".orf": "raw", ".rw2": "raw",
}


class ImageLoadError(ValueError):
    """An input could not be turned into an RGB image. The message names the file."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"cannot read image {source!r}: {reason}")
        self.source = source
        self.reason = reason


def describe_source(image: Any) -> str:
    """A short human-readable name for an image input, used in messages and result rows."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    if isinstance(image, Image.Image):
        return getattr(image, "filename", "") or f"<PIL.Image {image.size[0]}x{image.size[1]}>"
    if isinstance(image, (np.ndarray, torch.Tensor)):
        return f"<{type(image).__name__} {tuple(image.shape)}>"
    if isinstance(image, bytes):
        return f"<{len(image)} bytes>"
    return f"<{type(image).__name__}>"


def _to_rgb(image: Image.Image) -> Image.Image:
    """First frame, EXIF orientation applied, alpha composited on white, converted to RGB."""
    if getattr(image, "is_animated", False):
        image.seek(0)
    if image.getexif().get(ExifTags.Base.Orientation, 1) != 1:  # most files need no transpose (and no copy)
        image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    if image.mode in HIGH_BIT_MODES:  # 16-bit, 32-bit and float images: stretched to 8 bits
        array = np.asarray(image, dtype=np.float32)
        if not np.isfinite(array).all():
            raise ValueError("the image contains NaN or infinite values")
        low, high = float(array.min()), float(array.max())
        array -= low
        array *= 255.0 / max(high - low, 1e-12 if image.mode == "F" else 1.0)
        image = Image.fromarray(array.astype(np.uint8))
    return image if image.mode == "RGB" else image.convert("RGB")  # no copy of an RGB image (12 MP: ~36 MB)


def _array_to_image(array: np.ndarray, source: str) -> Image.Image:
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.transpose(array, (1, 2, 0))  # CHW -> HWC
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageLoadError(source, f"expected an HxW, HxWx3 or HxWx4 array, got shape {array.shape}")
    if array.dtype != np.uint8:
        if np.issubdtype(array.dtype, np.floating):
            if not np.isfinite(array).all():
                raise ImageLoadError(source, "array contains NaN or infinite values")
            scale = 255.0 if array.max() <= 1.0 else 1.0
            array = np.clip(array * scale, 0, 255)
        elif array.dtype == np.bool_:
            array = array.astype(np.uint8) * 255
        elif array.size and (array.min() < 0 or array.max() > 255):
            raise ImageLoadError(
                source, f"{array.dtype} array has values outside 0-255 ({array.min()} to {array.max()}); scale it first"
            )
        array = array.astype(np.uint8)
    return Image.fromarray(array)


def load_image(image: ImageInput, min_size: Optional[int] = None) -> Image.Image:
    """Load one image from a path, bytes, a PIL image or an array and return it as an RGB PIL image.

    Args:
        image: a file path, raw encoded bytes, a ``PIL.Image``, a ``HxWxC`` uint8/float array or a ``CxHxW``
            tensor (floats in [0, 1]).
        min_size: when given, a JPEG file may be decoded at a reduced size (1/2, 1/4 or 1/8, in the decoder, via
            ``Image.draft``) and any other file reduced by an integer factor after decoding, as long as both sides
            stay at least ``min_size`` pixels: much faster and smaller for detectors that shrink the image
            anyway. ``None`` (the default) decodes every pixel, as detectors on native-resolution pixels need.

    Returns:
        The image in RGB mode, EXIF orientation applied, first frame only.

    Raises:
        ImageLoadError: if the input is missing, not an image, truncated, or too large; the message names it.

    Example:
        >>> load_image("examples/real_01.jpg").mode
        'RGB'
    """
    source = describe_source(image)
    try:
        return _load_rgb(image, source, min_size)
    except ImageLoadError:
        raise
    except Exception as error:  # noqa: BLE001 - a crafted file can make any decoder raise anything
        raise ImageLoadError(source, f"unreadable image ({type(error).__name__}: {error})") from error


def _load_rgb(image: ImageInput, source: str, min_size: Optional[int]) -> Image.Image:
    """:func:`load_image` without the final net that turns any other exception into an ``ImageLoadError``."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    if isinstance(image, np.ndarray):
        return _array_to_image(image, source)
    if isinstance(image, Image.Image):
        try:
            rgb = _to_rgb(image)
        except (OSError, ValueError) as error:
            raise ImageLoadError(source, str(error)) from error
        if "source_size" not in rgb.info:  # an image opened by the caller: record what it was stored as
            rgb.info.update(_stored_facts(image, image.size))
        return rgb
    if isinstance(image, (str, os.PathLike)):
        opener: Any = Path(image)
        try:
            mode = opener.stat().st_mode
        except FileNotFoundError as error:
            raise ImageLoadError(source, "no such file") from error
        except OSError as error:  # a symlink loop, a name too long, no permission on a folder...
            raise ImageLoadError(source, f"cannot stat ({error.strerror or error})") from error
        if stat.S_ISDIR(mode):
            raise ImageLoadError(source, "is a directory")
        if not stat.S_ISREG(mode):  # a FIFO or device would block or never end
            raise ImageLoadError(source, "not a regular file (FIFO, device or socket)")
    elif isinstance(image, bytes):
        opener = io.BytesIO(image)
    else:
        raise ImageLoadError(source, f"unsupported input type {type(image).__name__}")

    try:
        opened = Image.open(opener)  # reads the header only
    except FileNotFoundError as error:
        raise ImageLoadError(source, "no such file") from error
    except IsADirectoryError as error:
        raise ImageLoadError(source, "is a directory") from error
    except PermissionError as error:
        raise ImageLoadError(source, "permission denied") from error
    except Image.DecompressionBombError as error:
        raise ImageLoadError(source, f"image too large ({error})") from error
    except UnidentifiedImageError as error:
        raise ImageLoadError(source, "not a recognised image format") from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageLoadError(source, f"corrupt or truncated image ({error})") from error
    with opened:
        width, height = opened.size
        if width * height > MAX_IMAGE_PIXELS:  # checked before decoding a single pixel
            raise ImageLoadError(source, f"image too large ({width}x{height} pixels, limit {MAX_IMAGE_PIXELS})")
        # High-bit-depth modes pass through a float32 copy on the way to 8-bit RGB: count those bytes too.
        needed = width * height * (3 + (4 if opened.mode in HIGH_BIT_MODES else 0))
        if needed > MAX_DECODED_BYTES:
            raise ImageLoadError(
                source, f"image too large to decode ({width}x{height} {opened.mode} needs {needed / 2**20:.0f} MB, "
                f"limit {MAX_DECODED_BYTES / 2**20:.0f} MB)"
            )
        try:
            if min_size is not None and opened.format == "JPEG" and min(width, height) >= 2 * min_size:
                opened.draft("RGB", (int(min_size), int(min_size)))
            opened.load()
            rgb = _shrink(_to_rgb(opened), min_size)
            rgb.info.update(_stored_facts(opened, (width, height)))
            return rgb
        except (OSError, ValueError, SyntaxError) as error:
            raise ImageLoadError(source, f"corrupt or truncated image ({error})") from error


def _stored_facts(opened: Image.Image, size: tuple[int, int]) -> dict[str, Any]:
    """What the domain check needs to know about the stored file: its size and, for JPEGs, the quality."""
    from .domain import jpeg_quality

    facts: dict[str, Any] = {"source_size": (int(size[0]), int(size[1]))}
    if getattr(opened, "format", None) == "JPEG":
        facts["jpeg_quality"] = jpeg_quality(getattr(opened, "quantization", None))
    return facts


def _shrink(image: Image.Image, min_size: Optional[int]) -> Image.Image:
    """Reduce by the largest integer factor (box filter) that keeps both sides >= ``min_size``; unchanged if None.

    For detectors that resize anyway: the full-size pixels are freed at once, and no full-size float copy is made.
    """
    if min_size is None:
        return image
    factor = min(image.size) // int(min_size)
    return image.reduce(factor) if factor >= 2 else image


def mean_luma(images: Sequence[Image.Image]) -> np.ndarray:
    """Mean luma of each RGB image in [0, 1] (ITU-R 601 weights, as PIL's ``"L"`` mode), ``[len(images)]``.

    Large images are first shrunk by an integer factor (box filter) to about 64 px on the short side, which
    leaves the mean unchanged up to rounding and bounds the cost.

    Example:
        >>> float(mean_luma([Image.new("RGB", (8, 8), (255, 255, 255))])[0])
        1.0
    """
    from PIL import ImageStat

    values = []
    for image in images:
        factor = max(1, min(image.size) // 64)
        small = image.reduce(factor) if factor > 1 else image
        values.append(ImageStat.Stat(small.convert("L")).mean[0] / 255.0)
    return np.asarray(values, dtype=np.float64)


def iter_image_files(
    paths: Iterable[Union[str, os.PathLike]], skipped: Optional[list[tuple[str, str]]] = None
) -> list[str]:
    """Expand files, folders (recursively) and glob patterns into a list of file paths, each file once.

    Folders contribute only regular files with an image extension, walked without following links to folders
    (so a link loop cannot repeat or hang the scan); files named explicitly are kept whatever their extension, so
    that a wrongly named or corrupt file is reported rather than silently skipped. A file reached twice (through
    two arguments, or a link) is listed once.

    Args:
        paths: file paths, directory paths or glob patterns (``**`` matches any number of folders).
        skipped: when given, ``(path, reason)`` is appended for each special file (FIFO, device, socket) left out
            of a folder or glob, and for each image in a format that cannot be read (HEIC, raw; see
            :data:`UNSUPPORTED_IMAGE_EXTENSIONS`) found in a folder.

    Example:
        >>> iter_image_files(["examples/"])[:1]
        ['examples/fake_01.jpg']
    """
    import glob

    found: list[str] = []
    seen: set[str] = set()

    def add(candidate: str, from_scan: bool) -> None:
        real = os.path.realpath(candidate)
        if real in seen:
            return
        if from_scan:
            try:
                mode = os.stat(candidate).st_mode
            except OSError:
                return
            if not stat.S_ISREG(mode):
                if skipped is not None and not stat.S_ISDIR(mode):
                    skipped.append((candidate, "not a regular file"))
                return
        seen.add(real)
        found.append(candidate)

    for raw in paths:
        text = str(raw)
        if Path(text).is_dir():
            for candidate in _walk(text):
                suffix = Path(candidate).suffix.lower()
                if suffix in IMAGE_EXTENSIONS:
                    add(candidate, True)
                elif suffix in UNSUPPORTED_IMAGE_EXTENSIONS and skipped is not None:
                    kind = UNSUPPORTED_IMAGE_EXTENSIONS[suffix]
                    skipped.append((candidate, f"{kind} images are not supported; convert to JPEG or PNG first"))
        elif any(ch in text for ch in "*?["):
            matches = _recursive_glob(text) if "**" in text else sorted(glob.glob(text))
            for candidate in matches:
                add(candidate, True)
        else:
            add(text, False)  # missing files are reported by load_image, not dropped here
    return found


def _walk(folder: str) -> list[str]:
    """Every file under ``folder``, sorted, without following links to folders."""
    files = []
    for root, folders, names in os.walk(folder, followlinks=False):
        folders.sort()
        files.extend(os.path.join(root, name) for name in sorted(names))
    return sorted(files)


def _recursive_glob(pattern: str) -> list[str]:
    """``glob(pattern, recursive=True)`` without following links to folders (``**`` = any number of folders)."""
    import fnmatch
    import re

    parts = Path(pattern).parts
    fixed = next(index for index, part in enumerate(parts) if any(ch in part for ch in "*?["))
    base = str(Path(*parts[:fixed])) if fixed else "."
    regex = ""
    for index, part in enumerate(parts[fixed:]):
        last = index == len(parts) - fixed - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += fnmatch.translate(part).removeprefix("(?s:").removesuffix(")\\Z").replace(".*", "[^/]*")
            regex += "" if last else "/"
    compiled = re.compile(regex + r"\Z")
    return [path for path in _walk(base) if compiled.match(os.path.relpath(path, base).replace(os.sep, "/"))]


def normalise_channels(unit: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(unit - mean) / std`` per channel of a ``[..., 3, H, W]`` tensor, in its own dtype and device."""
    mean_tensor = torch.tensor(mean, dtype=unit.dtype, device=unit.device).view(3, 1, 1)
    std_tensor = torch.tensor(std, dtype=unit.dtype, device=unit.device).view(3, 1, 1)
    return (unit - mean_tensor) / std_tensor


class DeepfakeImageProcessor(BaseImageProcessor):
    r"""Resize and normalise images into the ``pixel_values`` tensor a detector expects.

    It is saved as ``preprocessor_config.json`` beside each model, so a model repo fully describes its input.

    Args:
        size (`int`, defaults to 32): output height and width in pixels.
        resample (`str`, defaults to `"bilinear"`): interpolation for resizing (`"bilinear"`, `"bicubic"`,
            `"nearest"`); antialiased when shrinking.
        image_mean (`list[float]`, defaults to `[0.5, 0.5, 0.5]`): per-channel mean subtracted after scaling to
            [0, 1]. The default maps images to [-1, 1].
        image_std (`list[float]`, defaults to `[0.5, 0.5, 0.5]`): per-channel standard deviation.

    Example:
        >>> processor = DeepfakeImageProcessor(size=32)
        >>> processor(["examples/real_01.jpg"])["pixel_values"].shape
        torch.Size([1, 3, 32, 32])
    """

    model_input_names = ["pixel_values"]

    def __init__(
        self,
        size: int = 32,
        resample: str = "bilinear",
        image_mean: Sequence[float] = (0.5, 0.5, 0.5),
        image_std: Sequence[float] = (0.5, 0.5, 0.5),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(size, dict):  # tolerate the transformers {"height": h, "width": w} form
            size = int(size.get("height", size.get("shortest_edge", 32)))
        if not 1 <= int(size) <= 4096:
            raise ValueError(f"size must be between 1 and 4096 pixels, got {size}")
        if resample not in ("bilinear", "bicubic", "nearest"):
            raise ValueError(f"resample must be 'bilinear', 'bicubic' or 'nearest', got {resample!r}")
        self.size = int(size)
        self.resample = resample
        self.image_mean = [float(v) for v in image_mean]
        self.image_std = [float(v) for v in image_std]

    def to_unit_tensor(self, image: ImageInput) -> torch.Tensor:
        """Load one image and return it as a float ``3 x size x size`` tensor in [0, 1] (not normalised)."""
        return self.resize_to_unit_tensors([load_image(image)])[0]

    def resize_to_unit_tensors(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """``[N, 3, size, size]`` float tensors in [0, 1] from images already loaded as RGB by :func:`load_image`.

        Images of the same size are converted and resized together, one tensor operation per size.
        """
        arrays = [np.asarray(image, dtype=np.uint8) for image in images]
        output = torch.empty((len(arrays), 3, self.size, self.size), dtype=torch.float32)  # never the global default
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for index, array in enumerate(arrays):
            by_shape.setdefault(array.shape, []).append(index)
        for shape, indices in by_shape.items():
            tensor = torch.from_numpy(np.stack([arrays[i] for i in indices])).permute(0, 3, 1, 2).float().div_(255.0)
            if tuple(shape[:2]) != (self.size, self.size):
                mode = self.resample
                tensor = F.interpolate(
                    tensor,
                    size=(self.size, self.size),
                    mode=mode,
                    align_corners=False if mode != "nearest" else None,
                    antialias=mode != "nearest",
                ).clamp_(0.0, 1.0)
            output[indices] = tensor
        return output

    @property
    def is_identity_normalisation(self) -> bool:
        """True when ``pixel_values`` are the plain [0, 1] images (mean 0, std 1)."""
        return all(m == 0.0 for m in self.image_mean) and all(s == 1.0 for s in self.image_std)

    def normalise_tensor(self, unit: torch.Tensor) -> torch.Tensor:
        """Apply the stored mean / std to a ``[..., 3, H, W]`` tensor in [0, 1]."""
        return normalise_channels(unit, self.image_mean, self.image_std)

    def preprocess(self, images: Union[ImageInput, Sequence[ImageInput]], **kwargs: Any) -> BatchFeature:
        """Turn one image or a list of images into ``BatchFeature(pixel_values=[N, 3, size, size])``.

        Raises:
            ImageLoadError: for the first unreadable input (the pipeline catches this per image).
        """
        if not isinstance(images, (list, tuple)):
            images = [images]
        batch = torch.stack([self.normalise_tensor(self.to_unit_tensor(image)) for image in images])
        return BatchFeature(data={"pixel_values": batch}, tensor_type=None)
