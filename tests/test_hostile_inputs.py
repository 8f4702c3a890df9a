"""Hostile and unlucky inputs: whatever a file holds, the loader returns an RGB image or raises ImageLoadError."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepfake_detectors import ImageLoadError, load_image

FORMATS = {"PNG": {}, "JPEG": {"quality": 90}, "GIF": {}, "TIFF": {}, "WEBP": {"quality": 80}, "BMP": {}}


def _valid_files(rng: np.random.Generator) -> dict[str, bytes]:
    pixels = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    files = {}
    for name, options in FORMATS.items():
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=name, **options)
        files[name] = buffer.getvalue()
    return files


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One seeded mutation: flipped bytes, a truncation, inserted junk or a repeated slice."""
    array = bytearray(data)
    kind = rng.integers(0, 4)
    if kind == 0:
        for position in rng.integers(0, len(array), size=int(rng.integers(1, 9))):
            array[position] = int(rng.integers(0, 256))
    elif kind == 1:
        array = array[: int(rng.integers(1, len(array)))]
    elif kind == 2:
        position = int(rng.integers(0, len(array)))
        array[position:position] = rng.integers(0, 256, size=int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    else:
        start = int(rng.integers(0, len(array)))
        piece = array[start : start + int(rng.integers(1, 128))]
        position = int(rng.integers(0, len(array)))
        array[position:position] = piece * int(rng.integers(1, 4))
    return bytes(array)


def test_seeded_fuzz_of_six_formats_never_escapes_image_load_error() -> None:
    """Mutations of valid PNG, JPEG, GIF, TIFF, WebP and BMP files (a few seconds; seed fixed)."""
    rng = np.random.default_rng(2026)
    outcomes = {"decoded": 0, "refused": 0}
    for name, data in _valid_files(rng).items():
        for _ in range(80):
            try:
                image = load_image(_mutate(data, rng))
            except ImageLoadError as error:
                assert error.source.startswith("<") and error.reason
                outcomes["refused"] += 1
            else:
                assert image.mode == "RGB" and min(image.size) >= 1, name
                outcomes["decoded"] += 1
    assert outcomes["decoded"] > 0 and outcomes["refused"] > 0


def test_crafted_files_named_as_images_give_a_clear_error(tmp_path: Path) -> None:
    qoi = tmp_path / "qoi.png"
    qoi.write_bytes(b"qoif\x00\x00\x00\x10\x00\x00\x00\x10\x03\x00" + bytes(26))  # truncated QOI, .png name
    dds = tmp_path / "texture.jpg"
    dds.write_bytes(b"DDS |" + bytes(187))  # a 192-byte DDS header named .jpg
    for path in (qoi, dds):  # Pillow raises IndexError / NotImplementedError on these; the loader names the file
        with pytest.raises(ImageLoadError, match=path.name):
            load_image(path)


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageLoadError, match="not a regular file"):
        load_image(fifo)
    with pytest.raises(ImageLoadError, match="is a directory"):
        load_image(tmp_path)
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    with pytest.raises(ImageLoadError, match="cannot stat"):
        load_image(loop)


def test_arrays_never_wrap_and_float_images_must_be_finite(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="outside 0-255"):
        load_image(np.full((8, 8, 3), 300, dtype=np.int64))
    assert np.asarray(load_image(np.full((8, 8, 3), 200, dtype=np.int64))).max() == 200
    assert np.asarray(load_image(np.ones((8, 8), dtype=bool))).min() == 255
    values = np.ones((8, 8), dtype=np.float32)
    values[2, 3] = np.nan
    Image.fromarray(values, mode="F").save(tmp_path / "nan.tif")
    with pytest.raises(ImageLoadError, match="NaN"):
        load_image(tmp_path / "nan.tif")
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    loaded = np.asarray(load_image(tmp_path / "deep.png"))
    assert loaded.min() == 0 and loaded.max() == 255


# ------------------------------------------------------------------------------------------- hostile repos


def _tiny_repo(tmp_path: Path) -> Path:
    from deepfake_detectors import EnsembleDeepfakeDetector, NativeCropImageProcessor, NprDetectorConfig
    from deepfake_detectors import NprDetectorForImageClassification

    model = NprDetectorForImageClassification(NprDetectorConfig(hidden_sizes=[4, 8], image_size=32)).eval()
    processor = NativeCropImageProcessor(crop_size=32, crops_per_side=1)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(8)]
    detector = EnsembleDeepfakeDetector.from_members({"npr": (model, processor)}, device="cpu")
    detector.calibrate(images[:4], images[4:])
    directory = tmp_path / "repo"
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def test_nan_thresholds_are_a_load_error_and_a_nonzero_exit(tmp_path: Path, capsys) -> None:
    import json

    from deepfake_detectors import EnsembleDeepfakeDetector
    from deepfake_detectors.cli import main

    repo = _tiny_repo(tmp_path)
    config = json.loads((repo / "config.json").read_text())
    config["calibration"]["thresholds"]["balanced"] = float("nan")
    (repo / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="thresholds.balanced = nan"):
        EnsembleDeepfakeDetector.from_pretrained(repo)
    image = tmp_path / "image.png"
    Image.new("RGB", (32, 32)).save(image)
    assert main(["detect", str(image), "--model", str(repo)]) == 2
    assert "not a finite number" in capsys.readouterr().err


