"""One configuration class per detector."""

from .autoencoder import ResidualAutoencoderConfig
from .base import DeepfakeDetectorConfig
from .colour_distribution import ColourDistributionConfig
from .deep_svdd import DeepSVDDConfig
from .edge_flow import EdgeFlowConfig
from .efficientnet import EfficientNetDetectorConfig
from .ela_cnn import ElaCnnConfig
from .ensemble import DeepfakeEnsembleConfig
from .feature_base import FeatureDetectorConfig, SklearnDetectorConfig, compute_feature_dim
from .frequency_vae import FrequencyVAEConfig
from .gaussian_mixture import GaussianMixtureConfig
from .isolation_forest import IsolationForestConfig
from .local_outlier_factor import LocalOutlierFactorConfig
from .npr import NprDetectorConfig
from .semantic_svdd import SemanticSVDDConfig
from .statistical import StatisticalConfig
from .texture_ocsvm import TextureOCSVMConfig
from .reconstruction_error import ReconstructionErrorConfig
from .reconstruction_ratio import ReconstructionRatioConfig
from .zero_shot_entropy import ZeroShotEntropyConfig

__all__ = [
    "ColourDistributionConfig",
    "DeepfakeDetectorConfig",
    "DeepfakeEnsembleConfig",
    "DeepSVDDConfig",
    "EdgeFlowConfig",
    "EfficientNetDetectorConfig",
    "ElaCnnConfig",
    "FeatureDetectorConfig",
    "FrequencyVAEConfig",
    "GaussianMixtureConfig",
    "IsolationForestConfig",
    "LocalOutlierFactorConfig",
    "NprDetectorConfig",
    "ResidualAutoencoderConfig",
    "SemanticSVDDConfig",
    "SklearnDetectorConfig",
    "StatisticalConfig",
    "TextureOCSVMConfig",
    "ReconstructionErrorConfig",
    "ReconstructionRatioConfig",
    "ZeroShotEntropyConfig",
    "compute_feature_dim",
]
