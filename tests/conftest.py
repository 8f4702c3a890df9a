"""Shared fixtures: tiny random detectors and small synthetic image folders."""

from __future__ import annotations

import importlib.util
import os
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The unit tests run tiny models: one thread avoids OpenMP overhead (and stalls when the CPU is shared).
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
CIFAKE = SHARED_DATA / "cifake"


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
    np.random.seed(0)


def load_script(name: str) -> types.ModuleType:
    """Import ``scripts/<name>.py`` as a module (the scripts are not a package), to call its parser or ``main``."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", REPO_ROOT / "scripts" / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def smooth_image(rng: np.random.Generator, size: int = 32) -> Image.Image:
    """A smooth random colour gradient (stands in for a "real" photo in unit tests)."""
    y, x = np.mgrid[0:size, 0:size] / size
    channels = [rng.uniform(0, 255) * (a * x + (1 - a) * y) for a in rng.uniform(0, 1, 3)]
    return Image.fromarray(np.clip(np.stack(channels, -1), 0, 255).astype(np.uint8))


def noisy_image(rng: np.random.Generator, size: int = 32) -> Image.Image:
    """Uniform noise (stands in for an out-of-distribution image)."""
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


def upsampled_image(rng: np.random.Generator, size: int) -> Image.Image:
    """Noise at half resolution, 2x nearest-neighbour up-sampled: every 2 x 2 block holds one value."""
    small = rng.integers(0, 256, (size // 2, size // 2, 3), dtype=np.uint8)
    return Image.fromarray(small.repeat(2, axis=0).repeat(2, axis=1))


def labelled_crop_splits(root: Path, per_class: int, splits: tuple[str, ...], seed: int = 0) -> Path:
    """A `datasets` folder (parquet) with ``splits``: noise "real" photos and up-sampled "fake" images (48 px), with
    source and generator columns (for the native-crop training and repo tests)."""
    import datasets

    rng = np.random.default_rng(seed)
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=["real", "fake"]),
                                  "source": datasets.Value("string"), "generator": datasets.Value("string")})
    for split in splits:
        images = [noisy_image(rng, 48) for _ in range(per_class)] + [upsampled_image(rng, 48) for _ in range(per_class)]
        table = datasets.Dataset.from_dict(
            {"image": images, "label": [0] * per_class + [1] * per_class,
             "source": ["cam"] * per_class + ["gen"] * per_class, "generator": [""] * per_class + ["x"] * per_class},
            features,
        )
        table.to_parquet(str(root / "data" / f"{split}-00000-of-00001.parquet"))
    return root / "data"


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder with real/ (smooth) and FAKE/ (noise) PNGs plus one corrupt file in real/."""
    rng = np.random.default_rng(1)
    for name, make in (("real", smooth_image), ("FAKE", noisy_image)):
        folder = tmp_path / "images" / name
        folder.mkdir(parents=True)
        for index in range(6):
            make(rng).save(folder / f"{name.lower()}_{index}.png")
    (tmp_path / "images" / "real" / "broken.jpg").write_bytes(b"definitely not a jpeg")
    return tmp_path / "images"
