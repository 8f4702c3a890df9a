"""Image features shared by several detectors (computed on batches of torch tensors in [0, 1]).

Importing this package registers every named feature; :class:`FeatureCache` computes each once per batch.
"""

from . import statistics as _statistics  # noqa: F401 - registers the named features
from .cache import FEATURES, FeatureCache, register_feature
from .filters import blur3x3, highpass_residual

__all__ = ["FEATURES", "FeatureCache", "blur3x3", "highpass_residual", "register_feature"]
