"""One configuration class per detector."""

from .autoencoder import ResidualAutoencoderConfig
from .base import DeepfakeDetectorConfig
from .deep_svdd import DeepSVDDConfig
from .ensemble import DeepfakeEnsembleConfig

__all__ = ["DeepfakeDetectorConfig", "DeepfakeEnsembleConfig", "DeepSVDDConfig", "ResidualAutoencoderConfig"]
