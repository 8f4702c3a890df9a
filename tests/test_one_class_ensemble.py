"""The 9-member one-class ensemble: shared features, weighting, leave-one-out, the training script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CIFAKE, REPO_ROOT, noisy_image, smooth_image
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
from deepfake_detectors.evaluation.evaluate import leave_one_out
from deepfake_detectors.processing import load_image, mean_luma
from deepfake_detectors.features import FEATURES


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


def test_members_share_one_feature_computation_per_batch(feature_ensemble, monkeypatch) -> None:
    calls: dict[str, int] = {}
    for name, function in list(FEATURES.items()):
        def counting(images, _name=name, _function=function):
            calls[_name] = calls.get(_name, 0) + 1
            return _function(images)
        monkeypatch.setitem(FEATURES, name, counting)
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
