"""Small fixed image filters on ``[batch, channels, H, W]`` tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def blur3x3(images: torch.Tensor) -> torch.Tensor:
    """Per-channel 3x3 binomial blur with reflect padding; shape is preserved.

    Example:
        >>> blur3x3(torch.ones(1, 3, 8, 8)).allclose(torch.ones(1, 3, 8, 8))
        True
    """
    kernel_1d = torch.tensor([1.0, 2.0, 1.0], dtype=images.dtype, device=images.device) / 4.0
    kernel = torch.outer(kernel_1d, kernel_1d).expand(images.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(images, (1, 1, 1, 1), mode="reflect"), kernel, groups=images.shape[1])


def highpass_residual(images: torch.Tensor) -> torch.Tensor:
    """The image minus its 3x3 blur: the fine detail where generator and camera traces differ most."""
    return images - blur3x3(images)


def haar_details(images: torch.Tensor, levels: int) -> torch.Tensor:
    """Detail coefficients of the orthonormal 2-D Haar wavelet transform, flattened: ``[batch, C*(H*W - h*w)]``.

    Each level splits the current low-pass image into 2x2 cells and keeps three edge responses per cell
    (horizontal, vertical and diagonal differences, each divided by 2 so the transform is orthonormal); the
    low-pass average (also divided by 2) goes on to the next level. The final low-pass image (``h x w``) is
    dropped, so only edges at ``levels`` scales remain. Sides must be divisible by ``2 ** levels``.

    Example:
        >>> haar_details(torch.rand(2, 1, 32, 32), 3).shape  # 1024 - 4 * 4 coefficients
        torch.Size([2, 1008])
        >>> float(haar_details(torch.ones(1, 1, 8, 8), 3).abs().max())  # a flat image has no edges
        0.0
    """
    height, width = images.shape[-2:]
    if height % 2**levels or width % 2**levels:
        raise ValueError(f"image sides {height}x{width} must be divisible by 2 ** {levels}")
    details, low = [], images
    for _ in range(levels):
        top_left, top_right = low[..., 0::2, 0::2], low[..., 0::2, 1::2]
        bottom_left, bottom_right = low[..., 1::2, 0::2], low[..., 1::2, 1::2]
        details += [
            (top_left - top_right + bottom_left - bottom_right) / 2,  # left-right difference: vertical edges
            (top_left + top_right - bottom_left - bottom_right) / 2,  # top-bottom difference: horizontal edges
            (top_left - top_right - bottom_left + bottom_right) / 2,  # diagonal
        ]
        low = (top_left + top_right + bottom_left + bottom_right) / 2
    return torch.cat([detail.flatten(1) for detail in details], dim=1)
