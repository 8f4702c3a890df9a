"""EnsembleDeepfakeDetector: predict, thresholds, calibration, save / load, bad inputs, bundled weights."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO_ROOT, noisy_image, smooth_image, upsampled_image
from deepfake_detectors.domain import DomainDescription, image_statistics
from deepfake_detectors.evaluation import evaluate_detector
from deepfake_detectors.pipeline.thresholds import judged_out_of_domain
from deepfake_detectors import (
    DeepfakeImageProcessor,
    DeepSVDDConfig,
    DeepSVDDModel,
    DetectionResult,
    EnsembleDeepfakeDetector,
    ImageLoadError,
    ResidualAutoencoderConfig,
    ResidualAutoencoderModel,
)


def _fit(model: torch.nn.Module, pixels: torch.Tensor, steps: int = 40) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(pixels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()


@pytest.fixture(scope="module")
def ensemble() -> EnsembleDeepfakeDetector:
    """A tiny autoencoder + Deep SVDD ensemble fitted on smooth images, calibrated with noise as the fakes."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    processor = DeepfakeImageProcessor(size=32)
    train = processor([smooth_image(rng) for _ in range(32)])["pixel_values"]
    autoencoder = ResidualAutoencoderModel(
        ResidualAutoencoderConfig(image_size=32, hidden_sizes=[4, 8, 8, 16, 16], latent_dim=8)
    )
    _fit(autoencoder, train)
    svdd = DeepSVDDModel(DeepSVDDConfig(image_size=32, hidden_sizes=[4, 8], rep_dim=8))
    svdd.fit_initial_statistics([train])
    _fit(svdd, train, steps=20)
    detector = EnsembleDeepfakeDetector.from_members(
        {"autoencoder": (autoencoder, processor), "deep_svdd": (svdd, processor)},
        weights={"autoencoder": 0.5, "deep_svdd": 0.5},
        device="cpu",
    )
    detector.calibrate([smooth_image(rng) for _ in range(40)], [noisy_image(rng) for _ in range(40)])
    return detector


def test_single_image_unpacks_to_score_and_verdict(ensemble, image_folder: Path) -> None:
    score, is_fake = ensemble.predict(image_folder / "FAKE" / "fake_0.png", threshold="optimal")
    assert isinstance(score, float) and is_fake is True
    score, is_fake = ensemble.predict(image_folder / "real" / "real_0.png", threshold="optimal")
    assert is_fake is False


def test_batch_keeps_order_and_survives_a_corrupt_file(ensemble, image_folder: Path) -> None:
    inputs = [image_folder / "real" / "real_1.png", image_folder / "real" / "broken.jpg", noisy_image(np.random.default_rng(5))]
    results = ensemble.predict(inputs, threshold="optimal")
    assert [r.label for r in results] == ["real", "error", "fake"]
    assert "broken.jpg" in results[1].error and results[1].score is None
    assert set(results[0].member_scores) == {"autoencoder", "deep_svdd"}
    assert results[2].as_pipeline_output()[0]["label"] == "fake"
    row = results[0].to_dict()
    assert json.loads(json.dumps(row))["label"] == "real"


