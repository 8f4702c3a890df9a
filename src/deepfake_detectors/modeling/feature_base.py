"""Base classes of the feature-based one-class members: Mahalanobis statistics and scikit-learn estimators.

Both compute named features (see :mod:`deepfake_detectors.features`) from images in [0, 1], standardise them with
statistics stored as persistent buffers, and score them. Fitting happens once, on real training images, with
:meth:`fit`; there is no gradient training.

Persistence is safe by construction: buffers go to ``model.safetensors``; a scikit-learn estimator goes to
``estimator.skops`` and is loaded with :data:`TRUSTED_SKOPS_TYPES` only; any other type in the file is refused.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch

from ..configuration.feature_base import FeatureDetectorConfig, SklearnDetectorConfig
from ..features import FeatureCache
from .base import DeepfakeDetectorPreTrainedModel, DetectorOutput

ESTIMATOR_FILE = "estimator.skops"

#: The only types an ``estimator.skops`` file may contain (beyond the ones skops trusts by default).
TRUSTED_SKOPS_TYPES = [
    "sklearn.svm._classes.OneClassSVM",
    "sklearn.ensemble._iforest.IsolationForest",
    "sklearn.tree._classes.ExtraTreeRegressor",
    "sklearn.tree._tree.Tree",
    "sklearn.neighbors._lof.LocalOutlierFactor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.mixture._gaussian_mixture.GaussianMixture",
    "numpy.random._mt19937.MT19937",
    "numpy.random.mtrand.RandomState",
    "builtins.slice",
]


class FeatureDetectorModel(DeepfakeDetectorPreTrainedModel):
    """A detector on standardised hand-made features; subclasses define :meth:`score_features` and :meth:`fit_features`.

    ``forward(pixel_values)`` takes images in [0, 1] (its image processor uses mean 0, std 1) and an optional
    :class:`~deepfake_detectors.features.FeatureCache` shared with other members of an ensemble.
    """

    config_class = FeatureDetectorConfig

    def __init__(self, config: FeatureDetectorConfig) -> None:
        super().__init__(config)
        self.register_buffer("feature_mean", torch.zeros(config.feature_dim, dtype=torch.float64))
        self.register_buffer("feature_scale", torch.ones(config.feature_dim, dtype=torch.float64))
        # A learnable dummy would make Trainer think this is trainable; these members have no parameters.
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        if module is self:
            self.feature_mean.zero_()
            self.feature_scale.fill_(1.0)

    def features(self, pixel_values: torch.Tensor, feature_cache: Optional[FeatureCache] = None) -> torch.Tensor:
        """Raw (unstandardised) features ``[batch, feature_dim]`` of images in [0, 1]."""
        cache = feature_cache if feature_cache is not None else FeatureCache(pixel_values)
        values = cache.concat(list(self.config.feature_names)).double()
        if values.shape[1] != self.config.feature_dim:
            raise ValueError(f"features have {values.shape[1]} dims, config says {self.config.feature_dim}")
        return values

    def standardise(self, values: torch.Tensor) -> torch.Tensor:
        """Features in standard units of the real training images."""
        return (values - self.feature_mean) / self.feature_scale

    @torch.no_grad()
    def fit(self, real_features: torch.Tensor) -> "FeatureDetectorModel":
        """Fit the standardisation and the detector on features of real training images.

        Args:
            real_features: ``[n, feature_dim]`` raw features (see :meth:`features`).

        Returns:
            self
        """
        values = torch.as_tensor(real_features, dtype=torch.float64)
        if not torch.isfinite(values).all():
            raise ValueError("real features contain NaN or infinite values")
        self.feature_mean.copy_(values.mean(0))
        self.feature_scale.copy_(values.std(0).clamp_min(1e-6))
        self.fit_features(self.standardise(values))
        return self

    def fit_features(self, standardised: torch.Tensor) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def score_features(self, standardised: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        feature_cache: Optional[FeatureCache] = None,
        **kwargs: Any,
    ) -> DetectorOutput:
        """Scores (higher = less like the real training images) of images in [0, 1]."""
        scores = self.score_features(self.standardise(self.features(pixel_values, feature_cache)))
        return DetectorOutput(scores=scores.float())


class MahalanobisDetectorModel(FeatureDetectorModel):
    """Squared Mahalanobis distance to the real-feature Gaussian (mean 0 after standardisation, stored precision)."""

    def __init__(self, config: FeatureDetectorConfig) -> None:
        super().__init__(config)
        self.register_buffer("precision", torch.eye(config.feature_dim, dtype=torch.float64))
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        super()._init_weights(module)
        if module is self:
            self.precision.copy_(torch.eye(self.config.feature_dim, dtype=torch.float64))

    def fit_features(self, standardised: torch.Tensor) -> None:
        """Store the (shrunk) inverse covariance of the standardised real features."""
        from sklearn.covariance import LedoitWolf

        estimator = LedoitWolf().fit(standardised.numpy())
        self.precision.copy_(torch.from_numpy(estimator.precision_))

    def score_features(self, standardised: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bi,ij,bj->b", standardised, self.precision, standardised)


class SklearnDetectorModel(FeatureDetectorModel):
    """A scikit-learn outlier detector on standardised features; ``-score_samples`` is the fake-ness score.

    The fitted estimator is saved beside ``config.json`` as ``estimator.skops`` and loaded with an explicit
    trusted-type list. The scikit-learn version used for fitting is recorded in the config; loading with another
    version warns.
    """

    config_class = SklearnDetectorConfig

    def __init__(self, config: SklearnDetectorConfig) -> None:
        super().__init__(config)
        self.estimator: Any = None

    def build_estimator(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit_features(self, standardised: torch.Tensor) -> None:
        import sklearn

        self.estimator = self.build_estimator().fit(standardised.numpy())
        self.config.sklearn_version = sklearn.__version__

    def score_features(self, standardised: torch.Tensor) -> torch.Tensor:
        if self.estimator is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or load a fitted repo")
        return -torch.from_numpy(np.asarray(self.estimator.score_samples(standardised.numpy()), dtype=np.float64))

    def save_pretrained(self, save_directory: Union[str, os.PathLike], **kwargs: Any) -> None:
        """``save_pretrained`` of transformers plus ``estimator.skops``."""
        import skops.io

        if self.estimator is None:
            raise RuntimeError("cannot save an unfitted scikit-learn member")
        super().save_pretrained(save_directory, **kwargs)
        skops.io.dump(self.estimator, Path(save_directory) / ESTIMATOR_FILE)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Union[str, os.PathLike], *args: Any, **kwargs: Any):
        """``from_pretrained`` of transformers plus the trusted loading of ``estimator.skops``."""
        from transformers.utils import cached_file

        loaded = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        hub_kwargs = {
            key: kwargs[key] for key in ("cache_dir", "revision", "token", "local_files_only") if key in kwargs
        }
        path = cached_file(pretrained_model_name_or_path, ESTIMATOR_FILE, **hub_kwargs)
        model.estimator = load_trusted_estimator(path)
        check_sklearn_version(model.config)
        return loaded


def load_trusted_estimator(path: Union[str, os.PathLike]) -> Any:
    """Load a ``.skops`` file, refusing any type outside :data:`TRUSTED_SKOPS_TYPES`.

    Raises:
        ValueError: naming the untrusted types found in the file.
    """
    import skops.io

    untrusted = [name for name in skops.io.get_untrusted_types(file=path) if name not in TRUSTED_SKOPS_TYPES]
    if untrusted:
        raise ValueError(f"refusing to load {path}: it contains types that are not trusted: {untrusted}")
    return skops.io.load(path, trusted=TRUSTED_SKOPS_TYPES)


def check_sklearn_version(config: SklearnDetectorConfig) -> None:
    """Warn when the estimator was fitted with another scikit-learn version than the one installed."""
    import sklearn

    if config.sklearn_version and config.sklearn_version != sklearn.__version__:
        warnings.warn(
            f"{config.model_type}: estimator fitted with scikit-learn {config.sklearn_version}, "
            f"loading with {sklearn.__version__}; scores may differ",
            UserWarning,
            stacklevel=3,
        )
