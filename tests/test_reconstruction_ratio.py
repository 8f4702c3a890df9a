"""ReconstructionRatioConfig / ReconstructionRatioModel (the training-free AEROBLADE-style detector)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F
from transformers import AutoConfig, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import NativeCropImageProcessor, ReconstructionRatioConfig, ReconstructionRatioModel
from deepfake_detectors.modeling.tiny_autoencoder import tiny_decoder, tiny_encoder
from deepfake_detectors.training.training_free import calibrate_and_save_training_free

TINY = dict(image_size=16)


def tiny_autoencoder_files(tmp_path: Path, seed: int = 0) -> tuple[Path, Path]:
    """Random weights in the taef2 layout, saved as the two ``.pth`` state dicts madebyollin/taesd publishes."""
    torch.manual_seed(seed)
    paths = tmp_path / "taef2_encoder.pth", tmp_path / "taef2_decoder.pth"
    torch.save(tiny_encoder(32, True).state_dict(), paths[0])
    torch.save(tiny_decoder(32, True).state_dict(), paths[1])
    return paths


def box_blur(pixels: torch.Tensor) -> torch.Tensor:
    """A stand-in autoencoder that keeps smooth content and loses fine detail, as a real one does."""
    return F.avg_pool2d(F.pad(pixels, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def test_config_validation_and_json_round_trip(tmp_path: Path) -> None:
    for bad, match in [(dict(image_size=20), "multiple of 8"), (dict(crops_per_side=None), "crops_per_side"),
                       (dict(crop_aggregation="median"), "crop_aggregation"), (dict(latent_channels=0), "positive")]:
        with pytest.raises(ValueError, match=match):
            ReconstructionRatioConfig(**bad)
    config = ReconstructionRatioConfig(image_size=64, crops_per_side=2, calibration={"mean": 0.1, "std": 0.2, "n_real": 3})
    config.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "deepfake-reconstruction-ratio"
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, ReconstructionRatioConfig)
    for key in ("image_size", "crops_per_side", "latent_channels", "global_context", "calibration"):
        assert getattr(loaded, key) == getattr(config, key)


def test_score_is_the_log_ratio_of_second_to_first_reconstruction_error(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ReconstructionRatioModel(ReconstructionRatioConfig(**TINY)).eval()
    monkeypatch.setattr(model, "reconstruct", box_blur)
    torch.manual_seed(0)
    pixels = torch.rand(1, 3, 16, 16)
    first, second = box_blur(pixels), box_blur(box_blur(pixels))
    expected = torch.log((first - second).abs().mean()) - torch.log((pixels - first).abs().mean())
    assert torch.allclose(model(pixels * 2 - 1).scores, expected[None], atol=1e-5)
    # an image that already is a reconstruction (as a decoder's output is) loses little in the first pass: it scores
    # higher than the detailed image it came from
    assert model(first * 2 - 1).scores.item() > model(pixels * 2 - 1).scores.item()


def test_crops_combine_whatever_the_chunking_and_sides_must_be_multiples_of_8(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepfake_detectors.modeling import reconstruction_ratio

    model = ReconstructionRatioModel(ReconstructionRatioConfig(**TINY, crop_aggregation="max_logit")).eval()
    crops = torch.rand(2, 4, 3, 16, 16) * 2 - 1
    per_crop = model(crops.flatten(0, 1)).scores.view(2, 4)
    assert torch.allclose(model(crops).scores, per_crop.max(1).values)
    monkeypatch.setattr(reconstruction_ratio, "RECONSTRUCTION_CHUNK", 3)
    assert torch.allclose(model(crops.flatten(0, 1)).scores.view(2, 4), per_crop, atol=1e-6)
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.zeros(1, 3, 16, 12))


def test_pretrained_weights_load_save_and_run_in_the_pipeline(tmp_path: Path) -> None:
    encoder_path, decoder_path = tiny_autoencoder_files(tmp_path)
    model = ReconstructionRatioModel.from_tiny_autoencoder(encoder_path, decoder_path, ReconstructionRatioConfig(**TINY))
    expected = torch.load(decoder_path, weights_only=True)
    assert all(torch.equal(model.decoder.state_dict()[key], value) for key, value in expected.items())
    assert_saved_repo_loads_and_scores(model, "reconstruction_ratio", tmp_path)


def test_explanation_covers_the_whole_image() -> None:
    model = ReconstructionRatioModel(ReconstructionRatioConfig(**TINY)).eval()
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (48, 40, 3), dtype=np.uint8))
    explanation = model.explain(image)
    assert explanation.heatmap.shape == (48, 40) and explanation.probability is None
    assert explanation.method == "reconstruction ratio" and 0 <= explanation.heatmap.min() <= explanation.heatmap.max() <= 1


def test_build_script_calibrates_on_validation_only_and_stores_float16(tmp_path: Path) -> None:
    from conftest import labelled_crop_splits, load_script

    dataset = str(labelled_crop_splits(tmp_path, per_class=3, splits=("validation", "test")))
    encoder_path, decoder_path = tiny_autoencoder_files(tmp_path)
    out = tmp_path / "ratio"
    load_script("build_reconstruction_ratio").main(
        ["--encoder", str(encoder_path), "--decoder", str(decoder_path), "--crop-size", "16", "--dataset", dataset,
         "--output-dir", str(out)])
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["training"].startswith("none") and config["training"]["calibration_split"] == "validation"
    assert config["calibration"]["n_real"] == 3 and "optimal" in config["calibration"]["thresholds"]
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        assert {weights.get_tensor(key).dtype for key in weights.keys()} == {torch.float16}
    model = ReconstructionRatioModel.from_tiny_autoencoder(encoder_path, decoder_path, ReconstructionRatioConfig(**TINY))
    with pytest.raises(ValueError, match="never a test split"):
        calibrate_and_save_training_free(model, dataset, str(tmp_path / "no"), calibration_split="test")


def assert_saved_repo_loads_and_scores(model: ReconstructionRatioModel, member: str, tmp_path: Path) -> None:
    """Save ``model`` as a repo; it must reload through ``AutoModel`` with the same scores, and its pipeline must score
    a photo, mark an image smaller than a crop out of domain and name a corrupt file."""
    from deepfake_detectors import EnsembleDeepfakeDetector

    out = tmp_path / "repo"
    model.save_pretrained(out)
    model.default_processor().save_pretrained(out)
    assert (out / "model.safetensors").exists() and not list(out.glob("*.bin"))
    loaded, info = AutoModel.from_pretrained(out, output_loading_info=True)
    assert type(loaded) is type(model)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    pixels = torch.rand(2, 1, 3, 16, 16) * 2 - 1
    assert torch.equal(model.eval()(pixels).scores, loaded.eval()(pixels).scores)
    detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    processor = detector.processors[member]
    assert isinstance(processor, NativeCropImageProcessor) and processor.crop_size == 16 and processor.upscale_small
    rng = np.random.default_rng(1)
    photos = [Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)) for _ in range(6)]
    detector.calibrate(photos[:3], photos[3:])
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"not an image")
    small = Image.fromarray(np.full((10, 12, 3), 128, np.uint8))
    large, enlarged, broken = detector.predict([photos[0], small, str(corrupt)])
    assert large.error is None and np.isfinite(large.score) and large.in_domain is not False
    # enlarged pixels are easy to reconstruct: an image smaller than a crop is scored but marked out of domain
    assert enlarged.error is None and enlarged.in_domain is False and "smaller than the 16 px crop" in enlarged.domain_note
    assert broken.error is not None and "broken.jpg" in broken.error


def test_the_ratio_refuses_reduced_precision() -> None:
    """Its bfloat16 scores failed the rule of ``docs/experiments/bfloat16_inference.py``: it stays float32."""
    model = ReconstructionRatioModel(ReconstructionRatioConfig(image_size=16)).eval()
    seen: list[torch.dtype] = []
    model.decoder.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    assert model.set_reduced_precision(True) is False and not model.reduced_precision
    with torch.no_grad():
        model(torch.zeros(1, 3, 16, 16))
    assert seen and set(seen) == {torch.float32}