def test_single_unreadable_input_raises_naming_the_file(ensemble, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    with pytest.raises(ImageLoadError, match="bad.png"):
        ensemble.predict(bad)


def test_thresholds_named_and_manual_take_effect(ensemble, image_folder: Path) -> None:
    calibration = ensemble.calibration
    assert calibration.thresholds["strict"] >= calibration.thresholds["balanced"] >= calibration.thresholds["sensitive"]
    assert "optimal" in calibration.thresholds
    image = image_folder / "real" / "real_2.png"
    score = ensemble.predict(image).score
    try:
        assert ensemble.set_threshold(f"score:{score - 1e-6}") == (pytest.approx(score - 1e-6), "manual")
        assert ensemble.predict(image).is_fake is True
        ensemble.set_threshold(f"score:{score + 1e-6}")
        assert ensemble.predict(image).is_fake is False
        # a number is a probability: the cut sits where the calibrated P(fake) equals it
        probability = ensemble.predict(image).calibrated_probability
        ensemble.set_threshold(min(probability * 1.01, 0.999))
        assert ensemble.predict(image).is_fake is False
        ensemble.set_threshold(probability * 0.99)
        assert ensemble.predict(image).is_fake is True
        for not_a_probability in (0, 1, 2.5, -1):
            with pytest.raises(ValueError, match="between 0 and 1"):
                ensemble.set_threshold(not_a_probability)
        value, name = ensemble.set_threshold("strict")
        assert name == "strict" and value == calibration.thresholds["strict"]
        assert ensemble.predict(image).threshold_name == "strict"
        with pytest.raises(ValueError, match="unknown threshold"):
            ensemble.set_threshold("paranoid")
    finally:
        ensemble.set_threshold("balanced")


def test_balanced_threshold_is_the_95th_percentile_of_combined_real_scores(ensemble) -> None:
    rng = np.random.default_rng(0)
    # Recompute from scratch on fresh real images: about 5% of real images should exceed "balanced".
    real = [smooth_image(rng) for _ in range(200)]
    scores, _, _ = ensemble.score_images(real)
    exceed = float(np.mean(scores >= ensemble.calibration.thresholds["balanced"]))
    assert exceed < 0.2


def test_save_and_load_round_trip(ensemble, tmp_path: Path, image_folder: Path) -> None:
    ensemble.save_pretrained(tmp_path / "repo")
    files = {p.relative_to(tmp_path / "repo").as_posix() for p in (tmp_path / "repo").rglob("*") if p.is_file()}
    for expected in (
        "config.json",
        "thresholds_calibrated.json",
        "members/autoencoder/model.safetensors",
        "members/autoencoder/config.json",
        "members/autoencoder/preprocessor_config.json",
        "members/deep_svdd/model.safetensors",
    ):
        assert expected in files
    assert not any(name.endswith((".bin", ".pkl", ".pt")) for name in files)
    loaded = EnsembleDeepfakeDetector.from_pretrained(tmp_path / "repo", device="cpu", local_files_only=True)
    images = sorted((image_folder / "FAKE").glob("*.png")) + sorted((image_folder / "real").glob("*.png"))
    before = [r.score for r in ensemble.predict(images)]
    after = [r.score for r in loaded.predict(images)]
    assert before == after
    assert loaded.threshold == ensemble.threshold


def test_single_detector_repo_loads_as_one_member_ensemble(ensemble, tmp_path: Path, image_folder: Path) -> None:
    member = ensemble.members["autoencoder"]
    member.save_pretrained(tmp_path / "ae")
    ensemble.processors["autoencoder"].save_pretrained(tmp_path / "ae")
    single = EnsembleDeepfakeDetector.from_pretrained(tmp_path / "ae", device="cpu")
    assert list(single.members) == ["residual_autoencoder"]
    result = single.predict(image_folder / "FAKE" / "fake_1.png")
    assert result.member_scores["residual_autoencoder"] == pytest.approx(result.score)
    raw = ensemble.raw_member_scores([noisy_image(np.random.default_rng(3))])["autoencoder"]
    assert np.isfinite(raw).all()


def test_missing_repo_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="neither a local model directory"):
        EnsembleDeepfakeDetector.from_pretrained("no-such-user/no-such-model", local_files_only=True)


def test_detection_result_unpacks() -> None:
    result = DetectionResult("x.png", 1.5, True, 1.0, "balanced", probability=0.8)
    score, is_fake = result
    assert (score, is_fake) == (1.5, True)
    assert result.as_pipeline_output() == [{"label": "fake", "score": 0.8}, {"label": "real", "score": pytest.approx(0.2)}]


BUNDLED = REPO_ROOT / "hub_repos" / "deepfake-ensemble-detector"


@pytest.mark.skipif(not BUNDLED.exists(), reason="bundled ensemble weights not built yet")
def test_bundled_ensemble_scores_the_examples() -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(BUNDLED, device="cpu", local_files_only=True)
    assert set(detector.members) == {"residual_autoencoder", "deep_svdd"}
    assert [m["weight"] for m in detector.config.members] == [0.5, 0.5]
    results = detector.predict(sorted(str(p) for p in (REPO_ROOT / "examples").glob("[fr]*_0*.jpg")))  # CIFAKE ones
    assert len(results) == 8 and all(r.error is None for r in results)
    fake = np.mean([r.score for r in results if "fake_" in r.source])
    real = np.mean([r.score for r in results if "real_" in r.source])
    assert fake > real


