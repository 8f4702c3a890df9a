"""Configuration of the reconstruction-ratio detector: how easily a pretrained image autoencoder reconstructs an image."""

from __future__ import annotations

from typing import Any, Optional

from .base import DeepfakeDetectorConfig, checked_crop_settings


class ReconstructionRatioConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.ReconstructionRatioModel`.

    The idea is AEROBLADE (Ricker et al., "AEROBLADE: Training-Free Detection of Latent Diffusion Images Using
    Autoencoder Reconstruction Error", CVPR 2024): an image that came out of a latent diffusion decoder is
    reconstructed by an image autoencoder more faithfully than a photograph is. An image's own detail raises its
    reconstruction error whatever made it, so the score divides by the error of reconstructing the reconstruction:
    ``log(e2 / e1)`` with ``e1 = mean |x - AE(x)|`` and ``e2 = mean |AE(x) - AE(AE(x))|`` (higher = reconstructed
    more easily than its detail predicts = more likely AI). Nothing is trained: the autoencoder is a pretrained one.

    Args:
        image_size (`int`, defaults to 256): side of the native-resolution crops (a multiple of 8).
        crops_per_side (`int`, defaults to 1): the processor scores ``crops_per_side ** 2`` crops per image.
        crop_aggregation (`str`, defaults to `"mean_logit"`): how the crops' scores combine.
        latent_channels (`int`, defaults to 32): channels of the autoencoder's latent (32 for the FLUX.2 tiny one).
        global_context (`bool`, defaults to `True`): the FLUX.2 tiny autoencoder's global-context branch.
        autoencoder (`str`, defaults to `"madebyollin/taesd taef2 (FLUX.2)"`): where the weights came from.
        kwargs: passed to :class:`~deepfake_detectors.configuration.base.DeepfakeDetectorConfig`.

    Example:
        >>> config = ReconstructionRatioConfig(image_size=64)
        >>> config.crops_per_side, config.latent_channels
        (1, 32)
    """

    model_type = "deepfake-reconstruction-ratio"

    def __init__(
        self,
        image_size: int = 256,
        crops_per_side: Optional[int] = 1,
        crop_aggregation: str = "mean_logit",
        latent_channels: int = 32,
        global_context: bool = True,
        autoencoder: str = "madebyollin/taesd taef2 (FLUX.2)",
        **kwargs: Any,
    ) -> None:
        if int(image_size) % 8 or int(image_size) < 8:
            raise ValueError(f"image_size must be a positive multiple of 8, got {image_size}")
        if int(latent_channels) < 1:
            raise ValueError(f"latent_channels must be positive, got {latent_channels}")
        if crops_per_side is None:
            raise ValueError("the reconstruction-ratio detector scores native-resolution crops: crops_per_side is required")
        self.crops_per_side, self.crop_aggregation = checked_crop_settings(crops_per_side, crop_aggregation)
        self.latent_channels = int(latent_channels)
        self.global_context = bool(global_context)
        self.autoencoder = str(autoencoder)
        kwargs["num_channels"] = 3
        super().__init__(image_size=image_size, **kwargs)
