"""Input complexity: how many bits a lossless compressor needs per pixel value of an image.

One-class scores (reconstruction error, distance to a centre) grow with how busy an image is, whatever its
origin: a detailed real photo reconstructs worse than a smooth fake. Serrà et al. (ICLR 2020, "Input complexity
and out-of-distribution detection with likelihood-based generative models") correct for this by subtracting a
compressor's code length from the score. :class:`ComplexityAdjustment` does the same with a slope fitted on
real images only, so no fake label is ever used.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image

#: Compressors known to :func:`compressed_bits_per_dimension`.
COMPRESSORS = ("png",)


def compressed_bits_per_dimension(unit_images: torch.Tensor, compressor: str = "png") -> torch.Tensor:
    """Lossless code length of each image in bits per pixel value (0 for a flat image, about 8 for noise).

    Args:
        unit_images: ``[batch, 3, H, W]`` float images in [0, 1]; quantised to 8 bits before compression.
        compressor: ``"png"`` (zlib level 6, the PIL default).

    Returns:
        ``[batch]`` float tensor on the input's device.

    Example:
        >>> flat = torch.zeros(1, 3, 32, 32)
        >>> bool(compressed_bits_per_dimension(flat)[0] < 1.0)
        True
    """
    if compressor not in COMPRESSORS:
        raise ValueError(f"unknown compressor {compressor!r}; available: {', '.join(COMPRESSORS)}")
    if unit_images.ndim != 4 or unit_images.shape[1] != 3:
        raise ValueError(f"expected a [batch, 3, H, W] tensor, got shape {tuple(unit_images.shape)}")
    quantised = (unit_images.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8)
    arrays = quantised.permute(0, 2, 3, 1).cpu().numpy()
    bits = []
    for array in arrays:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG", compress_level=6)
        bits.append(8.0 * buffer.getbuffer().nbytes / array.size)
    return torch.tensor(bits, dtype=torch.float32, device=unit_images.device)


@dataclass
class ComplexityAdjustment:
    """A score corrected for input complexity: ``f(score) - slope * log(bits per dimension)``.

    ``f`` is ``log`` for positive scores (errors, distances) and the identity otherwise. The slope is the
    least-squares slope of ``f(score)`` on ``log(bits)`` over real images, so on real data the adjusted score no
    longer depends on complexity; a fake that is anomalous *for its complexity* still stands out.

    Args:
        slope: fitted slope.
        log_score: whether ``f`` is ``log``.
        compressor: the compressor behind the bits (see :data:`COMPRESSORS`).
        input_mean: the per-channel mean the model's ``pixel_values`` were normalised with.
        input_std: the per-channel standard deviation likewise (to recover [0, 1] images).
        n_real: how many real images the slope was fitted on.

    Example:
        >>> real_scores = np.array([1.0, 2.0, 4.0]); bits = np.array([2.0, 4.0, 8.0])
        >>> adjustment = ComplexityAdjustment.fit(real_scores, bits)
        >>> round(adjustment.slope, 3)
        1.0
    """

    slope: float
    log_score: bool = True
    compressor: str = "png"
    input_mean: Sequence[float] = (0.5, 0.5, 0.5)
    input_std: Sequence[float] = (0.5, 0.5, 0.5)
    n_real: int = 0

    @classmethod
    def fit(
        cls,
        real_scores: np.ndarray,
        real_bits: np.ndarray,
        log_score: Optional[bool] = None,
        compressor: str = "png",
        input_mean: Sequence[float] = (0.5, 0.5, 0.5),
        input_std: Sequence[float] = (0.5, 0.5, 0.5),
    ) -> "ComplexityAdjustment":
        """Fit the slope on real images' raw scores and bits per dimension.

        Args:
            real_scores: raw scores of real images (never fakes).
            real_bits: their :func:`compressed_bits_per_dimension`.
            log_score: take the log of the scores; by default when every score is positive.
            compressor, input_mean, input_std: recorded for :meth:`apply`.
        """
        scores = np.asarray(real_scores, dtype=np.float64).ravel()
        bits = np.asarray(real_bits, dtype=np.float64).ravel()
        if scores.shape != bits.shape:
            raise ValueError(f"{scores.size} scores but {bits.size} complexity values")
        keep = np.isfinite(scores) & np.isfinite(bits) & (bits > 0)
        if log_score is None:
            log_score = bool(np.all(scores[keep] > 0))
        if log_score:
            keep &= scores > 0
        if keep.sum() < 3:
            raise ValueError("fitting a complexity adjustment needs at least three usable real scores")
        x = np.log(bits[keep])
        y = np.log(scores[keep]) if log_score else scores[keep]
        if np.ptp(x) == 0:
            raise ValueError("the real images all have the same complexity; the slope is undefined")
        slope = float(np.polyfit(x, y, 1)[0])
        return cls(
            slope=slope,
            log_score=bool(log_score),
            compressor=compressor,
            input_mean=[float(v) for v in input_mean],
            input_std=[float(v) for v in input_std],
            n_real=int(keep.sum()),
        )

    def bits(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Bits per dimension of a batch of model inputs (normalised with ``input_mean`` / ``input_std``)."""
        mean = torch.tensor(self.input_mean, dtype=pixel_values.dtype, device=pixel_values.device).view(1, 3, 1, 1)
        std = torch.tensor(self.input_std, dtype=pixel_values.dtype, device=pixel_values.device).view(1, 3, 1, 1)
        return compressed_bits_per_dimension(pixel_values * std + mean, self.compressor)

    def apply(self, scores: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
        """Adjusted scores from raw scores and the inputs' bits per dimension."""
        tiny = torch.finfo(torch.float32).tiny
        base = torch.log(scores.clamp_min(tiny)) if self.log_score else scores
        return base - self.slope * torch.log(bits.clamp_min(1e-3))

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (stored as ``complexity_adjustment`` in a member's ``config.json``)."""
        data = asdict(self)
        data["input_mean"], data["input_std"] = list(self.input_mean), list(self.input_std)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ComplexityAdjustment":
        """Inverse of :meth:`to_dict`."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        adjustment = cls(**known)
        if not math.isfinite(adjustment.slope):
            raise ValueError(f"complexity adjustment slope must be finite, got {adjustment.slope}")
        return adjustment