def test_loads_a_repo_id_from_the_hub_cache_offline(ensemble, tmp_path: Path, image_folder: Path) -> None:
    """A repo id resolves through the Hugging Face cache layout with no network (local_files_only)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    cache = tmp_path / "cache"
    snapshot = cache / "models--someone--tiny-ensemble" / "snapshots" / commit
    ensemble.save_pretrained(snapshot)
    (cache / "models--someone--tiny-ensemble" / "refs").mkdir(parents=True)
    (cache / "models--someone--tiny-ensemble" / "refs" / "main").write_text(commit)
    loaded = EnsembleDeepfakeDetector.from_pretrained(
        "someone/tiny-ensemble", cache_dir=cache, local_files_only=True, device="cpu"
    )
    image = image_folder / "FAKE" / "fake_2.png"
    assert loaded.predict(image).score == pytest.approx(ensemble.predict(image).score, rel=1e-5)


def test_push_to_hub_uploads_what_save_pretrained_writes(ensemble, tmp_path: Path, monkeypatch) -> None:
    import huggingface_hub

    calls: dict = {}

    def fake_create_repo(self, repo_id, private=None, exist_ok=False, **kwargs):
        calls["created"] = (repo_id, private, exist_ok)

    def fake_upload_folder(self, repo_id, folder_path, commit_message=None, **kwargs):
        root = Path(folder_path)
        calls["files"] = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        return "https://huggingface.co/someone/x/commit/abc"

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", fake_create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", fake_upload_folder)
    url = ensemble.push_to_hub("someone/x", token="hf_test", private=True)
    assert url.endswith("abc") and calls["created"] == ("someone/x", True, True)
    ensemble.save_pretrained(tmp_path / "local")
    local = sorted(p.relative_to(tmp_path / "local").as_posix() for p in (tmp_path / "local").rglob("*") if p.is_file())
    assert calls["files"] == local


def test_brightness_normalisation_is_fitted_on_real_images_saved_and_applied(
    ensemble, tmp_path: Path, image_folder: Path
) -> None:
    import copy

    from deepfake_detectors.processing import load_image, mean_luma

    rng = np.random.default_rng(5)
    detector = copy.deepcopy(ensemble)
    # Real images over a range of brightness (a smooth image scaled), fakes as noise.
    real = []
    for factor in np.linspace(0.3, 1.6, 60):
        pixels = np.clip(np.asarray(smooth_image(rng), dtype=np.float64) * factor, 0, 255).astype(np.uint8)
        real.append(Image.fromarray(pixels))
    fake = [noisy_image(rng) for _ in range(30)]
    detector.calibrate(real, fake, normalise_brightness=True)
    normalisation = detector.config.get_brightness_normalisation()
    assert normalisation is not None and normalisation.n_real == len(real)  # fitted on the real images only
    # The combined score is the weighted mean, normalised with the real images' mean luma.
    raw = detector.raw_scores(real)
    brightness = mean_luma([load_image(image) for image in real])
    weighted, _ = detector.weighted_mean(raw)
    combined, _ = detector.combine(raw, brightness)
    np.testing.assert_allclose(combined, normalisation.apply(weighted, brightness))
    with pytest.raises(ValueError, match="mean_luma"):
        detector.combine(raw)
    scores, _, _ = detector.score_images(real)
    np.testing.assert_allclose(scores, combined)
    # Saved with the config, and the reloaded ensemble scores the same.
    detector.save_pretrained(tmp_path / "repo")
    saved = json.loads((tmp_path / "repo" / "config.json").read_text())
    assert saved["brightness_normalisation"] == normalisation.to_dict()
    loaded = EnsembleDeepfakeDetector.from_pretrained(tmp_path / "repo", device="cpu")
    images = sorted((image_folder / "FAKE").glob("*.png")) + sorted((image_folder / "real").glob("*.png"))
    assert [r.score for r in loaded.predict(images)] == [r.score for r in detector.predict(images)]
    # Calibrating again without brightness removes the normalisation.
    detector.calibrate(real, fake)
    assert detector.config.brightness_normalisation is None


def test_batches_end_early_at_the_byte_budget(monkeypatch, ensemble) -> None:
    """A batch holds at most BATCH_BYTE_BUDGET bytes of decoded pixels (at least one image), whatever batch_size."""
    from PIL import Image

    from deepfake_detectors.pipeline import scoring

    monkeypatch.setattr(scoring, "BATCH_BYTE_BUDGET", 3 * 64 * 64 * 3)
    images = [Image.new("RGB", (64, 64), (index, 0, 0)) for index in range(7)] + [Image.new("RGB", (200, 200))]
    batches = [list(positions) for positions, *_ in ensemble.score_batches(images, batch_size=64)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6, 7]]
    whole, _, errors = ensemble.score_images(images, batch_size=64)
    assert np.isfinite(whole).all() and errors == [None] * 8
    one_by_one = [ensemble.score_images([image])[0][0] for image in images]
    assert np.allclose(whole, one_by_one)


def test_loading_float64_members_never_switches_the_default_dtype_to_float64(monkeypatch) -> None:
    """Six members of the nine-member ensemble hold float64 statistics; building them must not flip the
    process-wide default dtype (two parallel cold loads in a Space could leave it at float64 for every request)."""
    defaults_set: list[torch.dtype] = []
    original = torch.set_default_dtype

    def record(dtype: torch.dtype) -> None:
        defaults_set.append(dtype)
        original(dtype)

    monkeypatch.setattr(torch, "set_default_dtype", record)
    detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / "fake-image-detection-ensemble")
    assert torch.float64 not in defaults_set
    assert torch.get_default_dtype() == torch.float32
    statistical = detector.members["statistical"]
    assert statistical.block_precision.dtype == torch.float64  # the fitted statistics keep their precision


def _single_detector_with_domain(ensemble) -> EnsembleDeepfakeDetector:
    """A copy of the fixture's autoencoder as a single detector whose domain is 32 px images (64 px are outside)."""
    rng = np.random.default_rng(5)
    member = copy.deepcopy(ensemble.members["autoencoder"])
    detector = EnsembleDeepfakeDetector.from_members(
        {"residual_autoencoder": (member, ensemble.processors["autoencoder"])}, device="cpu"
    )
    training = [smooth_image(rng) for _ in range(30)] + [noisy_image(rng) for _ in range(30)]
    detector.domain = DomainDescription.fit(image_statistics(training), "32 px test images", components=1)
    return detector


