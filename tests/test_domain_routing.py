"""Domain-routed ensembles: each image judged by one of two detectors, the first for the images in its domain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import noisy_image, smooth_image, upsampled_image
from deepfake_detectors import (
    DeepfakeImageProcessor,
    DeepSVDDConfig,
    DeepSVDDModel,
    EnsembleDeepfakeDetector,
    load_image,
    ResidualAutoencoderConfig,
    ResidualAutoencoderModel,
)
from deepfake_detectors.configuration.ensemble import DeepfakeEnsembleConfig
from deepfake_detectors.domain import DomainDescription, image_statistics
from deepfake_detectors.evaluation import evaluate_detector
from deepfake_detectors.explanations import explain_image


def _save_single(model: torch.nn.Module, size: int, images: list, fakes: list, domain_images: list, folder: Path,
                 default_threshold: str) -> Path:
    """Calibrate ``model`` alone on ``images`` / ``fakes``, fit its domain on ``domain_images``, save as a repo."""
    processor = DeepfakeImageProcessor(size=size)
    model.config.default_threshold = default_threshold
    single = EnsembleDeepfakeDetector.from_members({"m": (model, processor)}, device="cpu")
    single.calibrate(images, fakes)
    model.to(torch.float16).save_pretrained(folder)  # stored in float16, as the bundled EfficientNet is
    model.float()
    processor.save_pretrained(folder)
    DomainDescription.fit(image_statistics(domain_images), "test images", components=1).save(
        folder / "domain.safetensors")
    return folder


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> tuple[Path, Path]:
    """Two calibrated single-detector repos: an autoencoder whose domain is 32 px images (default `optimal`) and a
    Deep SVDD whose domain is 64 px images (default `balanced`)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("routed")
    small = [smooth_image(rng) for _ in range(40)] + [noisy_image(rng) for _ in range(10)]
    autoencoder = ResidualAutoencoderModel(
        ResidualAutoencoderConfig(image_size=32, hidden_sizes=[4, 8, 8, 16, 16], latent_dim=8))
    first = _save_single(autoencoder, 32, [smooth_image(rng) for _ in range(30)], [noisy_image(rng) for _ in range(30)],
                         small, root / "autoencoder", "optimal")
    svdd = DeepSVDDModel(DeepSVDDConfig(image_size=32, hidden_sizes=[4, 8], rep_dim=8))
    svdd.fit_initial_statistics([DeepfakeImageProcessor(size=32)([smooth_image(rng, 64) for _ in range(16)])["pixel_values"]])
    large = [smooth_image(rng, 64) for _ in range(40)] + [upsampled_image(rng, 64) for _ in range(10)]
    second = _save_single(svdd, 32, [smooth_image(rng, 64) for _ in range(30)],
                          [upsampled_image(rng, 64) for _ in range(30)], large, root / "svdd", "balanced")
    return first, second


