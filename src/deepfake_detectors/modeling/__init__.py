"""One model class per detector."""

from .autoencoder import ResidualAutoencoderModel
from .base import DeepfakeDetectorPreTrainedModel, DetectorOutput
from .deep_svdd import DeepSVDDModel

__all__ = ["DeepfakeDetectorPreTrainedModel", "DeepSVDDModel", "DetectorOutput", "ResidualAutoencoderModel"]
