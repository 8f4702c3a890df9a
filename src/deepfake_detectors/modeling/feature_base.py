"""Base classes of the feature-based one-class members: Mahalanobis statistics and scikit-learn estimators.

Both compute named features (see :mod:`deepfake_detectors.features`) from images in [0, 1], standardise them with
statistics stored as persistent buffers, and score them. Fitting happens once, on real training images, with
:meth:`fit`; there is no gradient training.

Persistence is safe by construction: buffers go to ``model.safetensors``; a scikit-learn estimator goes to
``estimator.skops`` and is loaded only if every type in the file is in :data:`TRUSTED_SKOPS_TYPES` or
:data:`PLAIN_SKOPS_TYPES`; any other type (even one that skops itself would trust, such as a scikit-learn
``Pipeline``) is refused.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch

from ..configuration.feature_base import FeatureDetectorConfig, SklearnDetectorConfig
from ..features import FeatureCache
from .base import DeepfakeDetectorPreTrainedModel, DetectorOutput

ESTIMATOR_FILE = "estimator.skops"

#: The estimator types an ``estimator.skops`` file may contain: exactly what our fitted members dump (checked
#: with ``skops.io.get_untrusted_types`` and the file's schema). Integer seeds only, so no RandomState; LOF uses
#: brute-force neighbours, so no KD/ball tree.
TRUSTED_SKOPS_TYPES = [
    "sklearn.svm._classes.OneClassSVM",
    "sklearn.ensemble._iforest.IsolationForest",
    "sklearn.tree._classes.ExtraTreeRegressor",
    "sklearn.tree._tree.Tree",
    "sklearn.neighbors._lof.LocalOutlierFactor",
    "sklearn.mixture._gaussian_mixture.GaussianMixture",
]

#: Plain containers, scalars and arrays the estimators' attributes are made of.
PLAIN_SKOPS_TYPES = [
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.NoneType",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.float32",
    "numpy.int64",
    "numpy.int32",
    "numpy.bool_",
]


class FeatureDetectorModel(DeepfakeDetectorPreTrainedModel):
    """A detector on standardised hand-made features; subclasses define :meth:`score_features` and :meth:`fit_features`.

    ``forward(pixel_values)`` takes images in [0, 1] (its image processor uses mean 0, std 1) and an optional
    :class:`~deepfake_detectors.features.FeatureCache` shared with other members of an ensemble.
    """

    config_class = FeatureDetectorConfig
    accepts_feature_cache = True

    def __init__(self, config: FeatureDetectorConfig) -> None:
        super().__init__(config)
        self.register_fitted_buffers(config)
        # A learnable dummy would make Trainer think this is trainable; these members have no parameters.
        # post_init runs once, after every subclass buffer exists (subclasses extend register_fitted_buffers).
        self.post_init()

    def register_fitted_buffers(self, config: FeatureDetectorConfig) -> None:
        """Register the persistent float64 buffers holding the fitted statistics (shapes from the config)."""
        self.register_buffer("feature_mean", torch.zeros(config.feature_dim, dtype=torch.float64))
        self.register_buffer("feature_scale", torch.ones(config.feature_dim, dtype=torch.float64))

    # These members have no parameters, so the device / dtype transformers reads off the first parameter come
    # from the fitted buffers instead (``save_pretrained`` records ``config.dtype`` from here).
    @property
    def device(self) -> torch.device:
        return self.feature_mean.device

    @property
    def dtype(self) -> torch.dtype:
        return self.feature_mean.dtype

    def _init_weights(self, module: torch.nn.Module) -> None:
        if module is self:
            self.feature_mean.zero_()
            self.feature_scale.fill_(1.0)

    def features(self, pixel_values: torch.Tensor, feature_cache: Optional[FeatureCache] = None) -> torch.Tensor:
        """Raw (unstandardised) features ``[batch, feature_dim]`` of images in [0, 1]."""
        cache = self.feature_cache_for(pixel_values, feature_cache)
        values = cache.concat(list(self.config.feature_names)).double()
        if values.shape[1] != self.config.feature_dim:
            raise ValueError(f"features have {values.shape[1]} dims, config says {self.config.feature_dim}")
        return values

    @staticmethod
    def feature_cache_for(pixel_values: torch.Tensor, feature_cache: Optional[FeatureCache]) -> FeatureCache:
        """The shared ``feature_cache`` (checked to hold this batch) or a new cache of ``pixel_values``."""
        if feature_cache is None:
            return FeatureCache(pixel_values)
        if feature_cache.images.shape[0] != pixel_values.shape[0]:
            raise ValueError(
                f"feature_cache holds {feature_cache.images.shape[0]} images, pixel_values {pixel_values.shape[0]}"
            )
        return feature_cache

    def standardise(self, values: torch.Tensor) -> torch.Tensor:
        """Features in standard units of the real training images."""
        values = values.to(torch.float64)
        return (values - self.feature_mean.to(values)) / self.feature_scale.to(values)

    @torch.no_grad()
    def fit(self, real_features: torch.Tensor) -> "FeatureDetectorModel":
        """Fit the standardisation and the detector on features of real training images.

        Args:
            real_features: ``[n, input_dim]`` raw features (see :meth:`features`).

        Returns:
            self
        """
        self.fit_standardised(self.check_real_features(real_features))
        return self

    def fit_standardised(self, values: torch.Tensor) -> None:
        """Fix ``feature_mean`` / ``feature_scale`` from checked real features, then :meth:`fit_features`."""
        self.feature_mean.copy_(values.mean(0))
        self.feature_scale.copy_(values.std(0).clamp_min(1e-6))
        self.fit_features(self.standardise(values))

    @property
    def input_dim(self) -> int:
        """Size of the vectors :meth:`features` returns and :meth:`fit` takes."""
        return self.config.feature_dim

    def check_real_features(self, real_features: torch.Tensor) -> torch.Tensor:
        """``real_features`` as float64 on this model's device, after checking shape and values.

        Raises:
            ValueError: for a wrong shape, fewer than 2 images, or NaN / infinite values.
        """
        values = torch.as_tensor(real_features, dtype=torch.float64, device=self.feature_mean.device)
        if values.ndim != 2 or values.shape[1] != self.input_dim:
            raise ValueError(f"expected real features of shape [n, {self.input_dim}], got {tuple(values.shape)}")
        if values.shape[0] < 2:
            raise ValueError(f"fit needs at least 2 real images, got {values.shape[0]}")
        if not torch.isfinite(values).all():
            raise ValueError("real features contain NaN or infinite values")
        return values

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
        scores = self.scores_from_features(self.features(pixel_values, feature_cache))
        return DetectorOutput(scores=scores.float())

    def scores_from_features(self, values: torch.Tensor) -> torch.Tensor:
        """Scores of raw features ``[batch, feature_dim]``: :meth:`score_features` of the standardised values.

        Args:
            values: raw features from :meth:`features`.
        """
        return self.score_features(self.standardise(values))


class MahalanobisDetectorModel(FeatureDetectorModel):
    """Squared Mahalanobis distance to the real-feature Gaussian (mean 0 after standardisation, stored precision)."""

    def register_fitted_buffers(self, config: FeatureDetectorConfig) -> None:
        super().register_fitted_buffers(config)
        self.register_buffer("precision", torch.eye(config.feature_dim, dtype=torch.float64))

    def _init_weights(self, module: torch.nn.Module) -> None:
        super()._init_weights(module)
        if module is self:
            self.precision.copy_(torch.eye(self.config.feature_dim, dtype=torch.float64))

    def fit_features(self, standardised: torch.Tensor) -> None:
        """Store the (shrunk) inverse covariance of the standardised real features."""
        from sklearn.covariance import LedoitWolf

        estimator = LedoitWolf().fit(standardised.detach().cpu().numpy())
        self.precision.copy_(torch.from_numpy(estimator.precision_))

    def score_features(self, standardised: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bi,ij,bj->b", standardised, self.precision.to(standardised), standardised)


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

        self.estimator = self.build_estimator().fit(standardised.detach().cpu().numpy())
        self.config.sklearn_version = sklearn.__version__

    def score_features(self, standardised: torch.Tensor) -> torch.Tensor:
        if self.estimator is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or load a fitted repo")
        scores = self.estimator.score_samples(standardised.detach().cpu().numpy())
        return -torch.from_numpy(np.asarray(scores, dtype=np.float64)).to(standardised.device)

    def save_pretrained(self, save_directory: Union[str, os.PathLike], **kwargs: Any) -> None:
        """``save_pretrained`` of transformers plus ``estimator.skops`` (written first, so a ``push_to_hub=True``
        upload includes it)."""
        if self.estimator is None:
            raise RuntimeError("cannot save an unfitted scikit-learn member")
        import skops.io

        if os.path.isfile(save_directory):
            raise ValueError(f"save_directory {save_directory} is a file, not a directory")
        os.makedirs(save_directory, exist_ok=True)
        skops.io.dump(self.estimator, Path(save_directory) / ESTIMATOR_FILE)
        super().save_pretrained(save_directory, **kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Union[str, os.PathLike], *args: Any, **kwargs: Any):
        """``from_pretrained`` of transformers plus the trusted loading of ``estimator.skops``."""
        from transformers.utils import cached_file

        loaded = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        hub_kwargs = {
            key: kwargs[key]
            for key in ("cache_dir", "revision", "token", "local_files_only", "subfolder", "force_download")
            if key in kwargs
        }
        path = cached_file(pretrained_model_name_or_path, ESTIMATOR_FILE, **hub_kwargs)
        model.estimator = load_trusted_estimator(path)
        check_sklearn_version(model.config)
        return loaded


def skops_file_types(path: Union[str, os.PathLike]) -> set[str]:
    """Every ``module.Class`` named in a ``.skops`` file's schema (read as JSON; nothing is imported or built)."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ValueError(f"{path} is not a valid .skops file: {error}") from None
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def load_trusted_estimator(path: Union[str, os.PathLike]) -> Any:
    """Load a ``.skops`` file, refusing any type outside :data:`TRUSTED_SKOPS_TYPES` and :data:`PLAIN_SKOPS_TYPES`.

    Types that skops trusts by default (any scikit-learn estimator, e.g. a ``Pipeline``) are refused too unless
    they are in our lists, so a repo can only ever load the estimators our members write.

    Raises:
        ValueError: naming the untrusted types found in the file.
    """
    import skops.io

    allowed = set(TRUSTED_SKOPS_TYPES) | set(PLAIN_SKOPS_TYPES)
    found = skops_file_types(path) | set(skops.io.get_untrusted_types(file=path))
    untrusted = sorted(found - allowed)
    if untrusted:
        raise ValueError(f"refusing to load {path}: it contains types that are not trusted: {untrusted}")
    estimator = skops.io.load(path, trusted=sorted(allowed))
    check_estimator_structure(estimator, path)
    return estimator


