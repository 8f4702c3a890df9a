"""The ``deepfake-detect`` command, and one end-to-end run: train a tiny model with the real script, evaluate it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CIFAKE, REPO_ROOT
from deepfake_detectors import DeepfakeImageProcessor, DeepSVDDConfig, DeepSVDDModel, EnsembleDeepfakeDetector
from deepfake_detectors.cli import main


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A calibrated one-member Deep SVDD saved as a model repo."""
    from conftest import noisy_image, smooth_image
    import numpy as np

    rng = np.random.default_rng(0)
    processor = DeepfakeImageProcessor(size=32)
    model = DeepSVDDModel(DeepSVDDConfig(image_size=32, hidden_sizes=[4, 8], rep_dim=8))
    model.initialize_center([processor([smooth_image(rng) for _ in range(16)])["pixel_values"]])
    detector = EnsembleDeepfakeDetector.from_members({"deep_svdd": (model, processor)}, device="cpu")
    detector.calibrate([smooth_image(rng) for _ in range(30)], [noisy_image(rng) for _ in range(30)])
    directory = tmp_path_factory.mktemp("model")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def test_detect_folder_reports_the_bad_file_and_scores_the_rest(tiny_model_dir, image_folder, tmp_path, capsys) -> None:
    out = tmp_path / "results.csv"
    code = main(["detect", str(image_folder), "--model", str(tiny_model_dir), "--output", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0
    lines = [line for line in captured.out.splitlines() if line.strip()]
    assert len(lines) == 12  # 6 real + 6 fake; broken.jpg is on stderr
    assert all(line.split("\t")[2] in ("real", "fake") for line in lines)
    assert "broken.jpg" in captured.err and "cannot read image" in captured.err
    assert "12 of 13 images scored" in captured.err
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 13 and sum(row["label"] == "error" for row in rows) == 1
    assert "member_deep_svdd" in rows[0]


def test_detect_glob_threshold_and_jsonl(tiny_model_dir, image_folder, tmp_path, capsys) -> None:
    out = tmp_path / "r.jsonl"
    pattern = str(image_folder / "FAKE" / "*.png")
    code = main(["detect", pattern, "--model", str(tiny_model_dir), "--threshold", "-1000", "--output", str(out)])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and all(row["is_fake"] and row["threshold_name"] == "manual" for row in rows)


def test_detect_exits_nonzero_when_nothing_could_be_scored(tiny_model_dir, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    assert main(["detect", str(bad), str(tmp_path / "missing.png"), "--model", str(tiny_model_dir)]) == 1
    err = capsys.readouterr().err
    assert "bad.jpg" in err and "missing.png" in err


def test_unknown_model_is_a_clean_error(tmp_path, capsys, image_folder) -> None:
    assert main(["detect", str(image_folder), "--model", str(tmp_path / "nothing-here")]) == 2
    assert "error:" in capsys.readouterr().err


def test_evaluate_on_a_folder_writes_results_and_plots(tiny_model_dir, image_folder, tmp_path) -> None:
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model_dir), "--dataset", str(image_folder), "--output", str(out), "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())
    for key in (
        "model", "dataset", "split", "n_real", "n_fake", "auroc", "average_precision", "accuracy", "precision",
        "recall", "f1", "tpr_at_fpr_1", "tpr_at_fpr_5", "threshold", "threshold_name", "confusion_matrix",
    ):
        assert key in results, key
    assert results["n_real"] == 6 and results["n_fake"] == 6 and results["n_errors"] == 1
    assert sum(map(sum, results["confusion_matrix"])) == 12
    for plot in ("roc_curve.png", "precision_recall.png", "confusion_matrix.png", "score_histogram.png"):
        assert (out / plot).stat().st_size > 1000


def test_evaluate_fake_only_folder_reports_recall_only(tiny_model_dir, image_folder, tmp_path) -> None:
    only_fake = tmp_path / "only"
    (only_fake / "fake").mkdir(parents=True)
    for path in (image_folder / "FAKE").glob("*.png"):
        (only_fake / "fake" / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model_dir), "--dataset", str(only_fake), "--output", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["n_real"] == 0 and results["auroc"] is None and results["recall"] is not None


@pytest.mark.slow
@pytest.mark.skipif(not CIFAKE.exists(), reason="../shared/data/cifake is not available")
def test_end_to_end_train_with_the_script_then_evaluate_with_the_cli(tmp_path) -> None:
    """Train a tiny autoencoder for a few steps through the real script, then evaluate it through the real CLI."""
    model_dir = tmp_path / "ae"
    command = [
        sys.executable, str(REPO_ROOT / "scripts" / "train_autoencoder.py"),
        "--dataset", str(CIFAKE), "--image-size", "32", "--hidden-sizes", "4", "8", "8", "16", "16",
        "--latent-dim", "8", "--max-steps", "4", "--batch-size", "16", "--max-train-samples", "64",
        "--max-calibration-samples", "40", "--output-dir", str(model_dir), "--run-dir", str(tmp_path / "run"),
    ]
    subprocess.run(command, check=True, cwd=tmp_path, capture_output=True, text=True)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["calibration"]["n_real"] == 40 and "optimal" in config["calibration"]["thresholds"]
    assert config["training"]["n_real_images"] == 64
    assert any((tmp_path / "run").glob("checkpoint-*")), "Trainer checkpoints are written"
    out = tmp_path / "eval"
    cli = [sys.executable, "-m", "deepfake_detectors.cli", "evaluate", "--model", str(model_dir),
           "--dataset", str(CIFAKE), "--split", "test", "--limit", "60", "--output", str(out), "--no-progress"]
    subprocess.run(cli, check=True, cwd=tmp_path, capture_output=True, text=True)
    results = json.loads((out / "results.json").read_text())
    assert results["n_real"] == 30 and results["n_fake"] == 30
    assert 0.0 <= results["auroc"] <= 1.0
