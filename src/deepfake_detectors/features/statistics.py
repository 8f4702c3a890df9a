"""Hand-made image statistics used by the feature-based one-class members.

Every function maps a batch ``[batch, 3, H, W]`` of images in [0, 1] to ``[batch, dim]`` features and is
registered in :data:`~deepfake_detectors.features.cache.FEATURES` under its name, so a
:class:`~deepfake_detectors.features.cache.FeatureCache` computes it once per batch for all members.

Low-level traces carry CIFAKE: generated images resized to 32x32 keep more and differently shaped high-frequency
energy than downsampled camera photos, so most features below describe gradients, high-pass residuals and the
power spectrum at several scales, next to colour statistics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .cache import register_feature
from .filters import blur3x3

LUMA = (0.299, 0.587, 0.114)
EPS = 1e-6


def grayscale(images: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images, ``[batch, 1, H, W]``."""
    weights = torch.tensor(LUMA, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


def pyramid(images: torch.Tensor, levels: int = 3) -> list[torch.Tensor]:
    """The image at full, half, quarter... resolution (2x2 average pooling), stopping before 4 pixels."""
    scales = [images]
    for _ in range(levels - 1):
        if min(scales[-1].shape[-2:]) < 8:
            break
        scales.append(F.avg_pool2d(scales[-1], 2))
    return scales


def batch_histogram(index: torch.Tensor, bins: int) -> torch.Tensor:
    """Normalised histograms of integer codes ``[batch, n]`` in ``[0, bins)``, ``[batch, bins]`` (one bincount)."""
    batch, count = index.shape
    offsets = torch.arange(batch, device=index.device).unsqueeze(1) * bins
    counts = torch.bincount((index + offsets).flatten(), minlength=batch * bins)
    return counts.view(batch, bins).float() / count


def _moments(values: torch.Tensor) -> torch.Tensor:
    """Mean, std, skewness and log-kurtosis along the last dimension, ``[..., 4]``."""
    mean = values.mean(dim=-1, keepdim=True)
    centred = values - mean
    var = centred.pow(2).mean(dim=-1, keepdim=True)
    std = var.clamp_min(EPS).sqrt()
    skew = (centred.pow(3).mean(dim=-1, keepdim=True)) / std.pow(3)
    kurt = (centred.pow(4).mean(dim=-1, keepdim=True)) / var.clamp_min(EPS).pow(2)
    return torch.cat([mean, std, skew, torch.log(kurt.clamp_min(EPS))], dim=-1)


def sobel(gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal and vertical Sobel responses of ``[batch, 1, H, W]`` images (reflect padding)."""
    kernel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=gray.dtype, device=gray.device)
    kernels = torch.stack([kernel_x, kernel_x.T]).unsqueeze(1) / 8.0
    response = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="reflect"), kernels)
    return response[:, :1], response[:, 1:]


@register_feature("sobel_stats")
def sobel_stats(images: torch.Tensor) -> torch.Tensor:
    """Gradient-magnitude statistics at 3 scales: moments, 50/90/99th percentiles, orientation coherence."""
    features = []
    for level in pyramid(grayscale(images), 3):
        gx, gy = sobel(level)
        magnitude = (gx.pow(2) + gy.pow(2)).sqrt().flatten(1)
        quantiles = torch.quantile(magnitude, torch.tensor([0.5, 0.9, 0.99], dtype=images.dtype), dim=1).T
        jxx, jyy, jxy = gx.pow(2).flatten(1).mean(1), gy.pow(2).flatten(1).mean(1), (gx * gy).flatten(1).mean(1)
        coherence = ((jxx - jyy).pow(2) + 4 * jxy.pow(2)).sqrt() / (jxx + jyy + EPS)
        features += [_moments(magnitude), torch.log(quantiles + EPS), coherence[:, None]]
    return torch.cat(features, dim=1)


@register_feature("highpass_stats")
def highpass_stats(images: torch.Tensor) -> torch.Tensor:
    """Residual (image minus 3x3 blur) statistics at 2 scales: per-channel moments and cross-channel correlation."""
    features = []
    for level in pyramid(images, 2):
        residual = (level - blur3x3(level)).flatten(2)  # [batch, 3, pixels]
        features.append(_moments(residual).flatten(1))
        features.append(torch.log(residual.abs().mean(dim=2) + EPS))
        normalised = residual - residual.mean(dim=2, keepdim=True)
        normalised = normalised / normalised.pow(2).mean(dim=2, keepdim=True).clamp_min(EPS).sqrt()
        correlation = torch.einsum("bcp,bdp->bcd", normalised, normalised) / normalised.shape[-1]
        features.append(correlation[:, [0, 0, 1], [1, 2, 2]])
    return torch.cat(features, dim=1)


def _radial_index(height: int, width: int, bins: int, device: torch.device) -> torch.Tensor:
    fy = torch.fft.fftfreq(height, device=device).abs()
    fx = torch.fft.rfftfreq(width, device=device)
    radius = (fy[:, None].pow(2) + fx[None, :].pow(2)).sqrt() / (0.5 * 2**0.5)
    return (radius * bins).long().clamp_max(bins - 1)


@register_feature("spectrum_radial")
def spectrum_radial(images: torch.Tensor, bins: int = 12) -> torch.Tensor:
    """Azimuthally averaged log power spectrum of the luma, ``bins`` radial bands, normalised by the mean."""
    gray = grayscale(images)[:, 0]
    gray = gray - gray.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.rfft2(gray, norm="ortho").abs().pow(2)
    index = _radial_index(gray.shape[-2], gray.shape[-1], bins, gray.device).flatten()
    flat = power.flatten(1)
    sums = torch.zeros(flat.shape[0], bins, dtype=flat.dtype, device=flat.device).index_add_(1, index, flat)
    counts = torch.bincount(index, minlength=bins).clamp_min(1).to(flat.dtype)
    profile = torch.log(sums / counts + EPS)
    return profile - profile.mean(dim=1, keepdim=True)


@register_feature("spectrum_bands")
def spectrum_bands(images: torch.Tensor) -> torch.Tensor:
    """Share of spectral energy in low / mid / high radial bands per colour channel, log-ratio form."""
    centred = images - images.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.rfft2(centred, norm="ortho").abs().pow(2).flatten(2)  # [batch, 3, freqs]
    index = _radial_index(images.shape[-2], images.shape[-1], 3, images.device).flatten()
    bands = torch.stack([power[..., index == band].sum(-1) for band in range(3)], dim=-1)  # [batch, 3, 3]
    share = bands / (bands.sum(-1, keepdim=True) + EPS)
    return torch.log(share + EPS).flatten(1)


@register_feature("colour_moments")
def colour_moments(images: torch.Tensor) -> torch.Tensor:
    """Per-channel moments of RGB and of saturation / value, plus the RGB channel correlations."""
    flat = images.flatten(2)
    value = flat.max(dim=1).values
    saturation = (value - flat.min(dim=1).values) / (value + EPS)
    centred = flat - flat.mean(dim=2, keepdim=True)
    scale = centred.pow(2).mean(dim=2, keepdim=True).clamp_min(EPS).sqrt()
    correlation = torch.einsum("bcp,bdp->bcd", centred / scale, centred / scale) / flat.shape[-1]
    return torch.cat(
        [
            _moments(flat).flatten(1),
            _moments(saturation),
            _moments(value),
            correlation[:, [0, 0, 1], [1, 2, 2]],
        ],
        dim=1,
    )


@register_feature("colour_histogram")
def colour_histogram(images: torch.Tensor, bins: int = 8) -> torch.Tensor:
    """Normalised per-channel RGB histograms (``bins`` each), square-rooted (Hellinger form)."""
    index = (images.clamp(0, 1 - EPS) * bins).long().flatten(2)  # [batch, 3, pixels]
    channel = torch.arange(3, device=images.device).view(1, 3, 1) * bins
    return batch_histogram((index + channel).flatten(1), 3 * bins).mul(3).sqrt()


def _lbp_codes(gray: torch.Tensor) -> torch.Tensor:
    """Rotation-invariant uniform LBP (8 neighbours, radius 1) codes 0..9 of ``[batch, 1, H, W]`` images."""
    padded = F.pad(gray, (1, 1, 1, 1), mode="reflect")
    height, width = gray.shape[-2:]
    offsets = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    bits = torch.stack(
        [(padded[..., 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] >= gray) for dy, dx in offsets], dim=-1
    ).to(torch.int64)
    transitions = (bits != torch.roll(bits, 1, dims=-1)).sum(-1)
    ones = bits.sum(-1)
    return torch.where(transitions <= 2, ones, torch.full_like(ones, 9))


@register_feature("lbp_histogram")
def lbp_histogram(images: torch.Tensor) -> torch.Tensor:
    """Rotation-invariant uniform LBP histograms (10 bins) of the luma at 2 scales."""
    features = []
    for level in pyramid(grayscale(images), 2):
        codes = _lbp_codes(level).flatten(1)
        features.append(batch_histogram(codes, 10).sqrt())
    return torch.cat(features, dim=1)


@register_feature("glcm_stats")
def glcm_stats(images: torch.Tensor, levels: int = 8) -> torch.Tensor:
    """Grey-level co-occurrence statistics (contrast, homogeneity, energy, correlation) for 4 offsets."""
    gray = (grayscale(images)[:, 0].clamp(0, 1 - EPS) * levels).long()
    grid_i = torch.arange(levels, dtype=images.dtype, device=images.device)
    features = []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (0, 2)):
        first = gray[:, : gray.shape[1] - dy, : gray.shape[2] - dx].flatten(1)
        second = gray[:, dy:, dx:].flatten(1)
        glcm = batch_histogram(first * levels + second, levels * levels).view(-1, levels, levels)
        glcm = 0.5 * (glcm + glcm.transpose(1, 2))
        i, j = grid_i.view(1, -1, 1), grid_i.view(1, 1, -1)
        contrast = (glcm * (i - j).pow(2)).sum((1, 2))
        homogeneity = (glcm / (1 + (i - j).abs())).sum((1, 2))
        energy = glcm.pow(2).sum((1, 2))
        mean_i = (glcm * i).sum((1, 2), keepdim=True)
        var_i = (glcm * (i - mean_i).pow(2)).sum((1, 2))
        covariance = (glcm * (i - mean_i) * (j - mean_i)).sum((1, 2))
        correlation = covariance / (var_i + EPS)
        features.append(torch.stack([torch.log(contrast + EPS), homogeneity, torch.log(energy), correlation], 1))
    return torch.cat(features, dim=1)


@register_feature("patch_stats")
def patch_stats(images: torch.Tensor) -> torch.Tensor:
    """Multi-scale patch statistics: per-patch contrast and residual energy over 4x4 and 2x2 grids, summarised.

    Describes how detail is spread over the image (uniform vs concentrated), which differs between camera
    photos and generated images.
    """
    gray = grayscale(images)
    residual = (gray - blur3x3(gray)).abs()
    features = []
    for grid in (4, 2):
        contrast = F.adaptive_avg_pool2d(gray.pow(2), grid) - F.adaptive_avg_pool2d(gray, grid).pow(2)
        contrast = torch.log(contrast.clamp_min(0).flatten(1) + 1e-4)
        detail = torch.log(F.adaptive_avg_pool2d(residual, grid).flatten(1) + 1e-4)
        for values in (contrast, detail):
            sorted_values = values.sort(dim=1).values
            features.append(
                torch.stack(
                    [values.mean(1), values.std(1), sorted_values[:, -1] - sorted_values[:, 0]], dim=1
                )
            )
        features.append((detail - contrast).mean(1, keepdim=True))
    return torch.cat(features, dim=1)


def rgb_to_ycbcr(images: torch.Tensor) -> torch.Tensor:
    """JPEG's (JFIF) YCbCr of RGB images in [0, 1], each channel in [0, 255], ``[batch, 3, H, W]``."""
    weights = torch.tensor(
        [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
        dtype=images.dtype,
        device=images.device,
    )
    offset = torch.tensor([0.0, 128.0, 128.0], dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return torch.einsum("dc,bchw->bdhw", weights * 255.0, images) + offset


def dct_matrix(size: int = 8, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """The orthonormal DCT-II matrix ``D`` (``D @ block @ D.T`` is a block's 2-D DCT, as in JPEG)."""
    n = torch.arange(size, dtype=torch.float64)
    matrix = torch.cos(torch.pi * (2 * n[None, :] + 1) * n[:, None] / (2 * size)) * (2.0 / size) ** 0.5
    matrix[0] /= 2**0.5
    return matrix.to(dtype=dtype, device=device)


def block_dct(channels: torch.Tensor, size: int = 8) -> torch.Tensor:
    """2-D DCT of the non-overlapping ``size`` x ``size`` blocks on the grid starting at the top-left pixel.

    Args:
        channels: ``[batch, C, H, W]``; rows and columns past the last whole block are ignored.

    Returns:
        ``[batch, C, blocks, size, size]`` coefficients.
    """
    batch, count, height, width = channels.shape
    if height < size or width < size:
        raise ValueError(f"images of {height}x{width} have no whole {size}x{size} block")
    blocks = channels.unfold(2, size, size).unfold(3, size, size).reshape(batch, count, -1, size, size)
    matrix = dct_matrix(size, channels.dtype, channels.device)
    return matrix @ blocks @ matrix.T


#: Chroma frequencies kept by :func:`jpeg_dct_stats`: the 4x4 lowest, the ones JPEG's chroma tables do not zero.
CHROMA_FREQUENCIES = tuple(row * 8 + column for row in range(4) for column in range(4))


@register_feature("jpeg_dct_stats")
def jpeg_dct_stats(images: torch.Tensor) -> torch.Tensor:
    """Per-frequency statistics of the 8x8 block DCT on the JPEG grid: 192 values.

    For each frequency of the luma (all 64) and of Cb and Cr (the 16 lowest, see :data:`CHROMA_FREQUENCIES`):
    the log of the mean and of the standard deviation of the coefficients' magnitude over the image's blocks.
    On JPEG files this is the domain where the encoder quantised the image, so it shows how the content's
    detail survived quantisation; camera photos and generated images differ there. On CIFAKE validation a
    real-image Gaussian on these features separates real from fake better than the Sobel, residual and colour
    statistics together, and worse when the grid is moved by 4 pixels (the measured AUROCs are in
    ``docs/FEATURES.md``, written by ``scripts/feature_study.py``).
    """
    magnitude = block_dct(rgb_to_ycbcr(images) - 128.0).abs().flatten(3)  # [batch, 3, blocks, 64]
    chroma = list(CHROMA_FREQUENCIES)
    magnitude = torch.cat([magnitude[:, 0], magnitude[:, 1, :, chroma], magnitude[:, 2, :, chroma]], dim=2)
    mean = torch.log(magnitude.mean(dim=1) + 1e-2)
    spread = torch.log(magnitude.std(dim=1, unbiased=magnitude.shape[1] > 1) + 1e-2)
    return torch.cat([mean, spread], dim=1)


def luma_block_dct(images: torch.Tensor) -> torch.Tensor:
    """The DCT coefficients of the luma (0-255 scale, level-shifted as in JPEG) of every 8x8 block on the JPEG
    grid, ``[batch, blocks, 64]``: the step :func:`jpeg_block_dct` and :func:`jpeg_block_profile` share."""
    return block_dct(rgb_to_ycbcr(images)[:, :1] - 128.0)[:, 0].flatten(2)


@register_feature("jpeg_block_dct")
def jpeg_block_dct(images: torch.Tensor) -> torch.Tensor:
    """The luma DCT coefficients of every 8x8 block on the JPEG grid, ``[batch, blocks, 64]``.

    Each coefficient ``c`` becomes ``sign(c) * log(1 + |c|)`` (on the 0-255 scale), so the large low frequencies
    do not swamp the small high ones. Unlike :func:`jpeg_dct_stats`, which pools each frequency over the
    image, this keeps every block: a Gaussian of real blocks then finds the single block whose coefficients
    fit real photos worst (see :class:`~deepfake_detectors.StatisticalModel`).

    Example:
        >>> jpeg_block_dct(torch.rand(2, 3, 32, 32)).shape
        torch.Size([2, 16, 64])
    """
    coefficients = luma_block_dct(images)
    return torch.sign(coefficients) * torch.log1p(coefficients.abs())


#: Frequency bands of the 8x8 block DCT used by :func:`jpeg_block_profile`, by ``u + v`` (row + column index).
BLOCK_PROFILE_BANDS = ((1, 3), (4, 7), (8, 14))
#: Quantiles over an image's blocks kept per block statistic (at 32 px, with 16 blocks, the sorted values).
BLOCK_PROFILE_QUANTILES = 16


@register_feature("jpeg_block_profile")
def jpeg_block_profile(images: torch.Tensor) -> torch.Tensor:
    """How the detail of the 8x8 luma blocks on the JPEG grid is spread over the image: 64 values.

    For every block: ``log(1 + energy)`` of its DCT coefficients (0-255 scale) in three frequency bands (``u + v``
    in 1-3, 4-7 and 8-14, :data:`BLOCK_PROFILE_BANDS`) and the fraction of its 63 AC coefficients larger than 1 in
    magnitude (on JPEG files, those that survived quantisation). Each of the four is summarised by 16 evenly
    spaced quantiles over the image's blocks (at 32 px, with 16 blocks, exactly the sorted values), so the
    length does not depend on the image size and a block's position does not matter. Unlike
    :func:`jpeg_dct_stats`, which averages each frequency over the blocks, this keeps how unevenly the blocks
    carry detail.

    Example:
        >>> jpeg_block_profile(torch.rand(2, 3, 32, 32)).shape
        torch.Size([2, 64])
        >>> bool(jpeg_block_profile(torch.full((1, 3, 16, 16), 0.5)).abs().max() < 1e-6)  # flat: no AC energy
        True
    """
    coefficients = luma_block_dct(images.float())
    order = torch.arange(8, device=images.device)
    frequency = (order[:, None] + order[None, :]).flatten()
    energy = coefficients.pow(2)
    per_block = [
        torch.log1p(energy[:, :, (frequency >= low) & (frequency <= high)].sum(2)) for low, high in BLOCK_PROFILE_BANDS
    ]
    per_block.append((coefficients[:, :, 1:].abs() > 1.0).float().mean(2))
    levels = torch.linspace(0.0, 1.0, BLOCK_PROFILE_QUANTILES, device=images.device, dtype=images.dtype)
    return torch.cat([torch.quantile(values, levels.to(values.dtype), dim=1).T for values in per_block], dim=1)