def check_estimator_structure(estimator: Any, path: Union[str, os.PathLike]) -> None:
    """Refuse a loaded estimator whose arrays could make scikit-learn's compiled code read out of bounds.

    A tampered file can hold only trusted types and still crash the process at the first prediction (a tree node
    whose child or feature index points past its arrays). Checked before first use: every float array finite;
    tree children inside the tree and after their parent (so no cycle), split features inside the input; the
    forest's feature subsets, the SVM's support vectors, the LOF's neighbour indices and the Gaussian mixture's
    means and precisions consistent in shape and range.

    Raises:
        ValueError: naming the file and what is inconsistent.
    """
    import numpy as np

    from ..nested import iter_leaves

    def fail(reason: str) -> None:
        raise ValueError(f"refusing {path}: {reason}; the file is damaged or was tampered with")

    for name, array in iter_leaves(estimator, type(estimator).__name__, into_objects=True):
        if isinstance(array, np.ndarray) and array.dtype.kind == "f" and not np.isfinite(array).all():
            fail(f"{name} holds NaN or infinite values")
    n_features = int(getattr(estimator, "n_features_in_", 0))
    for index, tree_estimator in enumerate(getattr(estimator, "estimators_", None) or []):
        features = estimator.estimators_features_[index] if hasattr(estimator, "estimators_features_") else None
        width = len(features) if features is not None else n_features
        if features is not None and (np.min(features) < 0 or np.max(features) >= n_features):
            fail(f"tree {index} uses input features outside 0..{n_features - 1}")
        _check_tree(tree_estimator.tree_, width, f"tree {index}", fail)
    if hasattr(estimator, "support_vectors_"):
        vectors, dual = estimator.support_vectors_, estimator.dual_coef_
        if vectors.ndim != 2 or vectors.shape[1] != n_features or dual.shape != (1, vectors.shape[0]):
            fail("support vectors and dual coefficients disagree in shape")
        counts = np.asarray(estimator._n_support)  # one-class SVMs store the count for both "classes"
        if counts.min() < 0 or counts.max() != vectors.shape[0] or len(estimator.support_) != vectors.shape[0]:
            fail("the number of support vectors is inconsistent")
    if hasattr(estimator, "_fit_X"):
        fitted = estimator._fit_X
        neighbours = getattr(estimator, "_neighbors_indices_fit_X_", None)
        if fitted.ndim != 2 or fitted.shape[1] != n_features or len(estimator._lrd) != fitted.shape[0]:
            fail("the stored training points and their densities disagree in shape")
        if neighbours is not None and (neighbours.min() < 0 or neighbours.max() >= fitted.shape[0]):
            fail("neighbour indices point outside the stored training points")
    if hasattr(estimator, "means_") and hasattr(estimator, "precisions_cholesky_"):
        components = len(estimator.weights_)
        expected = {"full": (components, n_features, n_features), "diag": (components, n_features)}
        shape = expected.get(getattr(estimator, "covariance_type", ""), np.shape(estimator.precisions_cholesky_))
        if estimator.means_.shape != (components, n_features) or np.shape(estimator.precisions_cholesky_) != shape:
            fail("the mixture's weights, means and precisions disagree in shape")


def _check_tree(tree: Any, n_features: int, name: str, fail: Any) -> None:
    import numpy as np

    nodes = int(tree.node_count)
    left, right, feature = np.asarray(tree.children_left), np.asarray(tree.children_right), np.asarray(tree.feature)
    if not (len(left) == len(right) == len(feature) == nodes) or nodes < 1:
        fail(f"{name} has inconsistent node arrays")
    leaf = left == -1
    if not np.array_equal(leaf, right == -1):
        fail(f"{name} has a node with one child")
    ids = np.arange(nodes)
    inner = ~leaf
    if np.any(left[inner] <= ids[inner]) or np.any(right[inner] <= ids[inner]):
        fail(f"{name} has a child that does not come after its parent")
    if np.any(left[inner] >= nodes) or np.any(right[inner] >= nodes):
        fail(f"{name} has a child index outside its {nodes} nodes")
    if np.any(feature[inner] < 0) or np.any(feature[inner] >= n_features):
        fail(f"{name} splits on a feature outside 0..{n_features - 1}")


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