def test_each_image_gets_exactly_the_verdict_of_the_member_that_judges_it(repos) -> None:
    first, second = repos
    routed = EnsembleDeepfakeDetector.route_by_domain(first, second, device="cpu")
    alone = [EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu") for repo in repos]
    rng = np.random.default_rng(1)
    images = [smooth_image(rng), noisy_image(rng), smooth_image(rng, 64), upsampled_image(rng, 64)]
    results = routed.predict(images)
    judges = ["residual_autoencoder", "residual_autoencoder", "deep_svdd", "deep_svdd"]
    assert [result.calibration_domain for result in results] == judges
    for result, judge in zip(results, judges):
        own = alone[0 if judge == "residual_autoencoder" else 1].predict(images[results.index(result)])
        assert set(result.member_scores) == {judge}
        assert (result.score, result.is_fake, result.threshold_name) == (
            pytest.approx(own.score), own.is_fake, own.threshold_name)
        assert result.threshold == pytest.approx(own.threshold)
        assert result.calibrated_probability == pytest.approx(own.calibrated_probability)
    # Each member keeps its own default until a threshold is chosen; then both use the chosen one.
    assert [result.threshold_name for result in results] == ["optimal", "optimal", "balanced", "balanced"]
    strict = routed.predict(images, threshold="strict")
    assert [result.threshold for result in strict] == pytest.approx(
        [alone[0].calibration.thresholds["strict"]] * 2 + [alone[1].calibration.thresholds["strict"]] * 2)
    assert json.loads(json.dumps(results[2].to_dict()))["member_scores"] == {"deep_svdd": pytest.approx(results[2].score)}


def test_only_the_judging_member_runs_on_an_image(repos, monkeypatch) -> None:
    routed = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu")
    seen: dict[str, int] = {}
    for name, model in routed.members.items():
        original = model.score

        def counting(pixel_values, *args, _name=name, _original=original, **kwargs):
            seen[_name] = seen.get(_name, 0) + len(pixel_values)
            return _original(pixel_values, *args, **kwargs)

        monkeypatch.setattr(model, "score", counting)
    rng = np.random.default_rng(2)
    routed.predict([smooth_image(rng) for _ in range(3)] + [smooth_image(rng, 64) for _ in range(2)])
    assert seen == {"residual_autoencoder": 3, "deep_svdd": 2}


def test_an_image_neither_member_knows_is_marked_and_a_corrupt_file_does_not_stop_the_batch(repos, tmp_path) -> None:
    routed = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    rng = np.random.default_rng(3)
    stranger = noisy_image(rng, 200)  # neither 32 px nor like the 64 px images
    known, error, unknown = routed.predict([smooth_image(rng, 64), str(broken), stranger])
    assert known.in_domain is True and known.domain_note is None
    assert error.label == "error" and "broken.jpg" in error.error
    assert unknown.calibration_domain == "deep_svdd" and unknown.in_domain is False and unknown.domain_note
    assert unknown.score is not None


def test_saved_and_loaded_again_it_gives_the_same_verdicts_and_refuses_recalibration(repos, tmp_path) -> None:
    routed = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu")
    folder = routed.save_pretrained(tmp_path / "routed")
    assert (folder / "domain.safetensors").is_file()
    assert all((folder / "members" / name / "domain.safetensors").is_file() for name in routed.members)
    for name, source in zip(routed.config.member_names, repos):  # the weights files as published, not re-encoded
        assert (folder / "members" / name / "model.safetensors").read_bytes() == (source / "model.safetensors").read_bytes()
    loaded = EnsembleDeepfakeDetector.from_pretrained(folder, device="cpu")
    assert loaded.config.routed and "routed" in repr(loaded)
    rng = np.random.default_rng(4)
    images = [smooth_image(rng), smooth_image(rng, 64), noisy_image(rng, 200)]
    before, after = routed.predict(images), loaded.predict(images)
    assert [(r.score, r.is_fake, r.threshold, r.in_domain, r.calibration_domain) for r in after] == [
        (pytest.approx(r.score), r.is_fake, pytest.approx(r.threshold), r.in_domain, r.calibration_domain)
        for r in before]
    loaded.save_pretrained(folder)  # saved again where it was loaded from: the files stay as they were
    assert EnsembleDeepfakeDetector.from_pretrained(folder, device="cpu").predict(images[1]).score == pytest.approx(
        after[1].score)
    with pytest.raises(ValueError, match="domain-routed"):
        loaded.calibrate([smooth_image(rng) for _ in range(5)])
    (folder / "domain.safetensors").unlink()
    with pytest.raises(OSError, match="domain-routed ensemble needs domain.safetensors"):
        EnsembleDeepfakeDetector.from_pretrained(folder, device="cpu")


def test_evaluate_reports_who_judged_and_counts_each_verdict_at_its_judges_threshold(repos, tmp_path) -> None:
    routed = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu")
    rng = np.random.default_rng(5)
    for label, images in (("real", [smooth_image(rng) for _ in range(6)] + [smooth_image(rng, 64) for _ in range(4)]),
                          ("fake", [noisy_image(rng) for _ in range(5)] + [upsampled_image(rng, 64) for _ in range(5)])):
        (tmp_path / "data" / label).mkdir(parents=True)
        for index, image in enumerate(images):
            image.save(tmp_path / "data" / label / f"{index:02d}.png")
    results = evaluate_detector(routed, str(tmp_path / "data"), split="test", output_dir=str(tmp_path / "out"))
    judges = results["by_judge"]
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    # The first member judges exactly the files its domain description accepts.
    files = [load_image(tmp_path / "data" / row["name"]) for row in rows]
    accepted = routed.domain.check(image_statistics(files))[0]
    assert [row["calibration_domain"] == "residual_autoencoder" for row in rows] == accepted.tolist()
    assert judges["residual_autoencoder"]["n"] == accepted.sum() and 0 < accepted.sum() < 20
    assert judges["deep_svdd"]["n"] == 20 - accepted.sum()
    assert judges["residual_autoencoder"]["share"] == pytest.approx(accepted.mean())
    inside, outside = routed.applied_thresholds()
    for row in rows:
        rule = outside if row["calibration_domain"] == "deep_svdd" else inside
        assert row["is_fake"] == (row["score"] >= rule.value)
    correct = sum(row["is_fake"] == (row["label"] == 1) for row in rows)
    assert results["accuracy"] == pytest.approx(correct / len(rows))
    assert "members" not in results  # a member's scores exist only for the images it judged


def test_explanations_come_from_the_judging_member_only(repos) -> None:
    routed = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu")
    rng = np.random.default_rng(6)
    assert any("residual_autoencoder" in caption for caption in explain_image(routed, smooth_image(rng)))
    assert not any("residual_autoencoder" in caption for caption in explain_image(routed, smooth_image(rng, 64)))


def test_a_routed_configuration_has_exactly_two_members_and_no_brightness_normalisation() -> None:
    member = {"name": "a", "path": "members/a"}
    with pytest.raises(ValueError, match="exactly two members"):
        DeepfakeEnsembleConfig(members=[member], combination="domain_routed")
    with pytest.raises(ValueError, match="unsupported combination"):
        DeepfakeEnsembleConfig(members=[member], combination="median")
    assert DeepfakeEnsembleConfig(members=[member, {"name": "b", "path": "members/b"}],
                                  combination="domain_routed").routed


def test_the_command_line_names_each_images_judge_and_both_thresholds(repos, tmp_path, capsys) -> None:
    from deepfake_detectors.cli import main

    folder = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu").save_pretrained(tmp_path / "routed")
    rng = np.random.default_rng(7)
    (tmp_path / "images").mkdir()
    smooth_image(rng).save(tmp_path / "images" / "small.png")
    smooth_image(rng, 64).save(tmp_path / "images" / "large.png")
    out = tmp_path / "results.csv"
    assert main(["detect", str(tmp_path / "images"), "--model", str(folder), "--output", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split("\t")[-1] == "judged_by"
    judges = {Path(line.split("\t")[0]).name: line.split("\t")[-1] for line in lines[1:]}
    loaded = EnsembleDeepfakeDetector.from_pretrained(folder, device="cpu")
    expected = {name: loaded.predict(str(tmp_path / "images" / name)).calibration_domain for name in judges}
    assert judges == expected and len(set(judges.values())) == 2
    assert "for the images residual_autoencoder judged" in captured.err and "deep_svdd judged" in captured.err


def test_the_benchmark_compares_a_routed_detector_with_its_judges_alone(repos, tmp_path) -> None:
    from deepfake_detectors.evaluation.benchmark import throughput_rows

    folder = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu").save_pretrained(tmp_path / "routed")
    rng = np.random.default_rng(8)
    paths = []
    for index, image in enumerate([smooth_image(rng) for _ in range(3)] + [smooth_image(rng, 64) for _ in range(2)]):
        image.save(tmp_path / f"{index}.png")
        paths.append(str(tmp_path / f"{index}.png"))
    judged = [EnsembleDeepfakeDetector.from_pretrained(folder, device="cpu").predict(path).calibration_domain
              for path in paths]
    whole = throughput_rows(folder, paths, batch_size=4, repeats=1)[-1]
    counts = f"residual_autoencoder {judged.count('residual_autoencoder')}, deep_svdd {judged.count('deep_svdd')}"
    assert f"domain-routed (images judged: {counts})" in whole and "sum of its" not in whole


def test_evaluate_from_the_command_line_prints_who_judged(repos, tmp_path, capsys) -> None:
    from deepfake_detectors.cli import main

    folder = EnsembleDeepfakeDetector.route_by_domain(*repos, device="cpu").save_pretrained(tmp_path / "routed")
    rng = np.random.default_rng(9)
    for label, images in (("real", [smooth_image(rng), smooth_image(rng, 64)]), ("fake", [noisy_image(rng)])):
        (tmp_path / "data" / label).mkdir(parents=True)
        for index, image in enumerate(images):
            image.save(tmp_path / "data" / label / f"{index}.png")
    assert main(["evaluate", "--model", str(folder), "--dataset", str(tmp_path / "data"), "--output",
                 str(tmp_path / "out"), "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sum(row["n"] for row in summary["by_judge"].values()) == 3
    assert set(summary["by_judge"]) <= {"residual_autoencoder", "deep_svdd"}
