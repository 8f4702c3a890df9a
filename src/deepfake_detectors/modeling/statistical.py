"""Multi-scale statistics: Mahalanobis distances of whole-image statistics and of JPEG-block coefficients."""

from __future__ import annotations

from typing import Optional

import torch

from ..configuration.statistical import StatisticalConfig
from ..features import FeatureCache
from .feature_base import MahalanobisDetectorModel

#: Added to squared distances before their logarithm.
DISTANCE_FLOOR = 1e-6


class StatisticalModel(MahalanobisDetectorModel):
    """Real-image Gaussians at two scales: the whole image and its 8x8 JPEG blocks.

    - Whole image: the squared Mahalanobis distance of the standardised Sobel, high-pass residual and colour
      statistics (several scales) to their real-image Gaussian (Ledoit-Wolf precision).
    - Blocks (when ``config.block_feature`` is set): one Gaussian of the per-block vectors of real images, shared
      by all block positions; the image's block distance is the mean distance of its ``config.block_top_k`` least
      typical blocks (the largest).

    The score is ``config.whole_image_weight`` times the whole-image log-distance plus the block log-distance,
    each in standard deviations of its values on the real training images; without a block feature it is the
    plain squared distance.
    Every fitted statistic is a persistent float64 buffer in ``model.safetensors``; nothing else is persisted.

    Args:
        config: a :class:`StatisticalConfig`.

    Example:
        >>> model = StatisticalModel(StatisticalConfig())
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = StatisticalConfig
    base_model_prefix = "statistical"

    def register_fitted_buffers(self, config: StatisticalConfig) -> None:
        super().register_fitted_buffers(config)
        if config.block_feature is None:
            return
        dim = config.block_dim
        self.register_buffer("block_mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("block_scale", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("block_precision", torch.eye(dim, dtype=torch.float64))
        # mean and std of log(distance) on the real training images: [whole image, block]
        self.register_buffer("log_distance_mean", torch.zeros(2, dtype=torch.float64))
        self.register_buffer("log_distance_std", torch.ones(2, dtype=torch.float64))

    def _init_weights(self, module: torch.nn.Module) -> None:
        super()._init_weights(module)
        if module is self and self.config.block_feature is not None:
            self.block_mean.zero_()
            self.block_scale.fill_(1.0)
            self.block_precision.copy_(torch.eye(self.config.block_dim, dtype=torch.float64))
            self.log_distance_mean.zero_()
            self.log_distance_std.fill_(1.0)

    @property
    def input_dim(self) -> int:
        """Whole-image features, then every block's vector flattened: ``feature_dim + num_blocks * block_dim``."""
        return self.config.feature_dim + self.config.num_blocks * self.config.block_dim

    def features(self, pixel_values: torch.Tensor, feature_cache: Optional[FeatureCache] = None) -> torch.Tensor:
        """Raw features ``[batch, input_dim]``: the whole-image statistics, then the flattened block vectors."""
        cache = self.feature_cache_for(pixel_values, feature_cache)
        whole = super().features(pixel_values, cache)
        if self.config.block_feature is None:
            return whole
        blocks = cache.get(self.config.block_feature).double()
        expected = (self.config.num_blocks, self.config.block_dim)
        if tuple(blocks.shape[1:]) != expected:
            raise ValueError(
                f"{self.config.block_feature} gives blocks of shape {tuple(blocks.shape[1:])}, config says "
                f"{expected} (resize images to {self.config.image_size} px with the model's image processor)"
            )
        return torch.cat([whole, blocks.flatten(1)], dim=1)

    def split(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(whole, blocks)`` of :meth:`features` output: ``[batch, feature_dim]``, ``[batch, blocks, dim]``."""
        whole = values[:, : self.config.feature_dim]
        blocks = values[:, self.config.feature_dim :].reshape(-1, self.config.num_blocks, self.config.block_dim)
        return whole, blocks

    def block_distances(self, blocks: torch.Tensor) -> torch.Tensor:
        """Squared Mahalanobis distance of every block to the real-block Gaussian, ``[batch, blocks]``."""
        standardised = (blocks.double() - self.block_mean) / self.block_scale
        return torch.einsum("bki,ij,bkj->bk", standardised, self.block_precision, standardised)

    def distances(self, values: torch.Tensor) -> torch.Tensor:
        """``[batch, 2]``: the whole-image squared distance and the mean of the ``block_top_k`` largest block ones."""
        whole, blocks = self.split(values.to(torch.float64))
        per_block = self.block_distances(blocks)
        worst_blocks = per_block.topk(min(self.config.block_top_k, per_block.shape[1]), dim=1).values.mean(1)
        return torch.stack([self.score_features(self.standardise(whole)), worst_blocks], 1)

    def fit_standardised(self, values: torch.Tensor) -> None:
        """Fit both Gaussians, and the spread of their log-distances, on checked features of real training images.

        Called by :meth:`fit`; without a block feature only the whole-image Gaussian is fitted.

        Args:
            values: ``[n, input_dim]`` raw features of real training images, checked by ``check_real_features``.
        """
        if self.config.block_feature is None:
            super().fit_standardised(values)
            return
        from sklearn.covariance import LedoitWolf

        whole, blocks = self.split(values)
        super().fit_standardised(whole)
        flat = blocks.reshape(-1, self.config.block_dim)
        self.block_mean.copy_(flat.mean(0))
        self.block_scale.copy_(flat.std(0).clamp_min(1e-6))
        standardised = ((flat - self.block_mean) / self.block_scale).cpu().numpy()
        self.block_precision.copy_(torch.from_numpy(LedoitWolf().fit(standardised).precision_))
        log_distances = torch.log(self.distances(values) + DISTANCE_FLOOR)
        self.log_distance_mean.copy_(log_distances.mean(0))
        self.log_distance_std.copy_(log_distances.std(0).clamp_min(1e-6))

    def scores_from_features(self, values: torch.Tensor) -> torch.Tensor:
        """Scores of raw features: the weighted sum of the standardised log-distances (whole image, worst blocks).

        Without a block feature, the whole-image distance alone (:meth:`FeatureDetectorModel.scores_from_features`).

        Args:
            values: raw features from :meth:`features`.
        """
        if self.config.block_feature is None:
            return super().scores_from_features(values)
        log_distances = torch.log(self.distances(values) + DISTANCE_FLOOR)
        standardised = (log_distances - self.log_distance_mean) / self.log_distance_std
        return self.config.whole_image_weight * standardised[:, 0] + standardised[:, 1]
