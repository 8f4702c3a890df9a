"""Explanation images for a verdict: Grad-CAM, ELA map, autoencoder error map, FFT spectrum, EXIF metadata.

Each detector explains itself its own way; :func:`explain_image` asks every member of an
:class:`~deepfake_detectors.EnsembleDeepfakeDetector` for what it can show and adds the image's log-magnitude
spectrum, which any detector can be read against (generators often leave periodic peaks there).
:func:`prediction_figure` lays the image, the verdict and the explanations side by side (``scripts/predict.py``).

Example:
    >>> detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-efficientnet")  # doctest: +SKIP
    >>> images = explain_image(detector, "examples/fake_01.jpg")  # doctest: +SKIP
    >>> sorted(images)  # doctest: +SKIP
    ['FFT spectrum', 'Grad-CAM (efficientnet)']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from PIL import ExifTags, Image

from .processing import ImageInput, load_image
from .registry import REGISTRY

if TYPE_CHECKING:
    from .pipeline import DetectionResult, EnsembleDeepfakeDetector

#: EXIF fields shown to a person weighing the evidence (camera, software, dates).
EXIF_FIELDS: tuple[str, ...] = (
    "Make",
    "Model",
    "Software",
    "DateTime",
    "DateTimeOriginal",
    "DateTimeDigitized",
    "LensModel",
    "Artist",
    "ImageDescription",
)


#: Side of the largest centred crop whose spectrum :func:`fft_spectrum` computes.
FFT_MAX_SIDE = 1024


def fft_spectrum(image: ImageInput) -> Image.Image:
    """The centred log-magnitude Fourier spectrum of the image's luminance (of its centred native-resolution crop
    of at most :data:`FFT_MAX_SIDE` pixels a side), as a greyscale image.

    Args:
        image: a path, PIL image, array or bytes.

    Example:
        >>> fft_spectrum(Image.new("RGB", (16, 16))).size
        (16, 16)
    """
    grey_image = load_image(image).convert("L")
    width, height = grey_image.size
    if max(width, height) > FFT_MAX_SIDE:  # a centred native crop: same frequencies, bounded cost and output size
        left, top = max(0, (width - FFT_MAX_SIDE) // 2), max(0, (height - FFT_MAX_SIDE) // 2)
        grey_image = grey_image.crop((left, top, left + min(width, FFT_MAX_SIDE), top + min(height, FFT_MAX_SIDE)))
    grey = np.asarray(grey_image, dtype=np.float64)
    magnitude = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(grey - grey.mean()))))
    span = magnitude.max() - magnitude.min()
    scaled = (magnitude - magnitude.min()) / span if span > 0 else np.zeros_like(magnitude)
    return Image.fromarray(np.round(scaled * 255).astype(np.uint8))


def explain_image(detector: EnsembleDeepfakeDetector, image: ImageInput) -> dict[str, Image.Image]:
    """Every explanation image the detector's members can give, plus the FFT spectrum.

    Args:
        detector: the loaded detector.
        image: a path, PIL image, array or bytes.

    Returns:
        ``{caption: image}``: ``"Grad-CAM (<member>)"`` overlays for EfficientNet members, ``"ELA map (<member>)"``
        for ELA + CNN members, ``"Evidence map (<member>)"`` for NPR members (each native-resolution
        tile's P(fake)), ``"Autoencoder error (<member>)"`` for autoencoders, and ``"FFT spectrum"``. A
        domain-routed ensemble explains only the member that judges the image.
    """
    pil = load_image(image)
    images: dict[str, Image.Image] = {}
    # A domain-routed ensemble explains only the member that judges the image; any other ensemble every member.
    judges = set(detector.judging_members(pil)) if detector.config.routed else set(detector.members)
    for name, model in detector.members.items():
        if name not in judges:
            continue
        spec = REGISTRY.get(model.config.model_type)
        if spec is None or spec.explanation is None:  # e.g. the feature-based one-class members: no pixel evidence
            continue
        # A detector that tiles the image itself (NPR) is not given the processor, whose crops are for scoring.
        explanation = model.explain(pil, processor=detector.processors[name]) if spec.explain_with_processor \
            else model.explain(pil)
        images[f"{spec.explanation} ({name})"] = explanation.overlay
    images["FFT spectrum"] = fft_spectrum(pil)
    return images


def exif_metadata(image: ImageInput) -> dict[str, str]:
    """The EXIF fields of :data:`EXIF_FIELDS` that the file carries (an empty dict when it has none).

    Args:
        image: a path, bytes or PIL image as opened from its file (decoded arrays carry no metadata).

    Example:
        >>> exif_metadata(Image.new("RGB", (4, 4)))
        {}
    """
    if isinstance(image, Image.Image):
        exif = image.getexif()
    else:
        import io
        from pathlib import Path

        source = io.BytesIO(image) if isinstance(image, (bytes, bytearray)) else Path(image)
        try:
            with Image.open(source) as opened:
                exif = opened.getexif()
        except Exception:  # unreadable files are reported by the detector itself
            return {}
    entries = dict(exif.items())
    entries.update(exif.get_ifd(ExifTags.IFD.Exif).items())
    names = {ExifTags.TAGS.get(tag, str(tag)): value for tag, value in entries.items()}
    return {field: str(names[field]).strip("\x00 ") for field in EXIF_FIELDS if field in names and str(names[field]).strip("\x00 ")}


def prediction_figure(image: ImageInput, result: DetectionResult, explanations: dict[str, Image.Image]) -> Figure:
    """The image, the verdict with its confidence, and the explanation images, side by side.

    Args:
        image: the analysed image.
        result: its :class:`~deepfake_detectors.DetectionResult`.
        explanations: ``{caption: image}`` from :func:`explain_image`.

    Returns:
        A matplotlib figure (``figure.savefig(path)`` writes it).
    """
    panels = [("input", load_image(image)), *explanations.items()]
    figure = Figure(figsize=(3.2 * len(panels), 3.6), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for axis, (caption, picture) in zip(axes, panels):
        axis.imshow(picture, cmap="gray" if picture.mode == "L" else None, interpolation="nearest")
        axis.set_title(caption, fontsize=10)
        axis.axis("off")
    if result.error is not None:
        verdict = f"error: {result.error}"
    else:
        confidence = result.probability if result.is_fake else (1 - result.probability if result.probability is not None else None)
        shown = f", confidence {confidence:.1%}" if confidence is not None else ""
        verdict = f"{result.label.upper()}  (score {result.score:.2f} vs threshold {result.threshold:.2f} [{result.threshold_name}]{shown})"
    figure.suptitle(verdict, fontsize=12, color="firebrick" if result.is_fake else "darkgreen")
    return figure
