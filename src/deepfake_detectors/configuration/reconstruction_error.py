"""Configuration of the reconstruction-error detector: how closely a pretrained autoencoder reproduces an image's features."""

from __future__ import annotations

from typing import Any

from .reconstruction_ratio import ReconstructionRatioConfig


class ReconstructionErrorConfig(ReconstructionRatioConfig):
    r"""Configuration of :class:`~deepfake_detectors.ReconstructionErrorModel`.

    AEROBLADE (Ricker et al., CVPR 2024) as published, with the distance it found best: the error of an image's
    reconstruction through a pretrained image autoencoder, measured on the early features of an ImageNet network
    rather than on pixels (the paper uses LPIPS on VGG's second layer; here the first stages of EfficientNet-Lite0,
    channels normalised to unit length as LPIPS does, with no learned layer weights). The score is minus that error
    (higher = reproduced more faithfully = more likely AI). Nothing is trained.

    Args:
        feature_blocks (`int`, defaults to 2): EfficientNet-Lite0 blocks after its stem whose output is compared
            (2: 24 channels at a quarter of the crop's side).
        feature_network (`str`, defaults to `"EfficientNet-Lite0 (ImageNet)"`): where those weights came from.
        kwargs: the settings of :class:`~deepfake_detectors.ReconstructionRatioConfig` (crop size, crops, the
            autoencoder's layout) and of the base configuration.

    Example:
        >>> config = ReconstructionErrorConfig(image_size=64)
        >>> config.feature_blocks, config.crops_per_side
        (2, 1)
    """

    model_type = "deepfake-reconstruction-error"

    def __init__(
        self, feature_blocks: int = 2, feature_network: str = "EfficientNet-Lite0 (ImageNet)", **kwargs: Any
    ) -> None:
        if not 0 <= int(feature_blocks) <= 3:
            raise ValueError(f"feature_blocks must be between 0 and 3 (Lite0's first stages), got {feature_blocks}")
        self.feature_blocks = int(feature_blocks)
        self.feature_network = str(feature_network)
        super().__init__(**kwargs)