def test_remote_code_is_never_run_or_prompted(tmp_path: Path) -> None:
    import json

    from deepfake_detectors import EnsembleDeepfakeDetector

    repo = _tiny_repo(tmp_path)
    config = json.loads((repo / "config.json").read_text())
    config.update(model_type="someone-elses-model", auto_map={"AutoConfig": "evil.EvilConfig"})
    (repo / "config.json").write_text(json.dumps(config))
    (repo / "evil.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises((ValueError, OSError)):
        EnsembleDeepfakeDetector.from_pretrained(repo)


def test_ensemble_members_must_live_inside_the_repo(tmp_path: Path) -> None:
    import json

    from deepfake_detectors import EnsembleDeepfakeDetector

    member = _tiny_repo(tmp_path)
    ensemble = tmp_path / "ensemble"
    ensemble.mkdir()
    for path in ("../repo", str(member.resolve())):
        (ensemble / "config.json").write_text(
            json.dumps({"model_type": "deepfake-ensemble", "members": [{"name": "npr", "path": path, "weight": 1}]})
        )
        with pytest.raises(ValueError, match="outside the repo"):
            EnsembleDeepfakeDetector.from_pretrained(ensemble)
    (ensemble / "members").mkdir()
    (ensemble / "members" / "npr").symlink_to(member.resolve())
    (ensemble / "config.json").write_text(
        json.dumps({"model_type": "deepfake-ensemble", "members": [{"name": "npr", "path": "members/npr"}]})
    )
    with pytest.raises(ValueError, match="through a link"):
        EnsembleDeepfakeDetector.from_pretrained(ensemble)


def test_folder_and_glob_scans_survive_link_loops_and_special_files(tmp_path: Path) -> None:
    from deepfake_detectors.processing import iter_image_files

    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.png", "a/b/y.png", "z.png"):
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    (tmp_path / "a" / "b" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "a" / "loop2").symlink_to(tmp_path)
    os.mkfifo(tmp_path / "pipe.png")
    skipped: list = []
    expected = [str(tmp_path / name) for name in ("a/b/y.png", "a/x.png", "z.png")]
    assert iter_image_files([str(tmp_path / "**" / "*.png")], skipped) == expected
    assert skipped == [(str(tmp_path / "pipe.png"), "not a regular file")]
    assert iter_image_files([tmp_path, str(tmp_path / "a" / "x.png")]) == expected  # each file once
    assert iter_image_files([str(tmp_path / "a" / "*.png")]) == [str(tmp_path / "a" / "x.png")]


# ------------------------------------------------------------------------ the committed hostile corpus

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
NPR_REPO = Path(__file__).resolve().parents[1] / "hub_repos" / "deepfake-npr-detector"
#: The default detector: EfficientNet and NPR routed by domain (two domain checks, and a CNN on small images).
DEFAULT_REPO = Path(__file__).resolve().parents[1] / "hub_repos" / "deepfake-detector"


def test_corpus_is_what_its_script_writes() -> None:
    from make_hostile_corpus import build

    assert sorted(path.name for path in HOSTILE.iterdir()) == sorted(build())


@pytest.mark.parametrize("repo", [NPR_REPO, DEFAULT_REPO], ids=["npr", "default"])
def test_hostile_corpus_through_the_cli_and_the_python_api(repo: Path, capsys) -> None:
    from deepfake_detectors import EnsembleDeepfakeDetector
    from deepfake_detectors.cli import main

    if not repo.exists():
        pytest.skip(f"bundled repo {repo.name} not built")
    files = sorted(str(path) for path in HOSTILE.iterdir())
    assert main(["detect", str(HOSTILE), "--model", str(repo), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    scored = {line.split("\t")[0] for line in captured.out.splitlines()}
    reported = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    for path in files:  # every file is either scored or reported, by name
        assert (path in scored) != any(Path(path).name in line for line in reported), path
    assert {path for path in files if Path(path).name.startswith("good_")} <= scored
    results = EnsembleDeepfakeDetector.from_pretrained(repo).predict(files)
    assert [result.source for result in results] == files
    for result in results:
        assert (result.error is None) == (result.source in scored)
        assert result.error is None or Path(result.source).name in result.error


def test_damaged_model_files_are_clear_errors(tmp_path: Path, capsys) -> None:
    import json

    from deepfake_detectors.cli import main

    repo = _tiny_repo(tmp_path)
    image = tmp_path / "image.png"
    Image.new("RGB", (32, 32)).save(image)
    weights = (repo / "model.safetensors").read_bytes()
    (repo / "model.safetensors").write_bytes(weights[: len(weights) // 2])  # a cut-off download
    assert main(["detect", str(image), "--model", str(repo)]) == 2
    assert "cannot load the model" in capsys.readouterr().err
    repo = _tiny_repo(tmp_path / "second")
    processor = json.loads((repo / "preprocessor_config.json").read_text())
    processor["crop_size"] = 100_000
    (repo / "preprocessor_config.json").write_text(json.dumps(processor))
    assert main(["detect", str(image), "--model", str(repo)]) == 2
    assert "crop_size" in capsys.readouterr().err


def test_nan_in_saved_statistics_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from deepfake_detectors import EnsembleDeepfakeDetector

    repo = _tiny_repo(tmp_path)
    tensors = load_file(repo / "model.safetensors")
    name = next(key for key in tensors if key.endswith("running_mean"))
    tensors[name][0] = float("nan")
    save_file(tensors, repo / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match="NaN or infinite"):
        EnsembleDeepfakeDetector.from_pretrained(repo)
