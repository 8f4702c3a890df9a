"""Shared image features: the JPEG-grid block DCT statistics and per-block coefficients (features/statistics.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.fft import dctn

from deepfake_detectors.features import FEATURES
from deepfake_detectors.features.statistics import (
    block_dct,
    jpeg_block_dct,
    jpeg_block_profile,
    jpeg_dct_stats,
    rgb_to_ycbcr,
)


def test_block_dct_is_the_orthonormal_2d_dct_of_each_8x8_block() -> None:
    images = torch.rand(2, 3, 16, 21)  # the 5 columns past the last whole block are ignored
    coefficients = block_dct(images)
    assert coefficients.shape == (2, 3, 4, 8, 8)
    # block 3 = second row, second column
    expected = dctn(images[1, 2, 8:16, 8:16].double().numpy(), norm="ortho")
    np.testing.assert_allclose(coefficients[1, 2, 3].numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match="whole 8x8 block"):
        block_dct(torch.rand(1, 3, 7, 32))


def test_ycbcr_matches_pillow() -> None:
    array = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    ours = rgb_to_ycbcr(torch.from_numpy(array).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0)
    pillow = np.asarray(Image.fromarray(array).convert("YCbCr"), dtype=np.float64)
    np.testing.assert_allclose(ours.numpy(), pillow, atol=1.0)  # Pillow rounds to integers


def test_jpeg_dct_stats_layout_and_response_to_detail() -> None:
    assert FEATURES["jpeg_dct_stats"] is jpeg_dct_stats
    flat = torch.full((1, 3, 32, 32), 0.5)
    rng = np.random.default_rng(1)
    noise = torch.from_numpy(rng.random((1, 3, 32, 32))).float()
    features = jpeg_dct_stats(torch.cat([flat, noise]))
    assert features.shape == (2, 192)  # (mean, std) x (64 luma + 2 x 16 chroma frequencies)
    luma, chroma = features[:, :64], features[:, 64:96].view(2, 2, 16)
    # a flat image has no AC energy: log(0 + 1e-2) everywhere but the DC terms; noise has plenty
    assert torch.allclose(luma[0, 1:], torch.full((63,), math.log(1e-2)), atol=1e-3)
    assert torch.allclose(chroma[0, :, 1:], torch.full((2, 15), math.log(1e-2)), atol=1e-3)
    assert bool((luma[1, 1:] > 1.0).all()) and bool((chroma[1, :, 1:] > 1.0).all())
    # the chroma frequencies are the 4x4 lowest: the luma (0, 1) and (1, 0) terms sit at positions 1 and 8
    expected = block_dct(rgb_to_ycbcr(noise) - 128.0).abs().flatten(3).mean(dim=2)
    assert torch.allclose(chroma[1, 0, 4], torch.log(expected[0, 1, 8] + 1e-2), atol=1e-5)
    # one block only: the spread over blocks is zero, not NaN
    single = jpeg_dct_stats(noise[..., :8, :8])
    assert torch.isfinite(single).all()


def test_jpeg_block_dct_keeps_each_block_and_compresses_the_range() -> None:
    assert FEATURES["jpeg_block_dct"] is jpeg_block_dct
    images = torch.full((1, 3, 32, 32), 0.5)
    images[0, :, 8:16, 16:24] = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
    values = jpeg_block_dct(images)
    assert values.shape == (1, 16, 64)  # a 4x4 grid of blocks, 64 luma coefficients each
    # only block 6 (second row, third column) has detail; every other block is flat (AC coefficients 0)
    changed = values[0, :, 1:].abs().amax(dim=1) > 1e-4
    assert changed.nonzero().flatten().tolist() == [6]
    # sign(c) * log(1 + |c|) of the luma coefficients on the 0-255 scale
    luma = rgb_to_ycbcr(images)[:, :1] - 128.0
    raw = block_dct(luma)[0, 0, 6].flatten()
    assert torch.allclose(values[0, 6], torch.sign(raw) * torch.log1p(raw.abs()), atol=1e-5)


def test_haar_details_are_orthonormal_and_drop_only_the_final_low_pass() -> None:
    from deepfake_detectors.features.filters import haar_details

    images = torch.rand(3, 1, 32, 32, dtype=torch.float64)
    details = haar_details(images, 3)
    assert details.shape == (3, 32 * 32 - 4 * 4)
    low = images
    for _ in range(3):
        low = (low[..., 0::2, 0::2] + low[..., 0::2, 1::2] + low[..., 1::2, 0::2] + low[..., 1::2, 1::2]) / 2
    # orthonormal transform: the energy of the details plus the final low-pass equals the image's energy
    energy = details.pow(2).sum(1) + low.flatten(1).pow(2).sum(1)
    assert torch.allclose(energy, images.flatten(1).pow(2).sum(1))
    with pytest.raises(ValueError, match="divisible"):
        haar_details(torch.rand(1, 1, 36, 36), 3)


def test_jpeg_block_profile_sorts_block_detail_and_ignores_position() -> None:
    assert FEATURES["jpeg_block_profile"] is jpeg_block_profile
    generator = torch.Generator().manual_seed(0)
    flat = torch.full((1, 3, 32, 32), 0.5)
    one_busy_block = flat.clone()
    one_busy_block[..., 8:16, 16:24] = torch.rand(3, 8, 8, generator=generator)
    moved = flat.clone()
    moved[..., 24:32, 0:8] = one_busy_block[..., 8:16, 16:24]
    profile = jpeg_block_profile(torch.cat([flat, one_busy_block, moved]))
    assert profile.shape == (3, 64)
    assert float(profile[0].abs().max()) < 1e-6  # a flat image has no AC energy in any block
    per_statistic = profile[1].view(4, 16)  # 3 energy bands, then the surviving-coefficient fraction
    # 16 blocks at 32 px: the 16 quantiles are the sorted values; only the busy block (the last one) is non-zero.
    assert (per_statistic[:, :15].abs() < 1e-5).all() and (per_statistic[:, 15] > 0).all()
    assert torch.allclose(profile[1], profile[2])  # where the busy block sits does not matter
    # The length does not depend on the image size.
    assert jpeg_block_profile(torch.rand(2, 3, 64, 48, generator=generator)).shape == (2, 64)
