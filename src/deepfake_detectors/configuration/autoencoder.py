"""Configuration of the residual convolutional autoencoder."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .base import DeepfakeDetectorConfig, checked_crop_settings


class ResidualAutoencoderConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.ResidualAutoencoderModel`.

    The defaults give the published size: 128x128 input, 5 downsampling stages with residual blocks, a 512-d
    latent and a symmetric decoder with a tanh output (about 34.8M parameters).

    Args:
        image_size (`int`, defaults to 128): input side; must be divisible by ``2 ** len(hidden_sizes)``.
        num_channels (`int`, defaults to 3): input channels.
        hidden_sizes (`list[int]`, defaults to `[64, 128, 256, 512, 608]`): channels after each down stage.
        blocks_per_stage (`int`, defaults to 1): residual blocks per stage.
        latent_dim (`int`, defaults to 512): size of the bottleneck vector.
        highpass_weight (`float`, defaults to 0.0): weight of a second error term on the high-pass residual
            (image minus its 3x3 blur), used both in the training loss and in the score. 0 gives the plain
            pixel MSE of the published model; a positive weight makes the error focus on the fine detail where
            generator traces live.
        crops_per_side (`int`, *optional*): ``None`` (the CIFAKE models): the image is resized to ``image_size``.
            A number (the photo model): the model scores ``crops_per_side ** 2`` native-resolution crops of
            ``image_size`` pixels (:class:`~deepfake_detectors.NativeCropImageProcessor`; images smaller than a
            crop are upscaled to it) and combines their reconstruction errors by ``crop_aggregation``.
        crop_aggregation (`str`, defaults to `"mean_logit"`): ``"mean_logit"`` (the mean crop error),
            ``"max_logit"`` or ``"top2_mean_logit"``.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = ResidualAutoencoderConfig(image_size=32, hidden_sizes=[16, 32, 32, 64, 64], latent_dim=64)
        >>> config.image_size
        32
    """

    model_type = "deepfake-residual-autoencoder"

    def __init__(
        self,
        image_size: int = 128,
        num_channels: int = 3,
        hidden_sizes: Sequence[int] = (64, 128, 256, 512, 608),
        blocks_per_stage: int = 1,
        latent_dim: int = 512,
        highpass_weight: float = 0.0,
        crops_per_side: Optional[int] = None,
        crop_aggregation: str = "mean_logit",
        **kwargs: Any,
    ) -> None:
        hidden_sizes = [int(h) for h in hidden_sizes]
        if not hidden_sizes:
            raise ValueError("hidden_sizes needs at least one stage")
        factor = 2 ** len(hidden_sizes)
        if int(image_size) % factor:
            raise ValueError(f"image_size {image_size} must be divisible by 2**{len(hidden_sizes)} = {factor}")
        self.hidden_sizes = hidden_sizes
        self.blocks_per_stage = int(blocks_per_stage)
        self.latent_dim = int(latent_dim)
        if float(highpass_weight) < 0:
            raise ValueError(f"highpass_weight must be >= 0, got {highpass_weight}")
        self.highpass_weight = float(highpass_weight)
        self.crops_per_side, self.crop_aggregation = checked_crop_settings(crops_per_side, crop_aggregation)
        super().__init__(image_size=image_size, num_channels=num_channels, **kwargs)
