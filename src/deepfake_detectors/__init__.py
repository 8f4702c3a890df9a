"""deepfake-detectors: detectors for AI-generated images with a transformers-style API.

Importing the package registers every detector with ``AutoConfig`` / ``AutoModel`` (and the image processor
with ``AutoImageProcessor``), so ``AutoModel.from_pretrained(path)`` works for our repos without
``trust_remote_code``.

Example:
    >>> from deepfake_detectors import EnsembleDeepfakeDetector
    >>> detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-ensemble-detector")
    >>> score, is_fake = detector.predict("examples/fake_0001.jpg")
"""

from transformers import AutoConfig, AutoImageProcessor, AutoModel

from .calibration import ScoreCalibration
from .configuration import (
    ColourDistributionConfig,
    DeepfakeEnsembleConfig,
    DeepSVDDConfig,
    EdgeFlowConfig,
    FrequencyVAEConfig,
    GaussianMixtureConfig,
    IsolationForestConfig,
    LocalOutlierFactorConfig,
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
    FrequencyVAEModel,
    GaussianMixtureModel,
    IsolationForestModel,
    LocalOutlierFactorModel,
    ResidualAutoencoderModel,
    SemanticSVDDModel,
    StatisticalModel,
    TextureOCSVMModel,
)
from .pipeline import DetectionResult, EnsembleDeepfakeDetector
from .processing import DeepfakeImageProcessor, ImageLoadError, load_image

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
]

AutoConfig.register(DeepfakeEnsembleConfig.model_type, DeepfakeEnsembleConfig, exist_ok=True)
for _config_class, _model_class in DETECTORS:
    AutoConfig.register(_config_class.model_type, _config_class, exist_ok=True)
    AutoModel.register(_config_class, _model_class, exist_ok=True)
    AutoImageProcessor.register(_config_class, slow_image_processor_class=DeepfakeImageProcessor, exist_ok=True)

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
    "ResidualAutoencoderConfig",
    "ResidualAutoencoderModel",
    "ScoreCalibration",
    "SemanticSVDDConfig",
    "SemanticSVDDModel",
    "StatisticalConfig",
    "StatisticalModel",
    "TextureOCSVMConfig",
    "TextureOCSVMModel",
    "load_image",
]
