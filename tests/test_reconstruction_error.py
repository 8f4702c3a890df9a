"""ReconstructionErrorConfig / ReconstructionErrorModel (training-free AEROBLADE on EfficientNet-Lite0 features)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import labelled_crop_splits, load_script
from PIL import Image
from safetensors import safe_open
from test_reconstruction_ratio import assert_saved_repo_loads_and_scores, box_blur, tiny_autoencoder_files
from transformers import AutoConfig

from deepfake_detectors import (
    ReconstructionErrorConfig,
    ReconstructionErrorModel,
)
from deepfake_detectors.features.backbones import load_efficientnet_lite0
from deepfake_detectors.modeling import reconstruction_ratio

TINY = dict(image_size=16)


def test_config_validation_and_json_round_trip(tmp_path: Path) -> None:
    for bad, match in [(dict(feature_blocks=4), "between 0 and 3"), (dict(image_size=20), "multiple of 8")]:
        with pytest.raises(ValueError, match=match):
            ReconstructionErrorConfig(**bad)
    config = ReconstructionErrorConfig(image_size=64, feature_blocks=1, crops_per_side=2)
    config.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "deepfake-reconstruction-error"
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, ReconstructionErrorConfig)
    assert (loaded.feature_blocks, loaded.crops_per_side, loaded.image_size) == (1, 2, 64)


def test_score_is_minus_log_of_the_normalised_feature_error(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ReconstructionErrorModel(ReconstructionErrorConfig(**TINY)).eval()
    monkeypatch.setattr(model, "reconstruct", box_blur)
    torch.manual_seed(0)
    pixels = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        features = [model.features(model.feature_input(p)) for p in (pixels, box_blur(pixels))]
    unit = [f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10) for f in features]
    expected = -torch.log((unit[0] - unit[1]).pow(2).sum(1).mean())
    assert torch.allclose(model(pixels * 2 - 1).scores, expected[None], atol=1e-4)
    # an image the autoencoder reproduces closely (smooth content survives the blur) scores higher than fine detail
    ramp = torch.linspace(0, 1, 16).view(1, 1, 1, 16).expand(1, 3, 16, 16)
    assert model(ramp * 2 - 1).scores.item() > model(pixels * 2 - 1).scores.item()


def test_crops_combine_whatever_the_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ReconstructionErrorModel(ReconstructionErrorConfig(**TINY, crop_aggregation="max_logit")).eval()
    crops = torch.rand(2, 4, 3, 16, 16) * 2 - 1
    per_crop = model(crops.flatten(0, 1)).scores.view(2, 4)
    assert torch.allclose(model(crops).scores, per_crop.max(1).values)
    monkeypatch.setattr(reconstruction_ratio, "RECONSTRUCTION_CHUNK", 3)
    assert torch.allclose(model(crops.flatten(0, 1)).scores.view(2, 4), per_crop, atol=1e-5)
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.zeros(1, 3, 16, 12))


def test_pretrained_weights_load_save_and_run_in_the_pipeline(tmp_path: Path) -> None:
    encoder_path, decoder_path = tiny_autoencoder_files(tmp_path)
    model = ReconstructionErrorModel.from_tiny_autoencoder(encoder_path, decoder_path, ReconstructionErrorConfig(**TINY))
    expected = torch.load(decoder_path, weights_only=True)
    assert all(torch.equal(model.decoder.state_dict()[key], value) for key, value in expected.items())
    imagenet_stem = load_efficientnet_lite0(num_classes=0).conv_stem.weight
    assert torch.equal(model.features[0].weight, imagenet_stem)  # the ImageNet weights, not a random start
    assert_saved_repo_loads_and_scores(model, "reconstruction_error", tmp_path)


def test_explanation_covers_the_whole_image() -> None:
    model = ReconstructionErrorModel(ReconstructionErrorConfig(**TINY)).eval()
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (48, 40, 3), dtype=np.uint8))
    explanation = model.explain(image)
    assert explanation.heatmap.shape == (48, 40) and explanation.probability is None
    assert explanation.method == "reconstruction error" and 0 <= explanation.heatmap.min() <= explanation.heatmap.max() <= 1


def test_build_script_makes_the_feature_error_detector_calibrated_on_validation(tmp_path: Path) -> None:
    dataset = str(labelled_crop_splits(tmp_path, per_class=3, splits=("validation", "test")))
    encoder_path, decoder_path = tiny_autoencoder_files(tmp_path)
    out = tmp_path / "error"
    load_script("build_reconstruction_ratio").main(
        ["--score", "feature-error", "--encoder", str(encoder_path), "--decoder", str(decoder_path),
         "--crop-size", "16", "--dataset", dataset, "--output-dir", str(out)])
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "deepfake-reconstruction-error" and config["feature_blocks"] == 2
    assert "EfficientNet-Lite0" in config["training"]["weights"] and config["training"]["calibration_split"] == "validation"
    assert config["calibration"]["n_real"] == 3 and "optimal" in config["calibration"]["thresholds"]
    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        dtypes = {weights.get_tensor(key).dtype for key in weights.keys()}
        assert dtypes == {torch.float16, torch.int64}  # int64: batch norm's num_batches_tracked counters
        assert any(key.startswith("features.") for key in weights.keys())


def test_reduced_precision_runs_only_the_autoencoder_in_bfloat16() -> None:
    """``set_reduced_precision``: the encoder and decoder compute in bfloat16, the feature stages and the score stay
    float32 and close to the float32 score; switching back gives the float32 score exactly."""
    torch.manual_seed(0)
    model = ReconstructionErrorModel(ReconstructionErrorConfig(**TINY)).eval()
    seen: list[tuple[str, torch.dtype]] = []
    for name in ("decoder", "features"):
        record = lambda module, inputs, output, name=name: seen.append((name, output.dtype))  # noqa: E731
        getattr(model, name).register_forward_hook(record)
    pixels = torch.rand(2, 3, 16, 16) * 2 - 1
    floats = {("decoder", torch.float32), ("features", torch.float32)}
    with torch.no_grad():
        full = model(pixels).scores
        assert set(seen) == floats
        seen.clear()
        assert model.set_reduced_precision(True) is True and model.reduced_precision
        reduced = model(pixels).scores
        assert set(seen) == {("decoder", torch.bfloat16), ("features", torch.float32)}
        seen.clear()
        model.set_reduced_precision(False)
        again = model(pixels).scores
        assert set(seen) == floats
    assert reduced.dtype == torch.float32 and torch.allclose(reduced, full, atol=0.05)
    assert torch.equal(again, full)


def test_bfloat16_precision_keeps_the_imagenet_features_in_float32_and_the_verdicts() -> None:
    """The released detector with ``set_precision("bfloat16")``: only its autoencoder switches (the Lite0 feature
    stages, whose small differences make the score, stay float32); scores move by a few hundredths (bfloat16 results
    also depend on how the batch is laid out), so a verdict far from the threshold stands. A detector without such a
    part says so and stays float32."""
    from deepfake_detectors import EnsembleDeepfakeDetector

    repo = Path(__file__).resolve().parents[1] / "hub_repos"
    photos = [repo.parent / "examples" / name for name in ("photo_real_01.jpg", "photo_fake_01.jpg")]
    detector = EnsembleDeepfakeDetector.from_pretrained(repo / "deepfake-reconstruction-error", device="cpu")
    full = detector.predict(photos)
    model = detector.members["reconstruction_error"]
    seen: list[torch.dtype] = []
    model.features.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    assert detector.set_precision("bfloat16") == ["reconstruction_error"] and "precision='bfloat16'" in repr(detector)
    reduced = detector.predict(photos)
    assert seen and set(seen) == {torch.float32}
    assert all(abs(after.score - before.score) < 0.06 for before, after in zip(full, reduced))
    assert reduced[0].score != full[0].score
    real_photo_margin = full[0].threshold - full[0].score  # 1.65 score units below the threshold
    assert real_photo_margin > 1.0 and reduced[0].is_fake is False
    assert detector.set_precision("float32") == [] and detector.predict(photos)[0].score == full[0].score
    with pytest.raises(ValueError, match="float32"):
        detector.set_precision("float16")
    npr = EnsembleDeepfakeDetector.from_pretrained(repo / "deepfake-npr-detector", device="cpu")
    with pytest.warns(UserWarning, match="supports bfloat16"):
        assert npr.set_precision("bfloat16") == []
    assert npr.precision == "float32"


def test_cards_offer_bfloat16_only_where_it_was_measured() -> None:
    """The card line on ``--precision bfloat16`` names the member and the measurement, and both cards that contain
    the reconstruction-error detector carry it; a detector without a bfloat16 path gets no such line."""
    from deepfake_detectors import EnsembleDeepfakeDetector
    from deepfake_detectors.cards import reduced_precision_sentence

    repo = Path(__file__).resolve().parents[1] / "hub_repos"
    detector = EnsembleDeepfakeDetector.from_pretrained(repo / "deepfake-reconstruction-error", device="cpu")
    sentence = reduced_precision_sentence(detector.members)
    assert "`reconstruction_error`" in sentence and "docs/experiments/bfloat16_inference.py" in sentence
    for card in ("deepfake-reconstruction-error", "deepfake-detector"):
        assert sentence in (repo / card / "README.md").read_text()
    npr = EnsembleDeepfakeDetector.from_pretrained(repo / "deepfake-npr-detector", device="cpu")
    assert reduced_precision_sentence(npr.members) == ""
    assert "set_precision" not in (repo / "deepfake-npr-detector" / "README.md").read_text()
