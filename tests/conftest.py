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
