"""One model class per detector."""

from .autoencoder import ResidualAutoencoderModel
from .base import DeepfakeDetectorPreTrainedModel, DetectorOutput
from .colour_distribution import ColourDistributionModel
from .deep_svdd import DeepSVDDModel
from .edge_flow import EdgeFlowModel
from .efficientnet import EfficientNetDetectorForImageClassification, EfficientNetDetectorOutput, GradCamExplanation
from .ela_cnn import ElaCnnForImageClassification, ElaCnnOutput
from .feature_base import FeatureDetectorModel, MahalanobisDetectorModel, SklearnDetectorModel
from .frequency_vae import FrequencyVAEModel
from .gaussian_mixture import GaussianMixtureModel
from .isolation_forest import IsolationForestModel
from .local_outlier_factor import LocalOutlierFactorModel
from .npr import NprDetectorForImageClassification, NprDetectorOutput
from .semantic_svdd import SemanticSVDDModel
from .statistical import StatisticalModel
from .texture_ocsvm import TextureOCSVMModel
from .reconstruction_error import ReconstructionErrorModel
from .reconstruction_ratio import ReconstructionRatioModel
from .zero_shot_entropy import ZeroShotEntropyModel

__all__ = [
    "ColourDistributionModel",
    "DeepfakeDetectorPreTrainedModel",
    "DeepSVDDModel",
    "DetectorOutput",
    "EdgeFlowModel",
    "EfficientNetDetectorForImageClassification",
    "EfficientNetDetectorOutput",
    "GradCamExplanation",
    "ElaCnnForImageClassification",
    "ElaCnnOutput",
    "FeatureDetectorModel",
    "FrequencyVAEModel",
    "GaussianMixtureModel",
    "IsolationForestModel",
    "LocalOutlierFactorModel",
    "NprDetectorForImageClassification",
    "NprDetectorOutput",
    "MahalanobisDetectorModel",
    "ResidualAutoencoderModel",
    "SemanticSVDDModel",
    "SklearnDetectorModel",
    "StatisticalModel",
    "TextureOCSVMModel",
    "ReconstructionErrorModel",
    "ReconstructionRatioModel",
    "ZeroShotEntropyModel",
]
