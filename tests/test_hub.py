"""Model cards and the publishable repos in hub_repos/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from conftest import REPO_ROOT
from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.hub import (
    CARD_METRICS,
    card_metrics,
    eval_results,
    is_published_size_autoencoder,
    metrics_table,
    results_dataset_type,
    validate_repo_folder,
    write_model_card,
)

RESULTS = {"n_real": 10, "n_fake": 10, "auroc": 0.91234, "average_precision": 0.9, "accuracy": 0.8,
           "precision": 0.85, "recall": 0.7, "f1": 0.77, "fpr": 0.05, "tpr_at_fpr_1": None}


def test_card_round_trips_model_index(tmp_path: Path) -> None:
    card = write_model_card(tmp_path, model_name="m", body="# Title\n\ntext", evaluations=[(RESULTS, "CIFAKE", "cifake", "test")])
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("---\n") and "model-index" in text and "library_name: deepfake-detectors" in text
    values = card_metrics(tmp_path / "README.md")
    assert values[("cifake", "test", "roc_auc")] == pytest.approx(0.9123)
    assert len(values) == len(CARD_METRICS)
    assert card.data.license == "mit"


def test_a_rewritten_card_keeps_the_domain_section_of_its_repo(tmp_path: Path) -> None:
    """A builder rewrites the whole card; the domain section that domain_report.py wrote comes back from the repo's
    own files (it was once lost this way), before the Reproduce section, and only where those files exist."""
    from deepfake_detectors.cards import DOMAIN_HEADING

    body = "# Title\n\ntext\n\n## Reproduce\n\nbash weights.sh\n"
    write_model_card(tmp_path, model_name="m", body=body, evaluations=[])
    assert DOMAIN_HEADING not in (tmp_path / "README.md").read_text()  # no domain files: nothing invented
    npr = REPO_ROOT / "hub_repos" / "deepfake-npr-detector"
    for name in ("domain.safetensors", "domain_report.json"):
        (tmp_path / name).write_bytes((npr / name).read_bytes())
    write_model_card(tmp_path, model_name="m", body=body, evaluations=[])
    text = (tmp_path / "README.md").read_text()
    assert text.index("text") < text.index(DOMAIN_HEADING) < text.index("## Reproduce")
    report = json.loads((npr / "domain_report.json").read_text())
    assert f"wild test {report['wild_test']:.1%}" in text
    section = text[text.index(DOMAIN_HEADING):text.index("## Reproduce")]
    assert section in (npr / "README.md").read_text()  # the released card's section, word for word


def test_missing_figures_are_left_out_not_invented() -> None:
    entries = eval_results({"auroc": None, "recall": 0.5}, "x", "x", "test")
    assert [entry.metric_type for entry in entries] == ["recall"]
    assert "n/a" in metrics_table([("only fakes", {"n_real": 0, "n_fake": 3, "recall": 0.5})])


REPOS = sorted(p for p in (REPO_ROOT / "hub_repos").glob("*") if (p / "config.json").exists())


@pytest.mark.parametrize("repo", REPOS, ids=[p.name for p in REPOS])
def test_bundled_repo_loads_and_card_matches_results(repo: Path) -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu", local_files_only=True)
    assert detector.calibration is not None
    results = json.loads((repo / "results_summary.json").read_text())
    values = card_metrics(repo / "README.md")
    for key, (metric_type, _) in CARD_METRICS.items():
        if results.get(key) is not None:
            shown = values[(results_dataset_type(results), "test", metric_type)]  # cifake, or wild for photo models
            assert shown == pytest.approx(round(results[key], 4)), key
    for plot in results.get("plots", {}).values():
        assert (repo / plot).exists()
    sizes = [f.stat().st_size for f in repo.rglob("*.safetensors")]
    config = json.loads((repo / "config.json").read_text())
    if is_published_size_autoencoder(config):  # the one exception to "a few MB": 34.8M parameters in float16
        assert max(sizes) < 75 * 2**20
        with safe_open(str(repo / "model.safetensors"), "pt") as weights:
            assert weights.get_tensor("head.weight").dtype == torch.float16, "stored in float16"
    else:
        assert sizes and max(sizes) < 10 * 2**20, "bundled weights stay a few MB"
    assert not list(repo.rglob("*.bin")) and not list(repo.rglob("*.pkl"))


RECORDED_EXAMPLE_SCORES = json.loads((REPO_ROOT / "tests" / "data" / "example_scores.json").read_text())


@pytest.mark.parametrize("repo", REPOS, ids=[p.name for p in REPOS])
def test_bundled_repo_scores_the_examples_as_recorded(repo: Path) -> None:
    """Refactoring must not change what a published repo says: every example's score, verdict and domain check
    match ``tests/data/example_scores.json`` (rewritten by ``tests/make_example_scores.py`` only when a repo's
    weights or calibration change on purpose). Scores may differ by float rounding between CPUs and library
    versions, so a verdict is compared only where the score is not within that rounding of its threshold. A tree
    ensemble (the isolation forest) turns a rounding difference in a feature into a jump of its score when the
    feature sits on a split, so repos where one votes get a wider tolerance."""
    recorded = RECORDED_EXAMPLE_SCORES[repo.name]
    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu", local_files_only=True)
    paths = sorted((REPO_ROOT / "examples").glob("*.jpg"))
    assert sorted(recorded["images"]) == [path.name for path in paths], "rerun tests/make_example_scores.py"
    results = detector.predict([str(path) for path in paths])
    tolerance = 0.05 if "isolation_forest" in detector.voting_members else 1e-4
    for path, result in zip(paths, results):
        expected = recorded["images"][path.name]
        threshold = expected.get("threshold", recorded["threshold"])  # per image: the out-of-domain one may differ
        assert result.threshold == pytest.approx(threshold, rel=1e-6), path.name
        assert result.score == pytest.approx(expected["score"], rel=1e-4, abs=tolerance), path.name
        assert result.in_domain == expected["in_domain"], path.name
        if abs(expected["score"] - threshold) > max(1e-3, 2 * tolerance):
            assert result.is_fake == expected["is_fake"], path.name


@pytest.mark.parametrize("repo", REPOS, ids=[p.name for p in REPOS])
def test_bundled_repo_is_exactly_what_would_be_pushed(repo: Path) -> None:
    assert validate_repo_folder(repo) == []


def test_validation_catches_a_card_that_disagrees_with_its_results(tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "deepfake-ela-cnn"
    shutil.copytree(REPO_ROOT / "hub_repos" / "deepfake-ela-cnn", repo)
    results = json.loads((repo / "results_summary.json").read_text())
    results["auroc"] = 0.5
    (repo / "results_summary.json").write_text(json.dumps(results))
    (repo / "roc_curve.png").unlink()
    (repo / "thresholds_calibrated.json").unlink()
    (repo / "extra.pkl").write_bytes(b"")
    problems = "\n".join(validate_repo_folder(repo))
    for expected in ("roc_auc", "roc_curve.png", "thresholds_calibrated.json", "extra.pkl is pickle-based"):
        assert expected in problems


def test_publish_dry_run_lists_and_validates_without_network(tmp_path: Path) -> None:
    import subprocess
    import sys

    command = [sys.executable, str(REPO_ROOT / "scripts" / "publish.py"), "--all", "--dry-run", "--namespace", "me"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_TOKEN": ""})
    assert completed.returncode == 0, completed.stderr
    for repo in REPOS:
        assert f"model me/{repo.name}:" in completed.stdout
    assert "space me/deepfake-detectors:" in completed.stdout
    assert "  deepfake_detectors/pipeline/detector.py" in completed.stdout and "  app.py" in completed.stdout
    assert "nothing uploaded" in completed.stdout
    assert "  space_settings.json" in completed.stdout  # the Space is told to load its models from "me"
    assert "loads its models from me/<repo>" in completed.stdout
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    failed = subprocess.run(command[:2] + [str(broken), "--dry-run"], capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1 and "missing README.md" in failed.stderr


def test_space_card_pins_the_gradio_this_project_uses() -> None:
    gradio = pytest.importorskip("gradio")
    from huggingface_hub import SpaceCard

    card = SpaceCard.load(REPO_ROOT / "space" / "README.md").data
    assert (card.sdk, str(card.sdk_version), card.app_file) == ("gradio", gradio.__version__, "app.py")
    assert card.license and card.models


def test_wild_section_is_replaced_not_repeated(tmp_path: Path) -> None:
    from deepfake_detectors.cards import WILD_HEADING, replace_card_section, wild_section

    results = {
        "n_real": 2, "n_fake": 1, "auroc": 0.5, "average_precision": 0.5, "accuracy": 0.5, "precision": 0.5,
        "recall": 1.0, "f1": 0.5, "fpr": 0.5, "tpr_at_fpr_1": 0.0, "threshold": 1.0, "threshold_name": "balanced",
        "expected_calibration_error": 0.25,
        "by_source": {"camera": {"n": 2, "n_real": 2, "n_fake": 0, "flagged": 0.5, "auroc": None},
                      "gen": {"n": 1, "n_real": 0, "n_fake": 1, "flagged": 1.0, "auroc": None}},
        "by_generator": {"sdxl": {"n": 1, "n_real": 0, "n_fake": 1, "flagged": 1.0, "auroc": None}},
    }
    card = tmp_path / "README.md"
    card.write_text("# Model\n\n## Results\n\nx\n\n## Reproduce\n\n```bash\nrun\n```\n")
    replace_card_section(card, wild_section(results, "python scripts/evaluate_wild.py repo"))
    replace_card_section(card, wild_section({**results, "auroc": 0.75}, "python scripts/evaluate_wild.py repo"))
    text = card.read_text()
    assert text.count(WILD_HEADING) == 1 and "AUROC 0.750" in text and "AUROC 0.500" not in text
    assert text.index(WILD_HEADING) < text.index("## Reproduce") and text.index("## Results") < text.index(WILD_HEADING)
    assert "| camera | 2 / 0 | 50.0% | n/a |" in text and "`camera` real photos (50.0% flagged)" in text


def test_plain_words_section_is_replaced_without_eating_the_text_after_it(tmp_path: Path) -> None:
    from deepfake_detectors.cards import SECTION_END, put_after_title

    card = tmp_path / "README.md"
    legacy_section = "## In plain words\n\nIt is for X.\n"
    card.write_text(f"---\ntags: []\n---\n\n# Model\n\n{legacy_section}\nThe description.\n\n## Use\n\nx\n")
    put_after_title(card, legacy_section)  # a card written before the end marker: removed word for word
    put_after_title(card, "## In plain words\n\nIt is for Y.\n")  # then replaced up to the marker
    put_after_title(card, "## In plain words\n\nIt is for Z.\n")
    text = card.read_text()
    assert text.count("## In plain words") == 1 and text.count(SECTION_END) == 1
    assert "It is for Z." in text and "It is for X." not in text and "It is for Y." not in text
    assert text.index("# Model") < text.index("It is for Z.") < text.index("The description.") < text.index("## Use")


def test_calibration_error_sentence_names_validation_and_test() -> None:
    from deepfake_detectors.cards import calibration_error_sentence, wild_section

    calibration = {"calibration_error": {"in_sample": 0.021, "cross_fitted": 0.034, "folds": 5}}
    sentence = calibration_error_sentence(calibration, "validation splits of wild", {"expected_calibration_error": 0.2})
    assert "0.034 cross-fitted" in sentence and "0.021 in-sample" in sentence and "wild test 0.200" in sentence
    assert "cross-fitted" not in calibration_error_sentence({}, "CIFAKE validation", {"expected_calibration_error": 0.2})
    assert "Platt scaling fitted on the validation data." in calibration_error_sentence(
        {"platt": [1.5, -0.2]}, "validation data", {"expected_calibration_error": 0.2})
    # A slope that is not positive is no scaling: the card says what P(fake) is instead of "Platt scaling fitted".
    flat_scaling = calibration_error_sentence(
        {"platt": [0.0, 0.2], "n_real": 30, "n_fake": 70}, "validation data", {"expected_calibration_error": 0.2})
    assert "share of AI images there, 70%, whatever the score" in flat_scaling and "scaling fitted" not in flat_scaling
    unused = calibration_error_sentence({"platt": [-2.9, 0.6]}, "validation data", {"expected_calibration_error": 0.2})
    assert "was negative" in unused and "**not** a calibrated probability" in unused and "scaling fitted" not in unused
    results = {
        "n_real": 2, "n_fake": 1, "auroc": 0.5, "average_precision": 0.5, "accuracy": 0.5, "precision": 0.5,
        "recall": 1.0, "f1": 0.5, "fpr": 0.5, "tpr_at_fpr_1": 0.0, "threshold": 1.0, "threshold_name": "balanced",
        "expected_calibration_error": 0.25, "by_source": {}, "by_generator": {},
    }
    section = wild_section(results, "cmd", validation={**results, "expected_calibration_error": 0.125})
    assert "on wild test: 0.250; on wild validation" in section and "0.125" in section
    assert "wild validation" not in wild_section(results, "cmd")
    outside = {"n_real": 30, "n_fake": 40, "platt": [0.5, 0.0],
               "calibration_error": {"in_sample": 0.02, "cross_fitted": 0.031, "folds": 5}}
    recalibrated = wild_section({**results, "out_of_domain_calibrated": 1.0, "test_looks": 2}, "cmd",
                                out_of_domain=outside, before={**results, "fpr": 0.99, "expected_calibration_error": 0.6})
    assert "30 real and 40 AI images" in recalibrated and "0.031 cross-fitted" in recalibrated
    assert "(`python scripts/calibrate_out_of_domain.py`;" in recalibrated  # the default: the script alone
    exact = wild_section({**results, "out_of_domain_calibrated": 1.0}, "cmd", out_of_domain=outside,
                         calibration_command="python scripts/calibrate_out_of_domain.py repo --dataset wild")
    assert "(`python scripts/calibrate_out_of_domain.py repo --dataset wild`;" in exact
    assert "CIFAKE calibration only (the release before)" in recalibrated and "0.600" in recalibrated
    assert "scored\ntwice" in recalibrated and "`balanced` of its out-of-domain calibration" in recalibrated
    flat = wild_section({**results, "out_of_domain_calibrated": 1.0}, "cmd",
                        out_of_domain={**outside, "platt": [0.0, 0.3]})
    assert "share of AI images among them, 57%, whatever the score" in flat and "no longer claims" not in flat


def test_only_the_published_size_autoencoder_may_be_large_and_it_must_be_float16(tmp_path: Path, monkeypatch) -> None:
    import shutil

    import deepfake_detectors.hub as hub

    repo = tmp_path / "deepfake-autoencoder"
    shutil.copytree(REPO_ROOT / "hub_repos" / "deepfake-autoencoder", repo)  # float32 weights, 8 MB
    assert validate_repo_folder(repo, max_weight_bytes=2**20)[0].endswith("(limit 1 MB)")
    monkeypatch.setattr(hub, "is_published_size_autoencoder", lambda config: True)
    problems = validate_repo_folder(repo, max_weight_bytes=2**20)
    assert problems == ["deepfake-autoencoder: the published-size autoencoder's weights must be stored in float16"]
    assert is_published_size_autoencoder({"model_type": "deepfake-residual-autoencoder",
                                          "hidden_sizes": [64, 128, 256, 512, 608]})