def test_out_of_domain_calibration_judges_only_the_images_the_domain_check_rejects(ensemble, tmp_path: Path) -> None:
    detector = _single_detector_with_domain(ensemble)
    rng = np.random.default_rng(6)
    photo_reals = [smooth_image(rng, size=64) for _ in range(60)]
    photo_fakes = [upsampled_image(rng, 64) for _ in range(60)]
    with pytest.raises(ValueError, match="out of this detector's domain"):  # 32 px images are in its domain
        detector.calibrate_out_of_domain([smooth_image(rng) for _ in range(60)], [noisy_image(rng) for _ in range(60)])
    outside = detector.calibrate_out_of_domain(photo_reals, photo_fakes)
    real_scores = detector.score_images(photo_reals)[0]
    assert outside.n_real == 60 and outside.n_fake == 60
    assert outside.thresholds["balanced"] == pytest.approx(np.percentile(real_scores, 95))
    assert outside.calibration_error["cross_fitted"] is not None
    # Only images far outside the domain take it: the tail just below the domain's limit keeps the in-domain one.
    far = detector.score_images(photo_reals[:3], return_domain=True)[3]
    assert detector.domain.limit > outside.applies_below >= max(check[2] for check in far)
    rule = detector.applied_thresholds()[1]
    tail = (False, "tail", (detector.domain.limit + outside.applies_below) / 2 + 1.0)
    assert [judged_out_of_domain(check, rule) for check in (far[0], tail, (True, None, 0.0))] == [True, False, False]

    small, large = smooth_image(rng), smooth_image(rng, size=64)
    in_domain, out_of_domain = detector.predict([small, large])
    assert in_domain.in_domain and in_domain.calibration_domain == "in-domain"
    assert in_domain.threshold == pytest.approx(detector.calibration.thresholds["balanced"])
    assert out_of_domain.in_domain is False and out_of_domain.calibration_domain == "out-of-domain"
    assert out_of_domain.threshold == pytest.approx(outside.thresholds["balanced"])
    assert out_of_domain.is_fake == (out_of_domain.score >= outside.thresholds["balanced"])
    assert out_of_domain.calibrated_probability == pytest.approx(float(outside.probability(out_of_domain.score)))
    assert (out_of_domain.probability >= 0.5) == out_of_domain.is_fake
    # A probability threshold means the same probability on either calibration; a score cut the same number.
    for result, calibration in ((in_domain, detector.calibration), (out_of_domain, outside)):
        again = detector.predict([small, large], threshold=0.7)[[in_domain, out_of_domain].index(result)]
        assert again.threshold == pytest.approx(calibration.score_for_probability(0.7))
    assert {r.threshold for r in detector.predict([small, large], threshold="score:1.25")} == {1.25}
    # A repo whose default is `optimal` keeps `balanced` out of its domain until a threshold is chosen.
    detector._threshold = "optimal"
    inside_rule, outside_rule = detector.applied_thresholds()
    assert (inside_rule.name, outside_rule.name) == ("optimal", "balanced")
    detector.set_threshold("optimal")
    assert detector.applied_thresholds()[1].value == pytest.approx(outside.thresholds["optimal"])
    detector.set_threshold("balanced")

    # Saved with the detector (its config.json, raw scale) and loaded back to the same verdicts.
    repo = tmp_path / "single"
    member = detector.members["residual_autoencoder"]
    member.save_pretrained(repo)
    detector.processors["residual_autoencoder"].save_pretrained(repo)
    detector.domain.save(repo / "domain.safetensors")
    loaded = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    assert loaded.out_of_domain_calibration.thresholds["balanced"] == pytest.approx(outside.thresholds["balanced"])
    reloaded = loaded.predict(large)
    assert (reloaded.threshold, reloaded.is_fake) == (pytest.approx(out_of_domain.threshold), out_of_domain.is_fake)
    # And in an ensemble folder's thresholds_calibrated.json.
    as_ensemble = EnsembleDeepfakeDetector.from_pretrained(loaded.save_pretrained(tmp_path / "ensemble"), device="cpu")
    assert as_ensemble.predict(large).threshold == pytest.approx(out_of_domain.threshold)


