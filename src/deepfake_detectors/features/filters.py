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
