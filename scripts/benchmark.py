#!/usr/bin/env python
"""Throughput of every bundled detector on this machine: whole pipeline vs the sum of its members' own times.

Images are JPEG files written to a temporary folder (so decoding is included, as in real use); each detector
scores them in batches through ``EnsembleDeepfakeDetector.predict``. For an ensemble, each member is also run
alone through the same pipeline (its own loading, resizing and features), and the sum of those times is reported
next to the ensemble's: shared image loading and feature computation should make the ensemble cost no more.

Example:
    python scripts/benchmark.py --output docs/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image

from deepfake_detectors import EnsembleDeepfakeDetector


def write_images(folder: Path, count: int, size: int, seed: int = 0) -> list[str]:
    """Write ``count`` random-content JPEGs of ``size`` px (smooth noise, like small photos)."""
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        coarse = rng.integers(0, 256, (size // 4 + 1, size // 4 + 1, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((size, size), Image.BICUBIC)
        path = folder / f"image_{index:05d}.jpg"
        image.save(path, quality=90)
        paths.append(str(path))
    return paths


def images_per_second(detector: EnsembleDeepfakeDetector, paths: list[str], batch_size: int, repeats: int) -> float:
    """Best-of-``repeats`` throughput of ``predict`` on the files (after one warm-up batch)."""
    detector.predict(paths[:batch_size], batch_size=batch_size)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        detector.predict(paths, batch_size=batch_size)
        best = min(best, time.perf_counter() - started)
    return len(paths) / best


def benchmark_repo(repo: Path, paths: list[str], batch_size: int, repeats: int) -> list[str]:
    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    rows = []
    whole = images_per_second(detector, paths, batch_size, repeats)
    if len(detector.members) > 1:
        member_seconds = {}
        for name in detector.members:
            single = EnsembleDeepfakeDetector.from_members(
                {name: (detector.members[name], detector.processors[name])}, device="cpu"
            )
            member_seconds[name] = len(paths) / images_per_second(single, paths, batch_size, repeats)
        total = sum(member_seconds.values())
        for name, seconds in member_seconds.items():
            rows.append(f"| {repo.name} / {name} | {batch_size} | {len(paths) / seconds:.1f} | |")
        rows.append(
            f"| **{repo.name}** (whole) | {batch_size} | **{whole:.1f}** | sum of members alone: "
            f"{len(paths) / total:.1f} img/s ({total:.2f} s vs {len(paths) / whole:.2f} s) |"
        )
    else:
        rows.append(f"| **{repo.name}** | {batch_size} | **{whole:.1f}** | |")
    return rows


def bare_forward_per_second(module: torch.nn.Module, shape: tuple[int, ...], repeats: int) -> float:
    """Best-of-``repeats`` images/s of a bare ``module`` forward pass on a random batch of ``shape`` (no I/O)."""
    batch = torch.randn(shape)
    module.eval()
    with torch.inference_mode():
        module(batch)
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            module(batch)
            best = min(best, time.perf_counter() - started)
    return shape[0] / best


def overhead_rows(repo: Path, paths: list[str], batch_size: int, repeats: int) -> list[str]:
    """Supervised classifiers: the whole pipeline next to the bare network (EfficientNet: the bare backbone)."""
    from deepfake_detectors import EfficientNetDetectorForImageClassification, ElaCnnForImageClassification

    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    if len(detector.members) != 1:
        return []
    name, model = next(iter(detector.members.items()))
    processor = detector.processors[name]
    size = processor.size
    if isinstance(model, EfficientNetDetectorForImageClassification):
        bare, what, channels = model.backbone, f"bare {model.config.backbone} backbone", 3
    elif isinstance(model, ElaCnnForImageClassification):
        bare, what, channels = model, "bare CNN (no ELA)", model.config.num_channels
    else:
        return []
    # Interleaved rounds, best of each: a slow moment of this shared machine then hits both sides alike.
    whole, network = 0.0, 0.0
    for _ in range(repeats):
        whole = max(whole, images_per_second(detector, paths, batch_size, 1))
        network = max(network, bare_forward_per_second(bare, (batch_size, channels, size, size), 1))
    overhead = network / whole - 1.0
    return [f"| {repo.name} | {size} px | {batch_size} | {whole:.1f} | {what}: {network:.1f} | {overhead:+.0%} |"]


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--image-size", type=int, default=32, help="side of the JPEG files")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=None, help="write the Markdown report here")
    args = parser.parse_args(argv)
    repos = sorted(p for p in Path(args.hub_dir).iterdir() if (p / "config.json").exists())
    with tempfile.TemporaryDirectory() as folder:
        paths = write_images(Path(folder), args.images, args.image_size)
        rows = [row for repo in repos for row in benchmark_repo(repo, paths, args.batch_size, args.repeats)]
        overhead = [row for repo in repos for row in overhead_rows(repo, paths, args.batch_size, args.repeats)]
    header = [
        "# Benchmarks",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, no GPU.",
        f"Workload: {args.images} JPEG files of {args.image_size}x{args.image_size} px scored from disk with "
        f"`predict` (decode, resize, features, members, calibration), batch size {args.batch_size}, best of "
        f"{args.repeats} runs after a warm-up batch.",
        "",
        f"Command: `python scripts/benchmark.py --images {args.images} --image-size {args.image_size} "
        f"--batch-size {args.batch_size} --output docs/BENCHMARKS.md` (also `make bench`).",
        "",
        "| detector | batch | images / s | note |",
        "|---|---|---|---|",
    ]
    overhead_table = [
        "",
        "## Supervised classifiers: pipeline vs bare network",
        "",
        "The whole `predict` path (read the JPEG, resize, normalise or compute the ELA map, forward, calibrate) next",
        "to the bare network's forward pass on an in-memory random batch of the same size and resolution. Overhead =",
        "time of the pipeline / time of the bare forward - 1.",
        "",
        "| detector | input | batch | pipeline images / s | bare network images / s | overhead |",
        "|---|---|---|---|---|---|",
    ]
    report = "\n".join(header + rows + overhead_table + overhead) + "\n"
    print(report)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
