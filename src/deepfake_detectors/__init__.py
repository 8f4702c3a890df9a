"""deepfake-detectors: detectors for AI-generated images with a transformers-style API.

Importing the package registers every detector of :mod:`deepfake_detectors.registry` with ``AutoConfig`` /
``AutoModel`` (its image processor with ``AutoImageProcessor``, supervised classifiers also with
``AutoModelForImageClassification``), so ``AutoModel.from_pretrained(path)`` works for our repos without
``trust_remote_code``.

Example:
    >>> from deepfake_detectors import EnsembleDeepfakeDetector
    >>> detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-ensemble-detector")
    >>> score, is_fake = detector.predict("examples/fake_01.jpg")
"""

from transformers import AutoConfig

from .calibration import BrightnessNormalisation, ScoreCalibration
from .configuration import (
    ColourDistributionConfig,
    DeepfakeEnsembleConfig,
    DeepSVDDConfig,
    EdgeFlowConfig,
    EfficientNetDetectorConfig,
    ElaCnnConfig,
    FrequencyVAEConfig,
    GaussianMixtureConfig,
    IsolationForestConfig,
    LocalOutlierFactorConfig,
    NprDetectorConfig,
    ResidualAutoencoderConfig,
    SemanticSVDDConfig,
    StatisticalConfig,
    TextureOCSVMConfig,
    ReconstructionErrorConfig,
    ReconstructionRatioConfig,
    ZeroShotEntropyConfig,
)
from .modeling import (
    ColourDistributionModel,
    DeepSVDDModel,
    DetectorOutput,
    EdgeFlowModel,
    EfficientNetDetectorForImageClassification,
    ElaCnnForImageClassification,
    FrequencyVAEModel,
    GaussianMixtureModel,
    IsolationForestModel,
    LocalOutlierFactorModel,
    NprDetectorForImageClassification,
    ResidualAutoencoderModel,
    SemanticSVDDModel,
    StatisticalModel,
    TextureOCSVMModel,
    ReconstructionErrorModel,
    ReconstructionRatioModel,
    ZeroShotEntropyModel,
)
from .pipeline import DetectionResult, EnsembleDeepfakeDetector
from .processing import DeepfakeImageProcessor, ImageLoadError, load_image
from .processing_crops import NativeCropImageProcessor
from .processing_ela import ElaCropImageProcessor, ElaImageProcessor
from .provenance import Provenance, read_provenance
from .registry import REGISTRY, DetectorSpec, detector_spec, register_detector  # registers every detector

__version__ = "0.1.0"

AutoConfig.register(DeepfakeEnsembleConfig.model_type, DeepfakeEnsembleConfig, exist_ok=True)

__all__ = [
    "ColourDistributionConfig",
    "ColourDistributionModel",
    "DeepfakeEnsembleConfig",
    "DeepfakeImageProcessor",
    "DeepSVDDConfig",
    "DeepSVDDModel",
    "DetectionResult",
    "DetectorSpec",
    "DetectorOutput",
    "EdgeFlowConfig",
    "EdgeFlowModel",
    "EfficientNetDetectorConfig",
    "EfficientNetDetectorForImageClassification",
    "ElaCnnConfig",
    "ElaCnnForImageClassification",
    "ElaCropImageProcessor",
    "ElaImageProcessor",
    "EnsembleDeepfakeDetector",
    "FrequencyVAEConfig",
    "FrequencyVAEModel",
    "GaussianMixtureConfig",
    "GaussianMixtureModel",
    "ImageLoadError",
    "IsolationForestConfig",
    "IsolationForestModel",
    "LocalOutlierFactorConfig",
    "LocalOutlierFactorModel",
    "NativeCropImageProcessor",
    "NprDetectorConfig",
    "NprDetectorForImageClassification",
    "Provenance",
    "ResidualAutoencoderConfig",
    "ResidualAutoencoderModel",
    "BrightnessNormalisation",
    "ScoreCalibration",
    "SemanticSVDDConfig",
    "SemanticSVDDModel",
    "StatisticalConfig",
    "StatisticalModel",
    "TextureOCSVMConfig",
    "TextureOCSVMModel",
    "ReconstructionErrorConfig",
    "ReconstructionRatioConfig",
    "ZeroShotEntropyConfig",
    "ReconstructionErrorModel",
    "ReconstructionRatioModel",
    "ZeroShotEntropyModel",
    "REGISTRY",
    "detector_spec",
    "load_image",
    "read_provenance",
    "register_detector",
]
