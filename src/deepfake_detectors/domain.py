"""Domain awareness: does an image look like the images a detector was trained on?

Each repo can carry ``domain.safetensors``: a small Gaussian mixture over five cheap statistics of an image, fitted
on the detector's **training real images only**, and the log-likelihood below which an image counts as out of
domain (the 1st percentile on held-out training reals, so about 1% of images like the training ones are flagged).
Every result then carries ``in_domain`` and, when false, a short reason naming the statistic that is furthest from
the training images.

The statistics (:data:`DOMAIN_FEATURES`): the image's size in megapixels (log10, of the file as stored), how far
its aspect ratio is from square, the JPEG quality its quantisation tables imply (1.0 for lossless files), the noise
level (log of the median absolute Laplacian of the luma) and the slope of the luma's radial power spectrum.

Example:
    >>> domain = DomainDescription.load("hub_repos/deepfake-npr-detector/domain.safetensors")  # doctest: +SKIP
    >>> domain.check(image_statistics([load_image("examples/real_01.jpg")]))  # doctest: +SKIP
    (array([False]), ['unlike the training images: size is 0.001 MP (training: 0.3 to 24 MP)'])
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image

DOMAIN_FILE = "domain.safetensors"
DOMAIN_FEATURES = ["log10_megapixels", "abs_log_aspect", "jpeg_quality", "log_noise", "spectral_slope"]
#: Words for each statistic, for the reason given with an out-of-domain verdict.
FEATURE_WORDS = {
    "log10_megapixels": "size",
    "abs_log_aspect": "aspect ratio",
    "jpeg_quality": "JPEG quality",
    "log_noise": "noise level",
    "spectral_slope": "spectral slope",
}
#: Largest centred crop (pixels per side) the noise and spectrum statistics look at.
STATISTICS_CROP = 256

# The IJG standard luminance quantisation table at quality 50 (JPEG Annex K), to estimate a file's quality.
_STANDARD_LUMINANCE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)


def jpeg_quality(quantization: Optional[dict]) -> float:
    """The IJG quality (0-1) whose luminance table best matches a JPEG's first table; 1.0 without tables.

    Example:
        >>> round(jpeg_quality({0: list(_STANDARD_LUMINANCE)}), 2)
        0.5
    """
    if not quantization:
        return 1.0
    table = np.asarray(list(quantization.get(0, next(iter(quantization.values())))), dtype=np.float64)
    scale = 100.0 * table.mean() / _STANDARD_LUMINANCE.mean()  # percent of the quality-50 table
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return float(np.clip(quality, 1.0, 100.0) / 100.0)


def source_facts(image: Image.Image) -> dict:
    """What the loader recorded about the stored file: ``source_size`` and ``jpeg_quality`` (see ``load_image``)."""
    size = image.info.get("source_size", image.size)
    return {"source_size": tuple(size), "jpeg_quality": float(image.info.get("jpeg_quality", 1.0))}


def centre_square(image: Image.Image, grid: int = 1) -> Image.Image:
    """The centred square crop of at most :data:`STATISTICS_CROP` px that the image statistics look at.

    Args:
        image: a loaded image.
        grid: the corner's offsets are rounded down to multiples of this (8: on the JPEG block grid).
    """
    width, height = image.size
    side = min(width, height, STATISTICS_CROP)
    left, top = (width - side) // 2 // grid * grid, (height - side) // 2 // grid * grid
    return image.crop((left, top, left + side, top + side))


def _luma_crop(image: Image.Image) -> np.ndarray:
    """:func:`centre_square` as luma, ``uint8`` (PIL's ``"L"`` mode): what the noise and spectrum statistics see."""
    return np.asarray(centre_square(image).convert("L"), dtype=np.uint8)


def noise_levels(lumas: np.ndarray) -> np.ndarray:
    """Median absolute Laplacian of each integer luma crop, ``[n]`` (0 for crops of 2 pixels or fewer a side).

    Computed in 16-bit integers: exact for 8-bit lumas (the Laplacian lies within +-1020), and half the time of
    floating point.

    Args:
        lumas: ``[n, side, side]`` ``uint8`` crops of one size.

    Example:
        >>> noise_levels(np.zeros((2, 8, 8), dtype=np.uint8)).tolist()
        [0.0, 0.0]
    """
    if lumas.shape[1] <= 2:
        return np.zeros(lumas.shape[0])
    stack = lumas.astype(np.int16)
    laplacian = (4 * stack[:, 1:-1, 1:-1] - stack[:, :-2, 1:-1] - stack[:, 2:, 1:-1] - stack[:, 1:-1, :-2]
                 - stack[:, 1:-1, 2:])
    return np.median(np.abs(laplacian).reshape(len(stack), -1), axis=1).astype(np.float64)


@functools.lru_cache(maxsize=16)
def _spectrum_geometry(side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window, radius bins, column weights, bin counts and centred log frequencies of a ``side`` x ``side``
    spectrum, in the half-plane layout of ``numpy.fft.rfft2`` (cached).

    The radius of each frequency is its distance from zero in whole cycles, as in the centred full spectrum. A
    column of the half plane stands for itself and its mirror image (weight 2), except the zero and Nyquist
    columns, so weighted sums over the half plane equal sums over the full plane.
    """
    window = np.hanning(side)
    rows = np.rint(np.fft.fftfreq(side) * side)  # 0, 1, ..., -2, -1 (whole cycles)
    columns = np.arange(side // 2 + 1)
    radius = np.hypot(rows[:, None], columns[None, :]).astype(int).ravel()
    column_weights = np.full(len(columns), 2.0)
    column_weights[0] = 1.0
    if side % 2 == 0:
        column_weights[-1] = 1.0
    counts = np.maximum(np.bincount(radius, np.tile(column_weights, side)), 1)
    log_frequencies = np.log(np.arange(1, side // 2))
    return np.outer(window, window), radius, column_weights, counts, log_frequencies - log_frequencies.mean()


def spectral_slopes(lumas: np.ndarray) -> np.ndarray:
    """Slope of log power against log frequency over the radial power spectrum of each square luma crop.

    Args:
        lumas: ``[n, side, side]`` crops of one size.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> bool(spectral_slopes(rng.normal(size=(1, 64, 64)))[0] > -0.5)  # white noise: a flat spectrum
        True
    """
    count, side = lumas.shape[0], lumas.shape[1]
    if side < 8:
        return np.zeros(count)
    window, radius, column_weights, counts, centred = _spectrum_geometry(side)
    lumas = lumas.astype(np.float64)
    spectrum = np.fft.rfft2((lumas - lumas.mean(axis=(1, 2), keepdims=True)) * window)
    power = (spectrum.real**2 + spectrum.imag**2) * column_weights
    bins = len(counts)
    offsets = (radius[None, :] + bins * np.arange(count)[:, None]).ravel()  # one bincount for the whole batch
    radial = np.bincount(offsets, power.reshape(count, -1).ravel(), minlength=bins * count).reshape(count, bins)
    log_power = np.log(radial[:, 1 : side // 2] / counts[1 : side // 2] + 1e-8)
    log_power -= log_power.mean(axis=1, keepdims=True)
    return (log_power @ centred) / (centred**2).sum()  # least-squares slopes


def image_statistics(images: Sequence[Image.Image]) -> np.ndarray:
    """The :data:`DOMAIN_FEATURES` of each loaded RGB image, ``[len(images), 5]``.

    Images whose centred crops have the same size are computed together (a batch of small images costs little).

    Args:
        images: images as :func:`~deepfake_detectors.load_image` returns them (their ``info`` says the stored
            size and JPEG quality).
    """
    rows = np.zeros((len(images), len(DOMAIN_FEATURES)), dtype=np.float64)
    groups: dict[int, list[int]] = {}
    lumas = []
    for index, image in enumerate(images):
        facts = source_facts(image)
        width, height = facts["source_size"]
        rows[index, :3] = [
            math.log10(max(width * height, 1) / 1e6),
            abs(math.log(max(width, 1) / max(height, 1))),
            facts["jpeg_quality"],
        ]
        lumas.append(_luma_crop(image))
        groups.setdefault(lumas[-1].shape[0], []).append(index)
    for indices in groups.values():
        stack = np.stack([lumas[index] for index in indices])
        rows[indices, 3] = np.log(noise_levels(stack) + 0.1)
        rows[indices, 4] = spectral_slopes(stack)
    return rows


@dataclass
class DomainDescription:
    """A Gaussian mixture over :func:`image_statistics` of a detector's training reals, and its in-domain limit.

    Args:
        center, scale: standardisation of the statistics (training mean and spread).
        weights, means, precision_cholesky: the mixture on standardised statistics (as scikit-learn fits it).
        limit: log-likelihood below which an image is out of domain.
        low, high: 1st and 99th percentile of each statistic on the training reals (for the reason).
        fitted_on: which images it was fitted on, in words (stated in the card).
        n_images: how many.
        features: the statistics it uses (a subset of :data:`DOMAIN_FEATURES`): a detector on native-resolution
            crops ignores the image's size and aspect, which it never sees.
        command: the command that fitted it (``scripts/fit_domain.py`` records itself; stated in the card).
    """

    center: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    precision_cholesky: np.ndarray
    limit: float
    low: np.ndarray
    high: np.ndarray
    fitted_on: str
    n_images: int
    features: tuple = tuple(DOMAIN_FEATURES)
    command: str = ""

    def _columns(self, statistics: np.ndarray) -> np.ndarray:
        values = np.asarray(statistics, dtype=np.float64).reshape(-1, len(DOMAIN_FEATURES))
        return values[:, [DOMAIN_FEATURES.index(name) for name in self.features]]

    @classmethod
    def fit(
        cls,
        statistics: np.ndarray,
        fitted_on: str,
        components: int = 4,
        held_out: float = 0.2,
        seed: int = 0,
        features: Optional[Sequence[str]] = None,
    ) -> "DomainDescription":
        """Fit on the statistics of training real images; the limit is the 1st percentile of held-out ones.

        Args:
            statistics: :func:`image_statistics` of training reals (never fakes, never test images).
            fitted_on: the data, in words.
            components: mixture components (several sources or sizes need several).
            held_out: fraction kept out of the fit to set the limit.
            seed: seed of the split and the fit.
            features: the statistics to use (default: all of :data:`DOMAIN_FEATURES`).
        """
        from sklearn.mixture import GaussianMixture

        used = tuple(features or DOMAIN_FEATURES)
        unknown = sorted(set(used) - set(DOMAIN_FEATURES))
        if unknown:
            raise ValueError(f"unknown image statistics {unknown}; known: {DOMAIN_FEATURES}")
        values = np.asarray(statistics, dtype=np.float64)[:, [DOMAIN_FEATURES.index(name) for name in used]]
        values = values[np.isfinite(values).all(axis=1)]
        if len(values) < 20:
            raise ValueError(f"a domain description needs at least 20 images, got {len(values)}")
        order = np.random.default_rng(seed).permutation(len(values))
        cut = max(1, int(len(values) * held_out))
        fit_part, limit_part = values[order[cut:]], values[order[:cut]]
        center = fit_part.mean(axis=0)
        scale = np.maximum(fit_part.std(axis=0), 0.05)  # constant statistics (e.g. all lossless) stay usable
        mixture = GaussianMixture(
            n_components=min(components, len(fit_part) // 10 or 1), covariance_type="full", reg_covar=1e-2,
            random_state=seed,
        ).fit((fit_part - center) / scale)
        description = cls(
            center=center, scale=scale, weights=mixture.weights_, means=mixture.means_,
            precision_cholesky=mixture.precisions_cholesky_, limit=0.0,
            low=np.percentile(values, 1, axis=0), high=np.percentile(values, 99, axis=0),
            fitted_on=fitted_on, n_images=int(len(values)), features=used,
        )
        description.limit = float(np.percentile(description._log_density(limit_part), 1))
        return description

    def log_likelihood(self, statistics: np.ndarray) -> np.ndarray:
        """Log-density of each row of :func:`image_statistics` under the mixture (standardised space)."""
        return self._log_density(self._columns(statistics))

    def _log_density(self, used: np.ndarray) -> np.ndarray:
        values = (np.asarray(used, dtype=np.float64) - self.center) / self.scale
        dims = values.shape[1]
        per_component = []
        for weight, mean, cholesky in zip(self.weights, self.means, self.precision_cholesky):
            projected = (values - mean) @ cholesky
            log_det = np.log(np.diag(cholesky)).sum()
            per_component.append(
                np.log(weight) + log_det - 0.5 * (projected**2).sum(axis=1) - 0.5 * dims * math.log(2 * math.pi)
            )
        stacked = np.stack(per_component, axis=1)
        peak = stacked.max(axis=1, keepdims=True)
        return (peak + np.log(np.exp(stacked - peak).sum(axis=1, keepdims=True)))[:, 0]

    def check(self, statistics: np.ndarray) -> tuple[np.ndarray, list[Optional[str]]]:
        """``(in_domain, reasons)``: a bool per image, and for each out-of-domain one why (else ``None``)."""
        inside, reasons, _ = self.assess(statistics)
        return inside, reasons

    def assess(self, statistics: np.ndarray) -> tuple[np.ndarray, list[Optional[str]], np.ndarray]:
        """:meth:`check` and each image's :meth:`log_likelihood`, computed once: ``(in_domain, reasons, log-lik)``."""
        values = self._columns(statistics)
        likelihoods = self._log_density(values)
        inside = likelihoods >= self.limit
        reasons = [None if ok else self.reason(row) for row, ok in zip(values, inside)]
        return inside, reasons, likelihoods

    def reason(self, row: np.ndarray) -> str:
        """The statistic furthest outside the training range, in words."""
        spread = np.maximum(self.high - self.low, 1e-6)
        outside = np.maximum(self.low - row, 0) / spread + np.maximum(row - self.high, 0) / spread
        if not outside.any():
            words = ", ".join(FEATURE_WORDS[name] for name in self.features)
            return f"unlike the training images: an unusual combination of {words}"
        index = int(np.argmax(outside))
        name = self.features[index]
        value, low, high = (self.describe(name, v) for v in (row[index], self.low[index], self.high[index]))
        return f"unlike the training images: {FEATURE_WORDS[name]} is {value} (training: {low} to {high})"

    @staticmethod
    def describe(name: str, value: float) -> str:
        """A statistic in the unit people read it in."""
        if name == "log10_megapixels":
            megapixels = 10**value
            return f"{megapixels:.3f} MP" if megapixels < 0.1 else f"{megapixels:.1f} MP"
        if name == "jpeg_quality":
            return "lossless" if value >= 0.995 else f"{100 * value:.0f}"
        if name == "abs_log_aspect":
            return f"{math.exp(value):.2f}:1"
        if name == "log_noise":
            return f"{math.exp(value) - 0.1:.1f}"
        return f"{value:.2f}"

    def summary(self) -> str:
        """The domain in words, for a card: the training range of each statistic."""
        ranges = ", ".join(
            f"{FEATURE_WORDS[name]} {self.describe(name, low)} to {self.describe(name, high)}"
            for name, low, high in zip(self.features, self.low, self.high)
        )
        return f"fitted on {self.n_images} {self.fitted_on}; 98% of them lie within: {ranges}"

    def save(self, path: Union[str, Path]) -> None:
        """Write to a safetensors file (arrays as tensors, the rest as metadata)."""
        from safetensors.numpy import save_file

        arrays = {key: np.ascontiguousarray(getattr(self, key), dtype=np.float64) for key in
                  ("center", "scale", "weights", "means", "precision_cholesky", "low", "high")}
        arrays["limit"] = np.array([self.limit], dtype=np.float64)
        metadata = {"features": json.dumps(list(self.features)), "fitted_on": self.fitted_on, "n_images": str(self.n_images)}
        if self.command:
            metadata["command"] = self.command
        save_file(arrays, str(path), metadata=metadata)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "DomainDescription":
        """Read a file written by :meth:`save`; refuses other features, bad shapes and non-finite numbers."""
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            arrays = {key: handle.get_tensor(key) for key in handle.keys()}
        features = tuple(json.loads(metadata.get("features", "[]")))
        if not features or not set(features) <= set(DOMAIN_FEATURES):
            raise ValueError(f"{path}: written for other image statistics than {DOMAIN_FEATURES}")
        dims, components = len(features), len(arrays.get("weights", []))
        shapes = {"center": (dims,), "scale": (dims,), "low": (dims,), "high": (dims,), "limit": (1,),
                  "weights": (components,), "means": (components, dims), "precision_cholesky": (components, dims, dims)}
        for key, shape in shapes.items():
            if key not in arrays or arrays[key].shape != shape or not np.isfinite(arrays[key]).all():
                raise ValueError(f"{path}: {key} is missing, of the wrong shape or not finite; the file is damaged")
        return cls(
            **{key: arrays[key] for key in ("center", "scale", "weights", "means", "precision_cholesky", "low", "high")},
            limit=float(arrays["limit"][0]), fitted_on=metadata.get("fitted_on", ""),
            n_images=int(metadata.get("n_images", "0")), features=features,
            command=metadata.get("command", ""),
        )


def statistics_of_sources(
    images: Sequence, min_size: Optional[int] = None, progress: bool = False
) -> np.ndarray:
    """:func:`image_statistics` of many inputs (paths, dataset images...), loaded as a detector loads them.

    Args:
        images: the inputs; unreadable ones are left out.
        min_size: the detector's ``decode_min_size`` (so the statistics are those it will see at inference).
        progress: show a progress bar.
    """
    from tqdm.auto import tqdm

    from .processing import ImageLoadError, load_image

    rows = []
    for image in tqdm(images, desc="image statistics", disable=not progress):
        try:
            rows.append(image_statistics([load_image(image, min_size=min_size)])[0])
        except ImageLoadError:
            continue
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(DOMAIN_FEATURES))
