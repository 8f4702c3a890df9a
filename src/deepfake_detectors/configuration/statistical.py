"""Configuration of the multi-scale statistics (Mahalanobis) member."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .feature_base import FeatureDetectorConfig


class StatisticalConfig(FeatureDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.StatisticalModel`: Mahalanobis distances of image statistics
    and of JPEG-block coefficients to Gaussians of real images.

    Two scales are modelled. The whole image: Sobel gradient statistics at three scales, high-pass residual
    statistics at two scales and colour moments (``feature_names``). The 8x8 block: the luma DCT coefficients of
    each block on the JPEG grid (``block_feature``), one Gaussian shared by every block, the image scored by its
    ``block_top_k`` least typical blocks. Everything fitted is stored as torch buffers in ``model.safetensors``.

    Args:
        feature_names (`list[str]`, defaults to `["sobel_stats", "highpass_stats", "colour_moments"]`): whole-image
            features from :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): size of the whole-image features; computed from ``feature_names`` when
            not given (83 for the defaults).
        block_feature (`str` or `None`, defaults to `"jpeg_block_dct"`): a registered feature returning
            ``[batch, blocks, dim]`` per-block vectors; `None` models the whole-image features alone.
        block_dim (`int`, *optional*): size of one block vector; computed from ``block_feature`` when not given.
        num_blocks (`int`, *optional*): blocks per image at ``image_size``; computed when not given.
        block_top_k (`int`, defaults to 2): the block distance of an image is the mean of its ``block_top_k``
            largest block distances (1 = the single least typical block; images with fewer blocks use them all).
        whole_image_weight (`float`, defaults to 0.25): weight of the whole-image log-distance against the block
            one (1) in the score, both in standard deviations of their real training values: the whole-image
            statistics carry less evidence than the least typical blocks.
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = StatisticalConfig()
        >>> config.feature_dim, config.num_blocks, config.block_dim
        (83, 16, 64)
    """

    model_type = "deepfake-statistical"

    def __init__(
        self,
        feature_names: Sequence[str] = ("sobel_stats", "highpass_stats", "colour_moments"),
        block_feature: Optional[str] = "jpeg_block_dct",
        block_dim: Optional[int] = None,
        num_blocks: Optional[int] = None,
        block_top_k: int = 2,
        whole_image_weight: float = 0.25,
        **kwargs: Any,
    ) -> None:
        super().__init__(feature_names=feature_names, **kwargs)
        if not float(whole_image_weight) >= 0:
            raise ValueError(f"whole_image_weight must be >= 0, got {whole_image_weight}")
        self.whole_image_weight = float(whole_image_weight)
        if int(block_top_k) < 1:
            raise ValueError(f"block_top_k must be >= 1, got {block_top_k}")
        self.block_top_k = int(block_top_k)
        self.block_feature = block_feature or None
        if self.block_feature is None:
            self.block_dim, self.num_blocks = 0, 0
            return
        if block_dim is None or num_blocks is None:
            num_blocks, block_dim = block_feature_shape(self.block_feature, self.image_size)
        if int(block_dim) < 1 or int(num_blocks) < 1:
            raise ValueError(f"block_dim and num_blocks must be at least 1, got {block_dim} and {num_blocks}")
        self.block_dim, self.num_blocks = int(block_dim), int(num_blocks)


def block_feature_shape(name: str, image_size: int) -> tuple[int, int]:
    """``(blocks, dim)`` of a per-block feature on ``image_size`` images (run on a dummy batch).

    Raises:
        ValueError: for an unknown feature, or one that does not return ``[batch, blocks, dim]``.
    """
    import torch

    from ..features import FEATURES

    if name not in FEATURES:
        raise ValueError(f"unknown block feature {name!r}; known: {sorted(FEATURES)}")
    with torch.no_grad():
        values = FEATURES[name](torch.rand(2, 3, image_size, image_size, generator=torch.Generator().manual_seed(0)))
    if values.ndim != 3:
        raise ValueError(f"block feature {name!r} must return [batch, blocks, dim], got {tuple(values.shape)}")
    return int(values.shape[1]), int(values.shape[2])
