"""The layout of the tiny distilled image autoencoders of ``madebyollin/taesd`` (MIT), used by two parts of the
package: the reconstruction-ratio detector (:mod:`.reconstruction_ratio`) and the aligned training pairs
(:mod:`deepfake_detectors.training.aligned_pairs`).

8x down-sampling in the encoder, three 2x nearest-neighbour up-sampling stages in the decoder; the FLUX.2 pair
(``taef2``) has a 32-channel latent and a global-context branch in its deepest blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import torch
from torch import nn


def _conv(in_channels: int, out_channels: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, **kwargs)


class _SoftClamp(nn.Module):
    """``3 * tanh(x / 3)``: keeps decoder inputs in (-3, 3)."""

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(hidden / 3) * 3


class _Block(nn.Module):
    """Three 3 x 3 convolutions with a skip connection; optionally a global-context branch (``pool``) first."""

    def __init__(self, channels: int, global_context: bool = False) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _conv(channels, channels), nn.ReLU(), _conv(channels, channels), nn.ReLU(), _conv(channels, channels)
        )
        self.skip = nn.Identity()
        self.fuse = nn.ReLU()
        self.pool = None
        if global_context:
            wide = 4 * channels
            self.pool = nn.Sequential(
                nn.Conv2d(channels, wide, 1, bias=False),
                nn.GroupNorm(4, wide),
                nn.ReLU(),
                nn.Conv2d(wide, channels, 1, bias=False),
            )

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            hidden = hidden + self.pool(hidden)
        return self.fuse(self.conv(hidden) + self.skip(hidden))


def tiny_encoder(latent_channels: int, global_context: bool) -> nn.Sequential:
    """The encoder layout: 3 stride-2 stages of 64 channels down to ``latent_channels`` at 1/8 resolution."""
    deep = dict(global_context=global_context)
    layers: list[nn.Module] = [_conv(3, 64), _Block(64)]
    for stage in range(3):
        layers += [_conv(64, 64, stride=2, bias=False)] + [_Block(64, **(deep if stage == 2 else {})) for _ in range(3)]
    return nn.Sequential(*layers, _conv(64, latent_channels))


def tiny_decoder(latent_channels: int, global_context: bool) -> nn.Sequential:
    """The decoder layout: three 2x nearest-neighbour up-sampling stages of 64 channels back to RGB."""
    layers: list[nn.Module] = [_SoftClamp(), _conv(latent_channels, 64), nn.ReLU()]
    for stage in range(3):
        kind = dict(global_context=global_context) if stage == 0 else {}
        layers += [_Block(64, **kind) for _ in range(3)] + [nn.Upsample(scale_factor=2), _conv(64, 64, bias=False)]
    return nn.Sequential(*layers, _Block(64), _conv(64, 3))


def load_tiny_weights(module: nn.Module, path: Union[str, Path]) -> None:
    """Load a ``*_encoder.pth`` / ``*_decoder.pth`` state dict (tensors only: ``torch.load(weights_only=True)``)."""
    module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
