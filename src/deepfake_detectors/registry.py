"""The one registry of detectors: every consumer (Auto classes, training, explanations, the Space, the CLI, the
benchmark) reads what a detector is from its :class:`DetectorSpec` here.

Adding a detector = its configuration file, its modeling file, one :func:`register_detector` call in
:data:`BUILT_IN_DETECTORS` (or in your own code, for a detector outside the package) and one test file; see
``docs/ARCHITECTURE.md``.

Example:
    >>> from deepfake_detectors.registry import detector_spec
    >>> detector_spec("deepfake-npr").name
    'npr'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional, Union

from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForImageClassification,
    PretrainedConfig,
    PreTrainedModel,
)

from . import configuration as cfg
from . import modeling as mdl
from .processing import DeepfakeImageProcessor
from .processing_crops import NativeCropImageProcessor
from .processing_ela import ElaCropImageProcessor, ElaImageProcessor

#: How a detector learns: from real images only, from features of real images only, or from labelled images.
FAMILIES = ("one-class-deep", "one-class-features", "supervised")


@dataclass(frozen=True)
class OneClassRecipe:
    """How the one-class training (:mod:`deepfake_detectors.training.one_class`) fits a member on real images
    (the published hyper-parameters).

    Args:
        settings: configuration values that differ from the config's defaults.
        learning_rate: Adam learning rate (deep members; cosine decay).
        weight_decay: Adam weight decay (deep members).
        statistics_on_all_images: fit ``fit_initial_statistics`` on every training image rather than the first
            ``init_batches`` batches (e.g. a large whitening covariance).
    """

    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    learning_rate: Optional[float] = None
    weight_decay: Optional[float] = None
    statistics_on_all_images: bool = False


@dataclass(frozen=True)
class SupervisedRecipe:
    """How a supervised detector is trained on labelled images: its function in
    :mod:`deepfake_detectors.training.supervised_recipes`, the script that runs it and the script's optimisation
    defaults (the published settings; every one can be overridden on the command line).

    Args:
        function: the recipe's name in :mod:`deepfake_detectors.training.supervised_recipes`.
        script: the command line that runs it (``scripts/train_npr.py``).
        optimisation: the defaults of the script's ``optimisation`` options
            (:func:`~deepfake_detectors.training.add_optimisation_arguments`: ``epochs`` or ``max_steps``,
            ``batch_size``, ``learning_rate``, ``weight_decay``).
    """

    function: str
    script: str
    optimisation: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class DetectorSpec:
    """Everything the package needs to know about one detector.

    Args:
        name: the short name, used as the member name in ensembles (``"npr"``).
        config_class: its ``PretrainedConfig`` (whose ``model_type`` is the registry key).
        model_class: its ``PreTrainedModel``; ``score(pixel_values)`` returns raw fake-ness scores.
        processor_class: the image processor its repos save (``preprocessor_config.json``).
        extra_processor_classes: other processors some of its repos save (native-resolution crops of a detector
            that also has a resizing version); registered too, so ``AutoImageProcessor`` finds them by name.
        family: one of :data:`FAMILIES`.
        image_classifier: also register with ``AutoModelForImageClassification`` (supervised classifiers).
        explanation: the caption of what ``model.explain(image)`` shows (``"Grad-CAM"``); ``None`` when the
            detector has no per-pixel evidence.
        explain_with_processor: ``explain`` takes the repo's processor (``False``: it tiles the image itself).
        description: one sentence for people (the Space's About page, listings).
        one_class_recipe: how the one-class ensemble's training fits it (its members only).
        supervised_recipes: how it is trained on labelled images (supervised detectors; one per recipe, e.g. the
            CIFAKE and the photo recipe of EfficientNet), keyed by the function name.

    Example:
        >>> DetectorSpec("my_detector", MyConfig, MyModel, family="supervised")  # doctest: +SKIP
    """

    name: str
    config_class: type[PretrainedConfig]
    model_class: type[PreTrainedModel]
    processor_class: type = DeepfakeImageProcessor
    extra_processor_classes: tuple[type, ...] = ()
    family: str = "one-class-deep"
    image_classifier: bool = False
    explanation: Optional[str] = None
    explain_with_processor: bool = True
    description: str = ""
    one_class_recipe: Optional[OneClassRecipe] = None
    supervised_recipes: tuple[SupervisedRecipe, ...] = ()

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: family must be one of {FAMILIES}, not {self.family!r}")

    @property
    def model_type(self) -> str:
        """The ``model_type`` of its config (``"deepfake-npr"``)."""
        return self.config_class.model_type

    @property
    def deep(self) -> bool:
        """Trained by ``transformers.Trainer`` (one-class deep members), not fitted on features."""
        return self.family == "one-class-deep"

    def build_config(self, **settings: Any) -> PretrainedConfig:
        """The config :meth:`build` uses: the config's defaults, then the one-class recipe's settings, then
        ``settings`` (no model is built).

        Example:
            >>> detector_spec("semantic_svdd").build_config().image_size
            64
        """
        recipe_settings = dict(self.one_class_recipe.settings) if self.one_class_recipe else {}
        return self.config_class(**{**recipe_settings, **settings})

    def build(self, **settings: Any) -> PreTrainedModel:
        """A new, untrained model: the config's defaults, then the one-class recipe's settings, then ``settings``.

        Example:
            >>> detector_spec("edge_flow").build().config.hidden_size
            32
        """
        return self.model_class(self.build_config(**settings))

    def supervised_recipe(self, function: Optional[str] = None) -> SupervisedRecipe:
        """Its supervised recipe named ``function`` (the only one when ``None``).

        Example:
            >>> detector_spec("npr").supervised_recipe().optimisation["max_steps"]
            4000
        """
        recipes = {recipe.function: recipe for recipe in self.supervised_recipes}
        if function is None and len(recipes) == 1:
            return next(iter(recipes.values()))
        if function not in recipes:
            raise KeyError(f"{self.name} has no supervised recipe {function!r}; it has {sorted(recipes)}")
        return recipes[function]


#: model_type -> spec of every registered detector, in registration order.
REGISTRY: dict[str, DetectorSpec] = {}


def register_detector(spec: DetectorSpec) -> DetectorSpec:
    """Add a detector to the registry and to transformers' Auto classes (no ``trust_remote_code`` needed).

    Registering the same spec again is harmless; another detector under a taken ``model_type`` or name is refused.

    Args:
        spec: the detector's :class:`DetectorSpec`.

    Returns:
        The spec, so that it can be kept: ``SPEC = register_detector(DetectorSpec(...))``.

    Raises:
        ValueError: when the ``model_type`` or the name belongs to another detector.
    """
    for other in REGISTRY.values():
        if other != spec and (other.model_type == spec.model_type or other.name == spec.name):
            raise ValueError(f"{spec.name} ({spec.model_type}) clashes with the registered {other.name}")
    REGISTRY[spec.model_type] = spec
    AutoConfig.register(spec.model_type, spec.config_class, exist_ok=True)
    AutoModel.register(spec.config_class, spec.model_class, exist_ok=True)
    # Our processors are plain PIL + torch: the same class answers both transformers backends.
    AutoImageProcessor.register(
        spec.config_class,
        image_processor_classes={"pil": spec.processor_class, "torchvision": spec.processor_class},
        exist_ok=True,
    )
    for extra_class in spec.extra_processor_classes:
        register_processor_class(extra_class)
    if spec.image_classifier:
        AutoModelForImageClassification.register(spec.config_class, spec.model_class, exist_ok=True)
    return spec


def register_processor_class(processor_class: type) -> None:
    """Let ``AutoImageProcessor`` find an image processor by the ``image_processor_type`` name its
    ``preprocessor_config.json`` records, whatever the config of the repo (a detector's second processor).

    transformers looks a recorded name up among the registered processors and then picks a backend from the same
    entry, so the class is registered as an entry of its own (keyed by its name) whose every backend is itself.
    """
    from transformers.models.auto.image_processing_auto import IMAGE_PROCESSOR_MAPPING

    backends = {"pil": processor_class, "torchvision": processor_class}
    IMAGE_PROCESSOR_MAPPING.register(processor_class.__name__, backends, exist_ok=True)


def detector_spec(key: Union[str, PretrainedConfig, PreTrainedModel]) -> DetectorSpec:
    """The spec of a detector, looked up by ``model_type``, short name, config or model.

    Raises:
        KeyError: naming the registered detectors, for an unknown one.
    """
    if isinstance(key, PreTrainedModel):
        key = key.config
    if isinstance(key, PretrainedConfig):
        key = key.model_type
    if key in REGISTRY:
        return REGISTRY[key]
    by_name = {spec.name: spec for spec in REGISTRY.values()}
    if key in by_name:
        return by_name[key]
    raise KeyError(f"no detector {key!r} is registered; registered: {sorted(by_name)}")


def detectors(family: Optional[str] = None) -> list[DetectorSpec]:
    """The registered detectors, optionally of one family (``"supervised"``...)."""
    return [spec for spec in REGISTRY.values() if family is None or spec.family == family]


_ONE_CLASS_FEATURES = "one-class-features"

#: The detectors of this package. The semantic SVDD sees the channel statistics of EfficientNet-Lite0's first 3
#: stages at 64 px (rather than the pooled last layer at 128 px), which trains about 5x faster; the edge flow's
#: 1008 wavelet coefficients use small couplings so its weights stay at a few MB (the whitening is 4 MB).
BUILT_IN_DETECTORS: tuple[DetectorSpec, ...] = (
    DetectorSpec(
        "residual_autoencoder", cfg.ResidualAutoencoderConfig, mdl.ResidualAutoencoderModel,
        explanation="Autoencoder error",
        description="A residual convolutional autoencoder trained on real images; its reconstruction error is the score.",
    ),
    DetectorSpec(
        "zero_shot_entropy", cfg.ZeroShotEntropyConfig, mdl.ZeroShotEntropyModel,
        processor_class=NativeCropImageProcessor, explanation="Coding surprise",
        description="A pixel model of real photographs; images it codes more cheaply than it expects score as fake (ZED).",
    ),
    DetectorSpec(
        "reconstruction_ratio", cfg.ReconstructionRatioConfig, mdl.ReconstructionRatioModel,
        processor_class=NativeCropImageProcessor, explanation="Reconstruction ratio",
        description="A pretrained image autoencoder; images it reconstructs more easily than their detail predicts score as fake (AEROBLADE-like, training-free).",
    ),
    DetectorSpec(
        "reconstruction_error", cfg.ReconstructionErrorConfig, mdl.ReconstructionErrorModel,
        processor_class=NativeCropImageProcessor, explanation="Reconstruction error",
        description="A pretrained image autoencoder; images whose ImageNet features it reproduces closely score as fake (AEROBLADE, training-free).",
    ),
    DetectorSpec(
        "deep_svdd", cfg.DeepSVDDConfig, mdl.DeepSVDDModel,
        description="Deep SVDD: a CNN maps real images close to a centre; the distance to it is the score.",
    ),
    DetectorSpec(
        "frequency_vae", cfg.FrequencyVAEConfig, mdl.FrequencyVAEModel,
        description="A VAE on FFT magnitude and phase of real images, with a spectral consistency loss.",
        one_class_recipe=OneClassRecipe(learning_rate=1e-3, weight_decay=1e-6),
    ),
    DetectorSpec(
        "edge_flow", cfg.EdgeFlowConfig, mdl.EdgeFlowModel,
        description="A normalizing flow on multi-scale edge coefficients of real images.",
        one_class_recipe=OneClassRecipe(
            settings=MappingProxyType(dict(num_coupling_layers=4, hidden_size=32)),
            learning_rate=1e-3,
            weight_decay=1e-6,
            statistics_on_all_images=True,  # the whitening is a 1008 x 1008 covariance
        ),
    ),
    DetectorSpec(
        "semantic_svdd", cfg.SemanticSVDDConfig, mdl.SemanticSVDDModel,
        description="Deep SVDD on pretrained EfficientNet-Lite0 features of real images.",
        one_class_recipe=OneClassRecipe(
            settings=MappingProxyType(
                dict(image_size=64, backbone_image_size=64, backbone_stages=3, hidden_size=256, rep_dim=64)
            ),
            learning_rate=1e-4,
            weight_decay=5e-4,
        ),
    ),
    DetectorSpec(
        "texture_ocsvm", cfg.TextureOCSVMConfig, mdl.TextureOCSVMModel, family=_ONE_CLASS_FEATURES,
        description="A One-Class SVM (RBF kernel) on texture features of real images.",
        one_class_recipe=OneClassRecipe(),
    ),
    DetectorSpec(
        "isolation_forest", cfg.IsolationForestConfig, mdl.IsolationForestModel, family=_ONE_CLASS_FEATURES,
        description="An Isolation Forest on frequency and spatial features of real images.",
        one_class_recipe=OneClassRecipe(),
    ),
    DetectorSpec(
        "local_outlier_factor", cfg.LocalOutlierFactorConfig, mdl.LocalOutlierFactorModel,
        family=_ONE_CLASS_FEATURES,
        description="Local Outlier Factor (novelty mode) on multi-scale patch features of real images.",
        one_class_recipe=OneClassRecipe(),
    ),
    DetectorSpec(
        "gaussian_mixture", cfg.GaussianMixtureConfig, mdl.GaussianMixtureModel, family=_ONE_CLASS_FEATURES,
        description="A Gaussian mixture (full covariance) on colour features of real images.",
        one_class_recipe=OneClassRecipe(),
    ),
    DetectorSpec(
        "colour_distribution", cfg.ColourDistributionConfig, mdl.ColourDistributionModel,
        family=_ONE_CLASS_FEATURES,
        description="Mahalanobis distance of RGB histograms and colour moments from those of real images.",
        one_class_recipe=OneClassRecipe(),
    ),
    DetectorSpec(
        "statistical", cfg.StatisticalConfig, mdl.StatisticalModel, family=_ONE_CLASS_FEATURES,
        description="Mahalanobis distance of multi-scale Sobel edge statistics from those of real images.",
        one_class_recipe=OneClassRecipe(),
    ),
    DetectorSpec(
        "ela_cnn", cfg.ElaCnnConfig, mdl.ElaCnnForImageClassification, processor_class=ElaImageProcessor,
        extra_processor_classes=(ElaCropImageProcessor,),
        family="supervised", image_classifier=True, explanation="ELA map",
        description="Error Level Analysis (JPEG re-save difference) stacked with the image, fed to a compact CNN.",
        supervised_recipes=(
            SupervisedRecipe(
                "train_ela_cnn", "scripts/train_ela_cnn.py",
                MappingProxyType(dict(epochs=5.0, batch_size=128, learning_rate=1e-3, weight_decay=1e-4)),
            ),
            SupervisedRecipe(
                "train_ela_cnn_on_crops", "scripts/train_ela_cnn_on_crops.py",
                MappingProxyType(dict(max_steps=1500, batch_size=32, learning_rate=1e-3, weight_decay=1e-4)),
            ),
        ),
    ),
    DetectorSpec(
        "efficientnet", cfg.EfficientNetDetectorConfig, mdl.EfficientNetDetectorForImageClassification,
        extra_processor_classes=(NativeCropImageProcessor,),
        family="supervised", image_classifier=True, explanation="Grad-CAM",
        description="EfficientNet-Lite pretrained on ImageNet, fine-tuned on labelled real and fake images.",
        supervised_recipes=(
            SupervisedRecipe(
                "train_efficientnet", "scripts/train_efficientnet.py",
                MappingProxyType(dict(epochs=4.0, batch_size=64, learning_rate=3e-4, weight_decay=1e-2)),
            ),
            SupervisedRecipe(
                "train_efficientnet_on_crops", "scripts/train_efficientnet_on_crops.py",
                MappingProxyType(dict(max_steps=900, batch_size=32, learning_rate=1e-4, weight_decay=1e-2)),
            ),
        ),
    ),
    DetectorSpec(
        "npr", cfg.NprDetectorConfig, mdl.NprDetectorForImageClassification,
        processor_class=NativeCropImageProcessor, family="supervised", image_classifier=True,
        explanation="Evidence map", explain_with_processor=False,
        description="A small CNN on the neighbouring-pixel residual (NPR) of native-resolution crops.",
        supervised_recipes=(
            SupervisedRecipe(
                "train_npr", "scripts/train_npr.py",
                MappingProxyType(dict(max_steps=4000, batch_size=32, learning_rate=2e-3, weight_decay=1e-4)),
            ),
        ),
    ),
)

for _spec in BUILT_IN_DETECTORS:
    register_detector(_spec)
