"""deepfake-detectors: detectors for AI-generated images with a transformers-style API.

Importing the package registers every detector with ``AutoConfig`` / ``AutoModel`` (its image processor with
``AutoImageProcessor``, supervised classifiers also with ``AutoModelForImageClassification``), so
``AutoModel.from_pretrained(path)`` works for our repos without ``trust_remote_code``.

Example:
    >>> from deepfake_detectors import EnsembleDeepfakeDetector
    >>> detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-ensemble-detector")
    >>> score, is_fake = detector.predict("examples/fake_01.jpg")
"""

from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoModelForImageClassification

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
)
from .pipeline import DetectionResult, EnsembleDeepfakeDetector
from .processing import DeepfakeImageProcessor, ImageLoadError, load_image
from .processing_crops import NativeCropImageProcessor
from .processing_ela import ElaImageProcessor

__version__ = "0.1.0"

#: (config class, model class) of every registered detector.
DETECTORS = [
    (ResidualAutoencoderConfig, ResidualAutoencoderModel),
    (DeepSVDDConfig, DeepSVDDModel),
    (TextureOCSVMConfig, TextureOCSVMModel),
    (IsolationForestConfig, IsolationForestModel),
    (LocalOutlierFactorConfig, LocalOutlierFactorModel),
    (GaussianMixtureConfig, GaussianMixtureModel),
    (ColourDistributionConfig, ColourDistributionModel),
    (StatisticalConfig, StatisticalModel),
    (FrequencyVAEConfig, FrequencyVAEModel),
    (EdgeFlowConfig, EdgeFlowModel),
    (SemanticSVDDConfig, SemanticSVDDModel),
    (ElaCnnConfig, ElaCnnForImageClassification),
    (EfficientNetDetectorConfig, EfficientNetDetectorForImageClassification),
    (NprDetectorConfig, NprDetectorForImageClassification),
]

#: Detectors whose input needs its own image processor; every other detector uses DeepfakeImageProcessor.
IMAGE_PROCESSORS = {ElaCnnConfig: ElaImageProcessor, NprDetectorConfig: NativeCropImageProcessor}

#: Supervised detectors that are also transformers image classifiers (``pipeline("image-classification")``).
IMAGE_CLASSIFIERS = {
    ElaCnnConfig: ElaCnnForImageClassification,
    EfficientNetDetectorConfig: EfficientNetDetectorForImageClassification,
    NprDetectorConfig: NprDetectorForImageClassification,
}

AutoConfig.register(DeepfakeEnsembleConfig.model_type, DeepfakeEnsembleConfig, exist_ok=True)
for _config_class, _model_class in DETECTORS:
    AutoConfig.register(_config_class.model_type, _config_class, exist_ok=True)
    AutoModel.register(_config_class, _model_class, exist_ok=True)
    _processor_class = IMAGE_PROCESSORS.get(_config_class, DeepfakeImageProcessor)
    # Our processors are plain PIL + torch: the same class answers both transformers backends.
    AutoImageProcessor.register(
        _config_class,
        image_processor_classes={"pil": _processor_class, "torchvision": _processor_class},
        exist_ok=True,
    )
for _config_class, _model_class in IMAGE_CLASSIFIERS.items():
    AutoModelForImageClassification.register(_config_class, _model_class, exist_ok=True)

__all__ = [
    "ColourDistributionConfig",
    "ColourDistributionModel",
    "DeepfakeEnsembleConfig",
    "DeepfakeImageProcessor",
    "DeepSVDDConfig",
    "DeepSVDDModel",
    "DetectionResult",
    "DetectorOutput",
    "EdgeFlowConfig",
    "EdgeFlowModel",
    "EfficientNetDetectorConfig",
    "EfficientNetDetectorForImageClassification",
    "ElaCnnConfig",
    "ElaCnnForImageClassification",
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
    "load_image",
]