def test_evaluate_applies_the_out_of_domain_calibration_per_image(ensemble, tmp_path: Path) -> None:
    detector = _single_detector_with_domain(ensemble)
    rng = np.random.default_rng(7)
    detector.calibrate_out_of_domain([smooth_image(rng, 64) for _ in range(60)],
                                     [upsampled_image(rng, 64) for _ in range(60)])
    for name, images in (("real", [smooth_image(rng, 64) for _ in range(8)] + [smooth_image(rng) for _ in range(8)]),
                         ("fake", [upsampled_image(rng, 64) for _ in range(8)])):
        (tmp_path / "data" / name).mkdir(parents=True)
        for index, image in enumerate(images):
            image.save(tmp_path / "data" / name / f"{index:02d}.png")
    results = evaluate_detector(detector, str(tmp_path / "data"), split="test", output_dir=str(tmp_path / "out"))
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    judged_outside = [row["calibration_domain"] == "out-of-domain" for row in rows]
    assert results["out_of_domain_calibrated"] == pytest.approx(np.mean(judged_outside)) and sum(judged_outside) == 16
    assert all(row["in_domain"] is False for row, outside in zip(rows, judged_outside) if outside)
    inside, outside = detector.applied_thresholds()
    assert results["out_of_domain_threshold"] == pytest.approx(outside.value) and outside.value != inside.value
    for row, judged in zip(rows, judged_outside):
        rule = outside if judged else inside
        assert row["is_fake"] == (row["score"] >= rule.value)
        assert row["probability"] == pytest.approx(float(rule.probability(np.array([row["score"]]))[0]))
    flagged = sum(row["is_fake"] for row in rows)
    assert results["confusion_matrix"][0][1] + results["confusion_matrix"][1][1] == flagged
