"""Further training sources from git repositories (deepfake_detectors.training.photo_sources)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from deepfake_detectors.training import load_image_dataset
from deepfake_detectors.training.photo_sources import (
    PhotoSource,
    build_photo_dataset,
    check_not_reserved,
    normalise_photo,
    repo_digest,
)


def _encoded(size: tuple[int, int], fmt: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 10, 10, 128) if mode == "RGBA" else (200, 10, 10)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    """A mirror folder holding one committed repository ``someone/images``."""
    repo = tmp_path / "mirror" / "someone+images"
    (repo / "sdxl").mkdir(parents=True)
    (repo / "photos").mkdir()
    (repo / "sdxl" / "a.png").write_bytes(_encoded((600, 300), "PNG", "RGBA"))
    (repo / "sdxl" / "b.webp").write_bytes(_encoded((512, 512), "WEBP"))
    (repo / "sdxl" / "tiny.png").write_bytes(_encoded((100, 100), "PNG"))
    (repo / "sdxl" / "broken.jpg").write_bytes(b"not an image")
    (repo / "photos" / "c.jpg").write_bytes(_encoded((300, 400), "JPEG"))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "images"], check=True)
    return tmp_path / "mirror"


def test_normalise_photo_crops_at_native_resolution_and_skips_small_images():
    jpeg, original_format, width, height = normalise_photo(_encoded((600, 300), "PNG"), crop=256, quality=90)
    image = Image.open(io.BytesIO(jpeg))
    assert (image.format, image.size, original_format, width, height) == ("JPEG", (256, 256), "PNG", 600, 300)
    assert normalise_photo(_encoded((255, 900), "PNG")) is None


def test_build_photo_dataset_writes_wild_columns_and_skips_bad_files(mirror: Path, tmp_path: Path):
    reserved = tmp_path / "RESERVED_SOURCES.sha256"
    reserved.write_text(repo_digest("other/repo") + "\n")
    sources = [PhotoSource("someone/images", ("sdxl/*",), 1, "someone-sdxl", "{folder}-model", "MIT"),
               PhotoSource("someone/images", ("photos/*", "none/*"), 0, "someone-photos", limit=5)]
    counts = build_photo_dataset(mirror, sources, tmp_path / "out", reserved, validation_fraction=0.0)
    assert counts == {"train": {"someone-sdxl": 2, "someone-photos": 1}, "validation": {}}
    train = load_image_dataset(str(tmp_path / "out"), "train")
    assert set(train.column_names) >= {"image", "label", "source", "generator", "original_format"}
    assert sorted(zip(train["source"], train["label"], train["generator"])) == [
        ("someone-photos", 0, ""), ("someone-sdxl", 1, "sdxl-model"), ("someone-sdxl", 1, "sdxl-model")]
    assert all(max(image.size) <= 256 for image in train["image"])
    provenance = json.loads((tmp_path / "out" / "sources.json").read_text())["sources"]
    assert len(provenance["someone-sdxl"]["commit"]) == 40


def test_reserved_sources_are_refused_before_anything_is_read(tmp_path: Path):
    reserved = tmp_path / "RESERVED_SOURCES.sha256"
    reserved.write_text(f"{repo_digest('Someone/Images')}  reserved\n")
    with pytest.raises(ValueError, match="someone/images"):
        check_not_reserved([PhotoSource("someone/images", ("*",), 1, "x")], reserved)
    with pytest.raises(ValueError, match="reserved"):
        build_photo_dataset(tmp_path / "nowhere", [PhotoSource("someone/images", ("*",), 1, "x")], tmp_path / "out",
                            reserved)
