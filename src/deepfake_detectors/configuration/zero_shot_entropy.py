"""Configuration of the zero-shot entropy detector: a pixel model of real photographs and its coding surprise."""

from __future__ import annotations

from typing import Any, Optional

from .base import DeepfakeDetectorConfig, checked_crop_settings


class ZeroShotEntropyConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.ZeroShotEntropyModel`.

    The idea is ZED (Cozzolino et al., "Zero-Shot Detection of AI-Generated Images", ECCV 2024): a lossless-coding
    model of *real* images predicts each pixel from its context; on a real photograph the actual coding cost (the
    negative log-likelihood, NLL) matches the cost the model expects (the entropy H of its own predictions), while a
    generated image is coded more cheaply than expected. The score is the surprise ``H - NLL`` (bits per sub-pixel;
    higher = more predictable than a real photograph = more likely fake). No generated image is used in training.

    Here the model is small: at each of ``num_levels`` resolutions (the native crop, then its 2 x 2 average), a
    residual CNN predicts the three other pixels of every 2 x 2 block from the top-left one and its neighbourhood,
    as a discretized logistic distribution per pixel and channel.

    Args:
        image_size (`int`, defaults to 128): side of the native-resolution crops (divisible by ``2 ** num_levels``).
        crops_per_side (`int`, defaults to 2): the processor scores ``crops_per_side ** 2`` crops per image.
        crop_aggregation (`str`, defaults to `"mean_logit"`): how the crops' scores combine (the mean, the max or
            the mean of the top two).
        hidden_size (`int`, defaults to 48): channels of each level's predictor.
        num_blocks (`int`, defaults to 4): residual blocks of each level's predictor.
        num_levels (`int`, defaults to 2): resolutions modelled (1 or 2).
        score_level (`int`, defaults to 1): the level whose surprise is the score (0 = native resolution).
        entropy_positions (`int`, defaults to 1024): the entropy needs the whole predicted distribution, so it is
            estimated on this many positions of each crop (drawn once per crop size, the same for every image);
            the NLL uses every position.
        kwargs: passed to :class:`~deepfake_detectors.configuration.base.DeepfakeDetectorConfig`.

    Example:
        >>> config = ZeroShotEntropyConfig(hidden_size=8, num_blocks=1)
        >>> config.score_level, config.crops_per_side
        (1, 2)
    """

    model_type = "deepfake-zero-shot-entropy"

    def __init__(
        self,
        image_size: int = 128,
        crops_per_side: Optional[int] = 2,
        crop_aggregation: str = "mean_logit",
        hidden_size: int = 48,
        num_blocks: int = 4,
        num_levels: int = 2,
        score_level: int = 1,
        entropy_positions: int = 1024,
        **kwargs: Any,
    ) -> None:
        if int(num_levels) not in (1, 2):
            raise ValueError(f"num_levels must be 1 or 2, got {num_levels}")
        if not 0 <= int(score_level) < int(num_levels):
            raise ValueError(f"score_level must be between 0 and num_levels - 1 = {int(num_levels) - 1}, got {score_level}")
        if int(image_size) % (2 ** int(num_levels)):
            raise ValueError(f"image_size {image_size} must be divisible by 2**num_levels = {2 ** int(num_levels)}")
        if int(hidden_size) < 1 or int(num_blocks) < 0 or int(entropy_positions) < 1:
            raise ValueError("hidden_size and entropy_positions must be positive and num_blocks non-negative")
        if crops_per_side is None:
            raise ValueError("the zero-shot entropy detector scores native-resolution crops: crops_per_side is required")
        self.crops_per_side, self.crop_aggregation = checked_crop_settings(crops_per_side, crop_aggregation)
        self.hidden_size = int(hidden_size)
        self.num_blocks = int(num_blocks)
        self.num_levels = int(num_levels)
        self.score_level = int(score_level)
        self.entropy_positions = int(entropy_positions)
        kwargs["num_channels"] = 3
        super().__init__(image_size=image_size, **kwargs)
