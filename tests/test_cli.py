"""The ``deepfake-detect`` command, and one end-to-end run: train a tiny model with the real script, evaluate it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

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
    model.fit_initial_statistics([processor([smooth_image(rng) for _ in range(16)])["pixel_values"]])
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
    header, *lines = [line for line in captured.out.splitlines() if line.strip()]
    assert header == "source\tscore\tverdict\tconfidence\tin_domain"
    assert len(lines) == 12  # 6 real + 6 fake; broken.jpg is on stderr
    assert all(line.split("\t")[2] in ("real", "fake") for line in lines)
    assert all(float(line.split("\t")[3].rstrip("%")) >= 50.0 for line in lines)  # the verdict's own confidence
    assert "broken.jpg" in captured.err and "cannot read image" in captured.err
    assert "12 of 13 images scored" in captured.err
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 13 and sum(row["label"] == "error" for row in rows) == 1
    assert "member_deep_svdd" in rows[0]


def test_detect_glob_threshold_and_jsonl(tiny_model_dir, image_folder, tmp_path, capsys) -> None:
    out = tmp_path / "r.jsonl"
    pattern = str(image_folder / "FAKE" / "*.png")
    code = main(["detect", pattern, "--model", str(tiny_model_dir), "--threshold", "score:-1000", "--output", str(out)])
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


def test_evaluate_on_a_folder_writes_results_and_plots(tiny_model_dir, image_folder, tmp_path, capsys) -> None:
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model_dir), "--dataset", str(image_folder), "--output", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    results = json.loads((out / "results.json").read_text())
    assert results["inference_precision"] == "float32"  # as the published figures
    # The folder's fakes are noise and its reals smooth gradients: compressed size alone separates them, and the
    # summary and a warning say so.
    shortcuts = results["shortcut_baselines"]
    assert shortcuts["png_bits"] == {"auroc": 1.0, "higher_means": "fake"}
    assert shortcuts["log10_megapixels"] == {"auroc": 0.5, "higher_means": None}  # every image is 32 x 32
    assert shortcuts["detector_auroc_within_png_bits_quintiles"] is None  # no bin of similar images holds both classes
    assert json.loads(captured.out.splitlines()[-1])["strongest_shortcut"]["auroc"] == 1.0
    assert "alone reaches AUROC 1.000 on this set, as high as the detector's 1.000" in captured.err
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


# ------------------------------------------------------------------------------ scans that never lose work


@pytest.fixture(scope="module")
def scan_folder(tmp_path_factory) -> Path:
    """240 small PNGs (named so that one looks like a spreadsheet formula) and one corrupt file."""
    import numpy as np
    from PIL import Image

    folder = tmp_path_factory.mktemp("scan")
    rng = np.random.default_rng(3)
    for index in range(240):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"image_{index:03d}.png")
    Image.new("RGB", (32, 32)).save(folder / "=1+2.png")
    (folder / "broken.png").write_bytes(b"not a png")
    return folder


def _default_ctrl_c() -> None:
    """In the child: Ctrl-C (SIGINT) back to its default. A shell starts background jobs with SIGINT ignored, and
    a process inherits that, so a test run in the background (as CI may be) would otherwise never see it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _scan(model: Path, folder: Path, output: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "deepfake_detectors.cli", "detect", str(folder), "--model", str(model),
               "--output", str(output), "--batch-size", "2", "--no-progress", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_ctrl_c)


def _wait_for_rows(path: Path, rows: int, process: subprocess.Popen) -> None:
    import time

    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if path.exists() and len(path.read_text().splitlines()) >= rows:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {rows} rows (exit code {process.poll()})")


def _sources(path: Path) -> list[str]:
    return [json.loads(line)["source"] for line in path.read_text().splitlines()]


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
def test_interrupted_scan_resumes_with_every_image_once(tiny_model_dir, scan_folder, tmp_path, signal_name) -> None:
    import signal

    output = tmp_path / "results.jsonl"
    partial = tmp_path / "results.jsonl.partial"
    first = _scan(tiny_model_dir, scan_folder, output)
    _wait_for_rows(partial, 10, first)
    first.send_signal(getattr(signal, signal_name))
    first.communicate(timeout=60)
    if signal_name == "SIGINT":
        assert first.returncode == 130 and output.exists() and not partial.exists()
        kept = _sources(output)
    else:
        assert first.returncode == -signal.SIGKILL and partial.exists()
        kept = _sources(partial)
    assert 10 <= len(kept) < 242
    second = _scan(tiny_model_dir, scan_folder, output, "--resume")
    _, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr
    assert "resuming" in stderr and not partial.exists()
    sources = _sources(output)
    assert len(sources) == len(set(sources)) == 242  # every file exactly once, the corrupt one with its error
    assert sources[: len(kept)] == kept


def test_output_path_is_checked_before_scoring_and_csv_cells_are_escaped(
    tiny_model_dir, scan_folder, tmp_path, capsys, monkeypatch
) -> None:
    assert main(["detect", str(scan_folder), "--model", str(tiny_model_dir), "--output", str(tmp_path / "x.txt")]) == 2
    assert "must end in .jsonl, .json or .csv" in capsys.readouterr().err
    out = tmp_path / "results.csv"
    monkeypatch.chdir(scan_folder)
    assert main(["detect", "=1+2.png", "--model", str(tiny_model_dir), "--output", str(out)]) == 0
    assert next(csv.DictReader(out.open()))["source"] == "'=1+2.png"  # a spreadsheet shows it, never runs it


