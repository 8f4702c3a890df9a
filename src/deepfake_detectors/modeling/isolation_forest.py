"""Isolation forest on frequency (power spectrum) and spatial (gradient, patch) features."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..configuration.isolation_forest import IsolationForestConfig
from .feature_base import SklearnDetectorModel

#: The fitted attributes of scikit-learn's ``IsolationForest`` that :func:`forest_score_samples` reads.
FOREST_ATTRIBUTES = (
    "estimators_", "estimators_features_", "_decision_path_lengths", "_average_path_length_per_tree", "_max_samples",
    "_max_features", "n_features_in_",
)


def forest_score_samples(forest: Any, features: np.ndarray) -> np.ndarray:
    """``forest.score_samples(features)`` of a fitted scikit-learn ``IsolationForest``, computed tree by tree here.

    scikit-learn runs each tree as a joblib task, and on the CPU the per-task set-up costs more than the trees
    on a batch of a few hundred rows (about 5x on 144 crops and 200 trees). This loop does what scikit-learn's
    ``_compute_score_samples`` does (each tree's leaf, its path length, the normalised mean depth) without the
    tasks. It falls back to ``score_samples`` when an attribute it reads is missing (another scikit-learn
    version: also when its helper cannot be imported) or a value is not finite (scikit-learn then handles it as it
    always did).
    :class:`IsolationForestModel` checks it against ``score_samples`` on the first batch it scores.

    Args:
        forest: a fitted ``sklearn.ensemble.IsolationForest``.
        features: ``[n, n_features]`` values.

    Example:
        >>> from sklearn.ensemble import IsolationForest
        >>> rows = np.random.default_rng(0).normal(size=(50, 4))
        >>> forest = IsolationForest(n_estimators=10, random_state=0).fit(rows)
        >>> bool(np.allclose(forest_score_samples(forest, rows), forest.score_samples(rows)))
        True
    """
    try:
        from sklearn.ensemble._iforest import _average_path_length
    except ImportError:  # moved in another scikit-learn version
        return forest.score_samples(features)
    values = np.asarray(features, dtype=np.float32)
    usable = all(hasattr(forest, name) for name in FOREST_ATTRIBUTES)
    if not usable or values.ndim != 2 or values.shape[1] != forest.n_features_in_ or not np.isfinite(values).all():
        return forest.score_samples(features)
    values = np.ascontiguousarray(values)
    subsample = forest._max_features != values.shape[1]
    depths = np.zeros(len(values), dtype=np.float64)
    for tree, used, path_lengths, average_lengths in zip(
        forest.estimators_, forest.estimators_features_, forest._decision_path_lengths,
        forest._average_path_length_per_tree,
    ):
        leaves = tree.apply(values[:, used] if subsample else values, check_input=False)
        depths += path_lengths[leaves] + average_lengths[leaves] - 1.0
    denominator = len(forest.estimators_) * _average_path_length([forest._max_samples])
    return -(2 ** -np.divide(depths, denominator, out=np.ones_like(depths), where=denominator != 0))


class IsolationForestModel(SklearnDetectorModel):
    """scikit-learn ``IsolationForest`` on standardised spectrum and gradient features; score = ``-score_samples``
    (the average path length turned into an anomaly score: higher = easier to isolate = more likely fake).

    Args:
        config: an :class:`IsolationForestConfig`.

    Example:
        >>> model = IsolationForestModel(IsolationForestConfig(n_estimators=20))
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = IsolationForestConfig
    base_model_prefix = "isolation_forest"
    #: Whether :func:`forest_score_samples` agreed with scikit-learn on this model's first batch (``None``: not yet).
    fast_scores_verified: bool | None = None

    def score_features(self, standardised: torch.Tensor) -> torch.Tensor:
        """The negated ``score_samples`` of the forest (:func:`forest_score_samples`; on the first batch also
        scikit-learn's own, and that one from then on if they differ)."""
        if self.estimator is None or self.fast_scores_verified is False:
            return super().score_features(standardised)
        values = standardised.detach().cpu().numpy()
        scores = forest_score_samples(self.estimator, values)
        if self.fast_scores_verified is None:
            self.fast_scores_verified = bool(np.allclose(scores, self.estimator.score_samples(values), rtol=1e-12,
                                                         atol=1e-12))
            if not self.fast_scores_verified:
                return super().score_features(standardised)
        return -torch.from_numpy(np.asarray(scores, dtype=np.float64)).to(standardised.device)

    def build_estimator(self) -> Any:
        from sklearn.ensemble import IsolationForest

        return IsolationForest(
            n_estimators=self.config.n_estimators,
            max_samples=self.config.max_samples,
            random_state=self.config.random_state,
        )
