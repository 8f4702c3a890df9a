"""Explanation images (FFT spectrum, error maps, Grad-CAM / ELA per member), EXIF metadata and scripts/predict.py."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import REPO_ROOT, noisy_image, smooth_image
from deepfake_detectors import (
    DeepfakeImageProcessor,
    EfficientNetDetectorConfig,
    EfficientNetDetectorForImageClassification,
    ElaCnnConfig,
    ElaCnnForImageClassification,
    ElaImageProcessor,
    EnsembleDeepfakeDetector,
    ResidualAutoencoderConfig,
    ResidualAutoencoderModel,
)
from deepfake_detectors.explanations import exif_metadata, explain_image, fft_spectrum, prediction_figure


def test_fft_spectrum_shows_a_periodic_pattern_as_peaks() -> None:
    x = np.arange(32)
    stripes = (127 + 100 * np.sin(2 * np.pi * x / 4))[None, :].repeat(32, 0)  # period 4 along x
    image = Image.fromarray(np.stack([stripes] * 3, -1).astype(np.uint8))
    spectrum = np.asarray(fft_spectrum(image), dtype=np.float64)
    assert spectrum.shape == (32, 32)
    peak = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    assert peak[0] == 16 and abs(peak[1] - 16) == 8  # frequency 32 / 4 = 8 bins from the centre, on the x axis


def test_explain_image_gives_each_members_own_explanation() -> None:
    members = {
        "effnet": (
            EfficientNetDetectorForImageClassification(EfficientNetDetectorConfig(image_size=32, head_hidden_size=8)),
            DeepfakeImageProcessor(size=32, image_mean=[0.5] * 3, image_std=[0.5] * 3),
        ),
        "ela": (ElaCnnForImageClassification(ElaCnnConfig(hidden_sizes=[4, 8])), ElaImageProcessor(size=32)),
        "ae": (
            ResidualAutoencoderModel(ResidualAutoencoderConfig(image_size=32, hidden_sizes=[4, 8], latent_dim=8)),
            DeepfakeImageProcessor(size=32),
        ),
    }
    detector = EnsembleDeepfakeDetector.from_members(members)
    image = noisy_image(np.random.default_rng(0), size=40)
    images = explain_image(detector, image)
    assert sorted(images) == ["Autoencoder error (ae)", "ELA map (ela)", "FFT spectrum", "Grad-CAM (effnet)"]
    assert images["Grad-CAM (effnet)"].size == (40, 40)
    assert images["ELA map (ela)"].size == (40, 40)  # full resolution for images larger than the model input
    assert images["Autoencoder error (ae)"].size == (32, 32)
    from deepfake_detectors.modeling.base import Explanation

    for name, (model, processor) in members.items():  # one explanation type for every detector
        explanation = model.explain(image, processor=processor)
        assert isinstance(explanation, Explanation), name
        assert explanation.heatmap.ndim == 2 and float(explanation.heatmap.max()) <= 1.0
        assert explanation.probability is None or 0.0 <= explanation.probability <= 1.0


def test_exif_metadata_reads_camera_software_and_dates(tmp_path: Path) -> None:
    image = smooth_image(np.random.default_rng(0))
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS 5D"  # Model
    exif[0x0131] = "Stable Diffusion"  # Software
    exif[0x0132] = "2024:01:02 03:04:05"  # DateTime
    path = tmp_path / "with_exif.jpg"
    image.save(path, exif=exif)
    expected = {"Make": "Canon", "Model": "EOS 5D", "Software": "Stable Diffusion", "DateTime": "2024:01:02 03:04:05"}
    assert exif_metadata(path) == expected
    assert exif_metadata(path.read_bytes()) == expected
    assert exif_metadata(REPO_ROOT / "examples" / "real_01.jpg") == {}
    assert exif_metadata(tmp_path / "missing.jpg") == {}


def test_prediction_figure_and_predict_script(tmp_path: Path) -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / "deepfake-ela-cnn")
    path = REPO_ROOT / "examples" / "fake_01.jpg"
    result = detector.predict(str(path))
    figure = prediction_figure(path, result, explain_image(detector, path))
    assert len(figure.axes) == 3 and result.label.upper() in figure._suptitle.get_text()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert Image.open(buffer).size[0] > 300

    out = tmp_path / "prediction.png"
    command = [sys.executable, str(REPO_ROOT / "scripts" / "predict.py"), str(path), "--save", str(out),
               "--model", str(REPO_ROOT / "hub_repos" / "deepfake-ela-cnn"), "--threshold", "strict"]
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"}, timeout=300)
    assert completed.returncode == 0, completed.stderr
    row = json.loads(completed.stdout.strip().splitlines()[-1])
    assert row["threshold_name"] == "strict" and row["label"] in ("real", "fake")
    assert Image.open(out).format == "PNG"
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    failed = subprocess.run(command[:2] + [str(bad)] + command[3:], capture_output=True, text=True, timeout=300)
    assert failed.returncode == 2 and "broken.jpg" in failed.stderr and "Traceback" not in failed.stderr
    (tmp_path / "headless").mkdir()
    headless = subprocess.run(  # --visualize without a display saves the figure instead
        command[:3] + ["--visualize", "--precision", "bfloat16"], capture_output=True, text=True, timeout=300,
        cwd=tmp_path / "headless",
        env={key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")},
    )
    assert headless.returncode == 0 and "no display" in headless.stderr
    assert "precision: bfloat16 for" in headless.stderr  # the default detector's photo judge switches
    assert Image.open(tmp_path / "headless" / "prediction.png").format == "PNG"