def test_closed_pipe_ends_the_scan_quietly(tiny_model_dir, scan_folder) -> None:
    command = [sys.executable, "-m", "deepfake_detectors.cli", "detect", str(scan_folder), "--model",
               str(tiny_model_dir), "--batch-size", "2", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    stderr = process.stderr.read()
    process.wait(timeout=120)
    assert "Traceback" not in stderr and process.returncode in (0, 1)


def test_accelerate_launch_shards_a_scan_over_two_processes(tiny_model_dir, scan_folder, tmp_path) -> None:
    """`accelerate launch --num_processes 2 -m deepfake_detectors.cli detect ...`: each image scored once, one output."""
    import shutil

    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if launcher is None:
        pytest.skip("accelerate's launcher is not installed")
    output = tmp_path / "sharded.jsonl"
    command = [launcher, "launch", "--cpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", "-m", "deepfake_detectors.cli", "detect", str(scan_folder), "--model",
               str(tiny_model_dir), "--output", str(output), "--batch-size", "16", "--no-progress"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    sources = _sources(output)
    assert len(sources) == len(set(sources)) == 242
    assert not list(tmp_path.glob("sharded.rank*"))
    printed = [line.split("\t")[0] for line in finished.stdout.splitlines() if "\t" in line and line[:7] != "source\t"]
    assert len(printed) == len(set(printed)) == 241  # the corrupt file is reported on stderr, by one process


def test_help_and_version_need_no_torch_and_bad_arguments_stop_before_loading() -> None:
    """``--help``/``--version`` come from the standard-library parser; a bad threshold is refused at parse time."""
    probe = (
        "import sys, contextlib, io\n"
        "from deepfake_detectors_cli import main\n"
        "for argv in (['--help'], ['--version'], ['detect', '--help'], ['detect', 'x.jpg', '--threshold', '3']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(sorted(name for name in ('torch', 'transformers', 'deepfake_detectors') if name in sys.modules))\n"
    )
    finished = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"
    usage = subprocess.run([sys.executable, "-m", "deepfake_detectors_cli", "detect", "--help"], capture_output=True, text=True)
    assert "examples:" in usage.stdout and "(default: 64)" in usage.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "deepfake_detectors_cli", "detect", "x.jpg", "--threshold", "3"], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "score:3" in refused.stderr


def test_folder_scan_names_unsupported_formats_as_skipped(tiny_model_dir, tmp_path, capsys) -> None:
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    Image.new("RGB", (40, 40), "grey").save(folder / "ok.png")
    code = main(["detect", str(folder), "--model", str(tiny_model_dir), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0
    assert "IMG_0001.HEIC" in captured.err and "HEIC images are not supported" in captured.err
    assert "1 of 1 images scored, 0 could not be read, 1 skipped" in captured.err


def test_detect_says_which_calibration_judged_a_photo(tmp_path, capsys) -> None:
    """A CIFAKE-trained repo judges a photo on its out-of-domain calibration: the CSV and the summary say so."""
    out = tmp_path / "r.csv"
    photos = [str(REPO_ROOT / "examples" / name) for name in ("photo_real_01.jpg", "real_01.jpg")]
    code = main(["detect", *photos, "--model", str(REPO_ROOT / "hub_repos" / "deepfake-ela-cnn"), "--output", str(out)])
    assert code == 0
    rows = {Path(row["source"]).name: row for row in csv.DictReader(out.open())}
    assert rows["photo_real_01.jpg"]["calibration_domain"] == "out-of-domain"
    assert rows["real_01.jpg"]["calibration_domain"] == "in-domain"
    err = capsys.readouterr().err
    assert "threshold optimal = " in err and "far outside its domain: balanced = " in err
    assert "from its out-of-domain calibration" in err


def test_detect_prints_a_metadata_declaration_beside_an_unchanged_verdict(tiny_model_dir, tmp_path, capsys) -> None:
    from PIL import Image, PngImagePlugin

    folder = tmp_path / "images"
    folder.mkdir()
    settings = PngImagePlugin.PngInfo()
    settings.add_text("parameters", "a cat\nSteps: 30, Sampler: DPM++ 2M")  # what AUTOMATIC1111 writes
    picture = Image.new("RGB", (32, 32), (120, 80, 40))
    picture.save(folder / "labelled.png", pnginfo=settings)
    picture.save(folder / "plain.png")
    table = tmp_path / "scan.csv"
    assert main(["detect", str(folder), "--model", str(tiny_model_dir), "--no-progress", "--output", str(table)]) == 0
    out, err = capsys.readouterr()
    scores = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in out.splitlines()[1:]}
    assert scores["labelled.png"] == scores["plain.png"]  # same pixels, same score: metadata never scores
    assert f"declared: {folder / 'labelled.png'}: its metadata declares AI generation" in err
    assert "plain.png" not in err
    assert "1 whose metadata declares AI generation" in err
    with table.open() as handle:
        rows = {Path(row["source"]).name: row for row in csv.DictReader(handle)}
    assert rows["labelled.png"]["metadata_declares_ai"] == "True" and rows["plain.png"]["metadata_declares_ai"] == "False"
    assert rows["labelled.png"]["metadata_evidence"].startswith("PNG text 'parameters'")


def test_detect_precision_bfloat16_names_the_members_it_switched(tmp_path, capsys) -> None:
    out = tmp_path / "r.jsonl"
    photo = str(REPO_ROOT / "examples" / "photo_real_01.jpg")
    model = str(REPO_ROOT / "hub_repos" / "deepfake-reconstruction-error")
    assert main(["detect", photo, "--model", model, "--precision", "bfloat16", "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "precision: bfloat16 for reconstruction_error (thresholds calibrated in float32)" in err
    assert json.loads(out.read_text().splitlines()[0])["score"] is not None
    with pytest.raises(SystemExit):
        main(["detect", photo, "--precision", "float16"])
