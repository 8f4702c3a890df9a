"""The 9-member one-class ensemble: shared features, weighting, leave-one-out, the training script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import CIFAKE, REPO_ROOT, SHARED_DATA, load_script, noisy_image, smooth_image
from PIL import Image

from deepfake_detectors import (
    ColourDistributionConfig,
    ColourDistributionModel,
    DeepfakeImageProcessor,
    EnsembleDeepfakeDetector,
    GaussianMixtureConfig,
    GaussianMixtureModel,
    StatisticalConfig,
    StatisticalModel,
)
from deepfake_detectors.evaluation.ablation import (
    complexity_ablation,
    noise_sanity_check,
)
from deepfake_detectors.evaluation.evaluate import leave_one_out
from deepfake_detectors.features import FEATURES
from deepfake_detectors.one_class_cards import (
    limitations_section,
    limits_paragraph,
    robustness_sentence,
)
from deepfake_detectors.processing import load_image, mean_luma
from deepfake_detectors.processing_crops import NativeCropImageProcessor
from deepfake_detectors.training.one_class import (
    OneClassEnsembleOptions,
    build_one_class_ensemble,
    native_crop_processor,
    one_class_members,
    fit_complexity_adjustments,
    fit_feature_members,
    member_weights,
)


@pytest.fixture(scope="module")
def feature_ensemble() -> EnsembleDeepfakeDetector:
    rng = np.random.default_rng(0)
    processor = DeepfakeImageProcessor(size=32, image_mean=[0, 0, 0], image_std=[1, 1, 1])
    train = processor([smooth_image(rng) for _ in range(80)])["pixel_values"]
    members = {}
    for name, config, model_class in (
        ("colour_distribution", ColourDistributionConfig(), ColourDistributionModel),
        ("gaussian_mixture", GaussianMixtureConfig(n_components=2), GaussianMixtureModel),
        ("statistical", StatisticalConfig(), StatisticalModel),
    ):
        model = model_class(config)
        model.fit(model.features(train))
        members[name] = (model, processor)
    detector = EnsembleDeepfakeDetector.from_members(members, device="cpu")
    detector.calibrate([smooth_image(rng) for _ in range(40)], [noisy_image(rng) for _ in range(40)])
    return detector


def count_feature_calls(monkeypatch) -> dict[str, int]:
    """Wrap every named feature so that each call is counted: ``{feature name: calls}``, filled as they happen."""
    calls: dict[str, int] = {}
    for name, function in list(FEATURES.items()):
        def counting(images, _name=name, _function=function):
            calls[_name] = calls.get(_name, 0) + 1
            return _function(images)
        monkeypatch.setitem(FEATURES, name, counting)
    return calls


def test_members_share_one_feature_computation_per_batch(feature_ensemble, monkeypatch) -> None:
    calls = count_feature_calls(monkeypatch)
    rng = np.random.default_rng(1)
    feature_ensemble.predict([smooth_image(rng) for _ in range(5)], batch_size=8)
    # colour_histogram and colour_moments are used by all three members, yet computed once for the batch.
    assert calls["colour_moments"] == 1 and calls["colour_histogram"] == 1
    assert all(count == 1 for count in calls.values())


def test_shared_cache_gives_the_same_scores_as_separate_members(feature_ensemble) -> None:
    rng = np.random.default_rng(2)
    images = [noisy_image(rng), smooth_image(rng)]
    together = feature_ensemble.raw_member_scores(images)
    for name, model in feature_ensemble.members.items():
        alone = model.score(feature_ensemble.processors[name](images)["pixel_values"])
        assert np.allclose(together[name], alone.numpy(), rtol=1e-6)


def test_noise_scores_above_real_and_per_member_scores_reported(feature_ensemble) -> None:
    rng = np.random.default_rng(3)
    results = feature_ensemble.predict([smooth_image(rng) for _ in range(10)] + [noisy_image(rng) for _ in range(10)])
    real = np.mean([r.score for r in results[:10]])
    fake = np.mean([r.score for r in results[10:]])
    assert fake > real
    assert set(results[0].member_scores) == {"colour_distribution", "gaussian_mixture", "statistical"}


def test_leave_one_out_reports_each_member() -> None:
    class Stub:
        class config:  # noqa: N801 - mimics the detector's config attribute
            members = [{"name": "good", "weight": 1.0}, {"name": "noise", "weight": 1.0}, {"name": "ok", "weight": 1.0}]

    labels = np.r_[np.zeros(50), np.ones(50)].astype(int)
    rng = np.random.default_rng(0)
    scores = {"good": labels * 3.0 + rng.normal(size=100), "noise": rng.normal(size=100), "ok": labels + rng.normal(size=100)}
    table = leave_one_out(Stub, labels, scores)
    assert table["good"]["delta_auroc"] > 0 > table["noise"]["delta_auroc"]


@pytest.mark.slow
@pytest.mark.skipif(not CIFAKE.exists(), reason="../shared/data/cifake is not available")
def test_training_script_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "ensemble"
    command = [
        sys.executable, str(REPO_ROOT / "scripts" / "train_one_class_ensemble.py"), "--dataset", str(CIFAKE),
        "--members", "statistical", "colour_distribution", "isolation_forest", "--max-train-samples", "200",
        "--max-calibration-samples", "50", "--test-limit", "100", "--second-domain", "", "--output-dir", str(out),
    ]
    subprocess.run(command, check=True, cwd=tmp_path, capture_output=True, text=True)
    config = json.loads((out / "config.json").read_text())
    assert [m["name"] for m in config["members"]] == ["statistical", "colour_distribution", "isolation_forest"]
    assert (out / "members" / "isolation_forest" / "estimator.skops").exists()
    results = json.loads((out / "results_summary.json").read_text())
    assert results["n_real"] == 50 and set(results["leave_one_out"]) == {m["name"] for m in config["members"]}
    assert "model-index" in (out / "README.md").read_text()
    # --complexity-adjustment auto: fitted for every member, kept only where it raised its validation AUROC
    report = json.loads((out / "results_extra.json").read_text())["complexity_adjustment"]
    assert set(report) == {m["name"] for m in config["members"]}
    for name, row in report.items():
        assert row["kept"] == (row["validation_auroc_corrected"] > row["validation_auroc_raw"])
        stored = json.loads((out / "members" / name / "config.json").read_text()).get("complexity_adjustment")
        assert (stored is not None) == row["kept"]
    detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    assert detector.predict(str(REPO_ROOT / "examples" / "fake_01.jpg")).error is None


def test_members_with_weight_zero_are_not_run_and_the_score_is_unchanged(monkeypatch) -> None:
    """The bundled nine-member ensemble has members of weight 0: they add nothing to the vote and are skipped."""
    from conftest import REPO_ROOT

    detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / "fake-image-detection-ensemble")
    idle = [m["name"] for m in detector.config.members if m["weight"] == 0]
    assert idle and set(detector.voting_members) == set(detector.members) - set(idle)
    examples = sorted((REPO_ROOT / "examples").glob("*.jpg"))
    images = [load_image(path, min_size=detector.decode_min_size) for path in examples]
    everything = detector.raw_member_scores(images)  # all nine, as calibration and weighting use them
    expected, _ = detector.combine(everything, mean_luma(images))
    calls = []
    for name in idle:
        monkeypatch.setattr(detector.members[name], "score", lambda *a, _n=name, **k: calls.append(_n))
    results = detector.predict(examples)
    assert calls == []
    np.testing.assert_allclose([r.score for r in results], expected, rtol=1e-9, atol=1e-9)
    assert set(results[0].member_scores) == set(detector.voting_members)


# --- library code of the one-class repos (training/one_class.py, one_class_cards.py, evaluation/ablation.py) ---

def _validation_scores(seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    is_real = np.r_[np.ones(200, bool), np.zeros(200, bool)]
    fake = (~is_real).astype(float)
    return {"informative": 2.0 * fake + rng.normal(size=400), "noise": rng.normal(size=400)}, is_real


def test_logistic_weights_favour_the_informative_member_and_sum_to_one() -> None:
    raw, is_real = _validation_scores()
    weights, how = member_weights("logistic", raw, is_real)
    assert weights["informative"] > 0.8 and 0.0 <= weights["noise"] < 0.2
    assert abs(sum(weights.values()) - 1.0) < 1e-3
    assert ">= 0" in how


def test_auroc_and_equal_weights() -> None:
    raw, is_real = _validation_scores(1)
    weights, _ = member_weights("validation_auroc", raw, is_real)
    assert weights["informative"] > 0.3 and 0.0 <= weights["noise"] < 0.1  # max(AUROC - 0.5, 0)
    raw["inverted"] = -raw["informative"]  # an anti-correlated member gets weight 0, never a negative one
    assert member_weights("validation_auroc", raw, is_real)[0]["inverted"] == 0.0
    assert member_weights("logistic", raw, is_real)[0]["inverted"] == 0.0
    assert member_weights("equal", raw, is_real)[0] == {"informative": 1.0, "noise": 1.0, "inverted": 1.0}
    with pytest.raises(ValueError):
        member_weights("median", raw, is_real)


def test_complexity_adjustments_are_kept_only_where_they_raise_validation_auroc(feature_ensemble) -> None:
    rng = np.random.default_rng(4)
    real = [smooth_image(rng) for _ in range(24)]
    fake = [noisy_image(rng) if i % 2 else smooth_image(rng) for i in range(24)]
    raw, report = fit_complexity_adjustments(feature_ensemble, real, fake, "none", batch_size=16)
    assert report == {} and set(raw) == set(feature_ensemble.members)
    assert all(m.config.complexity_adjustment is None for m in feature_ensemble.members.values())
    try:
        raw, report = fit_complexity_adjustments(feature_ensemble, real, fake, "auto", batch_size=16)
        assert set(report) == set(feature_ensemble.members)
        for name, row in report.items():
            assert row["kept"] == (row["validation_auroc_corrected"] > row["validation_auroc_raw"])
            member = feature_ensemble.members[name]
            assert (member.config.complexity_adjustment is not None) == row["kept"]
            # the returned scores are the member's scores as finally configured
            np.testing.assert_allclose(raw[name], feature_ensemble.raw_scores(real + fake)[name], rtol=1e-6)
        raw, report = fit_complexity_adjustments(feature_ensemble, real, fake, "png", batch_size=16)
        assert all(row["kept"] for row in report.values())
        assert all(m.config.complexity_adjustment is not None for m in feature_ensemble.members.values())
    finally:
        for member in feature_ensemble.members.values():
            member.config.complexity_adjustment = None


def test_fit_feature_members_shares_features_and_learns_real_images(monkeypatch) -> None:
    calls = count_feature_calls(monkeypatch)
    rng = np.random.default_rng(5)
    names = ["colour_distribution", "statistical"]
    members, fit_seconds, feature_seconds = fit_feature_members([smooth_image(rng) for _ in range(48)], names, 24)
    assert list(members) == names and set(fit_seconds) == set(names) and feature_seconds >= 0
    assert calls["colour_moments"] == 2  # used by both members, computed once per batch of 24
    processors = {id(processor) for _, processor in members.values()}
    assert len(processors) == 1  # one shared processor
    model, processor = members["statistical"]
    assert not model.training
    smooth = model.score(processor([smooth_image(rng) for _ in range(8)])["pixel_values"])
    noisy = model.score(processor([noisy_image(rng) for _ in range(8)])["pixel_values"])
    assert noisy.min() > smooth.max()


def test_member_table_has_one_entry_per_member_and_one_pre_training_hook() -> None:
    members, deep, features = one_class_members(), one_class_members("deep"), one_class_members("features")
    assert list(deep) == ["frequency_vae", "edge_flow", "semantic_svdd"] and len(features) == 6
    assert set(deep) | set(features) == set(members) and list(members) == list(deep) + list(features)
    assert members["semantic_svdd"].one_class_recipe.weight_decay == 5e-4
    assert members["edge_flow"].one_class_recipe.statistics_on_all_images
    for name in deep:
        assert callable(members[name].model_class.fit_initial_statistics)
    vae = members["frequency_vae"].build()
    assert vae.fit_initial_statistics(iter(())) is vae
    flow = members["edge_flow"].build()
    assert flow.config.hidden_size == 32 and flow.config.num_coupling_layers == 4
    assert flow.fit_initial_statistics([torch.rand(4, 3, 32, 32) * 2 - 1]) is flow
    assert not torch.equal(flow.feature_mean, torch.zeros_like(flow.feature_mean))


def _card_results(feature_ensemble) -> dict:
    names = [m["name"] for m in feature_ensemble.config.members]
    row = {"accuracy": 0.6111, "recall": 0.4321, "fpr": 0.0456}
    return {
        "test": {
            "auroc": 0.8771, **row,
            "members": {name: {"auroc": value} for name, value in zip(names, (0.7123, 0.6234, 0.5347))},
            "robustness": {
                "jpeg_50": {"auroc": 0.8899, "accuracy": 0.6, "recall": 0.4, "fpr": 0.0222},
                "gaussian_blur_1": {"auroc": 0.6612, "accuracy": 0.5, "recall": 0.3, "fpr": 0.1357},
            },
        },
        "aiart_test": {"auroc": 0.4111},
        "complexity_ablation": {names[0]: {"auroc_uncorrected": 0.6543, "auroc_corrected": 0.7123, "slope": 1.5}},
    }


def test_limits_text_takes_every_figure_from_the_results(feature_ensemble) -> None:
    results = _card_results(feature_ensemble)
    text = limits_paragraph(feature_ensemble, results) + limitations_section(feature_ensemble, results)
    for figure in ("0.877", "43.2%", "4.6%", "0.712", "0.623", "0.535", "0.411", "0.654", "0.890", "0.661",
                   "2.2%", "13.6%", "0.165"):  # 0.165 = ensemble AUROC minus its best member's
        assert figure in text
    config_numbers = {f"{m.config.whole_image_weight:g}" for m in feature_ensemble.members.values()
                      if getattr(m.config, "whole_image_weight", None) is not None}
    allowed = {"0.877", "43.2%", "4.6%", "0.712", "0.623", "0.535", "0.411", "0.654", "0.890", "0.661", "2.2%",
               "13.6%", "0.165", "1.4"} | config_numbers  # "Stable Diffusion 1.4" is a name
    assert set(re.findall(r"\d+\.\d+%?", text)) <= allowed


def test_robustness_claims_follow_the_measured_sweep(feature_ensemble) -> None:
    results = _card_results(feature_ensemble)
    assert "0.661 (`gaussian_blur_1`)" in robustness_sentence(results["test"])
    results["test"]["robustness"]["gaussian_blur_1"]["auroc"] = 0.9001  # blur now helps: the text says so
    sentence = robustness_sentence(results["test"])
    assert "0.890 (`jpeg_50`) to 0.900 (`gaussian_blur_1`)" in sentence
    del results["test"]["robustness"]
    assert robustness_sentence(results["test"]) == ""
    assert "robustness" not in limitations_section(feature_ensemble, results)


def test_train_script_keeps_its_options() -> None:
    script = load_script("train_one_class_ensemble")
    args = script.build_parser().parse_args(["--reuse-members", "--retrain", "statistical", "--no-normalise-brightness"])
    assert args.members == list(one_class_members()) and args.max_train_samples == 10000
    assert args.max_calibration_samples == 1500 and args.init_batches == 20 and args.weights == "logistic"
    assert args.retrain == ["statistical"] and args.normalise_brightness is False
    with pytest.raises(SystemExit):
        script.main(["--retrain", "statistical"])  # --retrain needs --reuse-members


@pytest.mark.skipif(not CIFAKE.exists(), reason="../shared/data/cifake is not available")
def test_noise_check_and_complexity_ablation_on_the_bundled_autoencoder() -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / "deepfake-autoencoder", device="cpu")
    noise = noise_sanity_check(detector, str(CIFAKE), "test", 12, 0)
    assert noise["n_real"] == 12 and noise["n_fake"] == 12 and noise["auroc"] > 0.9
    member = next(iter(detector.members.values()))
    slope = member.config.complexity_adjustment["slope"]
    ablation = complexity_ablation(detector, str(CIFAKE), "test", 24)
    row = ablation[next(iter(detector.members))]
    assert row["slope"] == slope and row["auroc_corrected"] != row["auroc_uncorrected"]
    assert member.config.complexity_adjustment["slope"] == slope  # restored after the uncorrected pass
    member.config.complexity_adjustment = None
    assert complexity_ablation(detector, str(CIFAKE), "test", 24) == {}


WILD = SHARED_DATA / "wild"


def _on_native_crops(detector: EnsembleDeepfakeDetector, crops_per_side: int = 2) -> EnsembleDeepfakeDetector:
    """The same members, each shown a grid of native 32 px crops instead of the resized image."""
    members = {
        name: (model, native_crop_processor(detector.processors[name], crops_per_side))
        for name, model in detector.members.items()
    }
    return EnsembleDeepfakeDetector.from_members(members, device="cpu")


def test_native_crop_members_score_an_image_by_the_mean_of_its_crops(feature_ensemble, monkeypatch) -> None:
    on_crops = _on_native_crops(feature_ensemble)
    rng = np.random.default_rng(4)
    images = [noisy_image(rng, size=96), smooth_image(rng, size=80), smooth_image(rng, size=20)]
    calls = count_feature_calls(monkeypatch)
    scores = on_crops.raw_member_scores(images)
    # two groups of crop shapes (2 x 2 crops of the large images, 1 upscaled crop of the small one), and each
    # feature is computed once per group for all three members
    assert calls["colour_moments"] == 2
    for name, model in on_crops.members.items():
        processor = on_crops.processors[name]
        assert isinstance(processor, NativeCropImageProcessor) and processor.crop_size == 32
        for index, image in enumerate(images):
            crops = processor.normalise_tensor(processor.crops(image))
            assert crops.shape[0] == (1 if image.width < 32 else 4)
            assert np.isclose(scores[name][index], model.score(crops).mean().item(), rtol=1e-5)
    # the whole-image members and the crop members disagree on a large image: the crops are not resized
    whole = feature_ensemble.raw_member_scores(images[:1])
    assert not np.isclose(whole["statistical"][0], scores["statistical"][0])


def test_crop_images_are_exactly_the_crops_scored() -> None:
    processor = NativeCropImageProcessor(crop_size=32, crops_per_side=3, upscale_small=True, offset_multiple=8)
    image = noisy_image(np.random.default_rng(5), size=100)
    pieces = processor.crop_images(image)
    assert [piece.size for piece in pieces] == [(32, 32)] * 9
    as_tensor = torch.stack([torch.from_numpy(np.array(p)).permute(2, 0, 1).float() / 255 for p in pieces])
    assert torch.equal(as_tensor, processor.crops(image))
    # a 40 px image gives 2 x 2 distinct offsets on the 8-pixel grid: 9 + 4 crops of one size
    assert processor.flat_crops([image, image.crop((0, 0, 40, 40))]).shape == (9 + 4, 3, 32, 32)
    with pytest.raises(ValueError, match="different shapes"):
        NativeCropImageProcessor(crop_size=32, crops_per_side=2).flat_crops([image, Image.new("RGB", (20, 20))])


@pytest.mark.skipif(not (WILD.exists() and CIFAKE.exists()), reason="../shared/data/wild or cifake is not available")
def test_ensemble_refitted_on_native_crops_of_photos(tmp_path: Path) -> None:
    out = tmp_path / "photos"
    options = OneClassEnsembleOptions(
        dataset=str(WILD), members=["frequency_vae", "statistical", "isolation_forest"], max_train_samples=12,
        max_calibration_samples=12, test_limit=24, second_domain="", epochs=0.05, batch_size=16, init_batches=1,
        crops_per_side=2, cifake_test_limit=20, output_dir=str(out),
    )
    build_one_class_ensemble(options, "python scripts/train_one_class_ensemble.py --crops-per-side 2 ...")
    detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    for name, processor in detector.processors.items():
        assert isinstance(processor, NativeCropImageProcessor) and processor.crops_per_side == 2
        assert processor.crop_size == detector.members[name].config.image_size and processor.offset_multiple == 8
    extra = json.loads((out / "results_extra.json").read_text())
    assert extra["cifake_test"]["n_real"] + extra["cifake_test"]["n_fake"] == 20
    wild = json.loads((out / "results_summary.json").read_text())
    assert wild["n_real"] + wild["n_fake"] == 24 and "by_generator" in wild
    card = (out / "README.md").read_text()
    assert "for photographs (native resolution)" in card and "Where every fitted number came from" in card
    assert "12 photos, 4 crops each" in card and f"{wild['auroc']:.4f}" in card
    large = Image.fromarray(np.random.default_rng(6).integers(0, 256, (700, 900, 3), dtype=np.uint8))
    result = detector.predict(large)
    assert result.error is None and np.isfinite(result.score)
