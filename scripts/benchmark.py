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
from typing import Callable, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from deepfake_detectors import EnsembleDeepfakeDetector, NativeCropImageProcessor


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


def write_photos(folder: Path, count: int, width: int, height: int, seed: int = 0) -> list[str]:
    """Write ``count`` camera-sized JPEGs (smooth content plus fine sensor-like noise, quality 92)."""
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        coarse = rng.integers(0, 256, (height // 64 + 1, width // 64 + 1, 3), dtype=np.uint8)
        smooth = np.asarray(Image.fromarray(coarse).resize((width, height), Image.BICUBIC), dtype=np.int16)
        noisy = np.clip(smooth + rng.integers(-6, 7, smooth.shape, dtype=np.int16), 0, 255).astype(np.uint8)
        path = folder / f"photo_{width}x{height}_{index:02d}.jpg"
        Image.fromarray(noisy).save(path, quality=92)
        paths.append(str(path))
    return paths


def photo_size_rows(repos: Sequence[Path], folder: Path, count: int, repeats: int) -> list[str]:
    """Images/s of every detector on 1 MP and 12 MP JPEGs, next to decoding the same files alone."""
    from deepfake_detectors import load_image

    rows = []
    for label, width, height in (("1 MP", 1152, 864), ("12 MP", 4000, 3000)):
        paths = write_photos(folder, count, width, height)
        [load_image(path) for path in paths]
        decode = count / best_seconds(lambda: [load_image(path) for path in paths], repeats)
        rows.append(f"| {label} | decoding alone (`load_image`) | {decode:.2f} | 1.00x |")
        for repo in repos:
            detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
            detector.predict(paths[:1])
            speed = count / best_seconds(lambda: detector.predict(paths, batch_size=count), repeats)
            rows.append(f"| {label} | {repo.name} | {speed:.2f} | {decode / speed:.2f}x |")
    return rows


# VmHWM (peak resident memory of this process image) rather than ru_maxrss, which Linux carries over from the
# forked parent across exec: a child of a big benchmark process would report the parent's peak.
PEAK_MEMORY_CODE = (
    "import sys; from deepfake_detectors.cli import main; code = main(sys.argv[1:]); "
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr); "
    "sys.exit(code)"
)


def peak_memory_mb(model: Path, paths: list[str]) -> float:
    """Peak resident memory (MB) of one ``deepfake-detect detect`` process scoring ``paths``."""
    import subprocess
    import sys

    command = [sys.executable, "-c", PEAK_MEMORY_CODE, "detect", *paths, "--model", str(model), "--no-progress"]
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    return int(finished.stderr.strip().splitlines()[-1]) / 1024


def memory_rows(repos: Sequence[Path], folder: Path) -> list[str]:
    """Peak memory of ``detect`` on three 9400 x 9400 PNGs next to one small JPEG, per detector."""
    huge = []
    for index in range(3):
        path = folder / f"huge_{index}.png"
        Image.new("RGB", (9400, 9400), (40 * index, 90, 160)).save(path)  # flat: a ~100 KB file, 265 MB decoded
        huge.append(str(path))
    small = folder / "small.jpg"
    Image.new("RGB", (256, 256), (90, 90, 90)).save(small)
    rows = []
    for repo in repos:
        one_small, three_huge = peak_memory_mb(repo, [str(small)]), peak_memory_mb(repo, huge)
        rows.append(f"| {repo.name} | {one_small:.0f} MB | {three_huge:.0f} MB | {three_huge / one_small:.2f}x |")
    return rows


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    """The shortest of ``repeats`` timed calls of ``work`` (the caller warms up first)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def images_per_second(detector: EnsembleDeepfakeDetector, paths: list[str], batch_size: int, repeats: int) -> float:
    """Best-of-``repeats`` throughput of ``predict`` on the files (after one warm-up batch)."""
    detector.predict(paths[:batch_size], batch_size=batch_size)
    return len(paths) / best_seconds(lambda: detector.predict(paths, batch_size=batch_size), repeats)


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


def bare_forward_per_second(module: torch.nn.Module, shape: tuple[int, ...], count: int, repeats: int) -> float:
    """Best-of-``repeats`` images/s of bare ``module`` forward passes over ``count`` images (no I/O).

    The batches are one in-memory random batch of ``shape``, run ``ceil(count / shape[0])`` times, so the
    network does the same work as the pipeline it is compared with (a single short batch would let the best of
    a few runs pick one lucky moment of this shared machine).
    """
    batch = torch.randn(shape)
    batches = -(-count // shape[0])
    module.eval()
    with torch.inference_mode():
        module(batch)
        best = best_seconds(lambda: [module(batch) for _ in range(batches)], repeats)
    return batches * shape[0] / best


def overhead_rows(repo: Path, paths: list[str], batch_size: int, repeats: int) -> list[str]:
    """Supervised classifiers: the whole pipeline next to the bare network (EfficientNet: the bare backbone)."""
    from deepfake_detectors import EfficientNetDetectorForImageClassification, ElaCnnForImageClassification

    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    if len(detector.members) != 1:
        return []
    name, model = next(iter(detector.members.items()))
    processor = detector.processors[name]
    if isinstance(processor, NativeCropImageProcessor):
        return []  # no fixed input size; the photo-size table times it against decoding instead
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
        network = max(network, bare_forward_per_second(bare, (batch_size, channels, size, size), len(paths), 1))
    overhead = network / whole - 1.0
    return [f"| {repo.name} | {size} px | {batch_size} | {whole:.1f} | {what}: {network:.1f} | {overhead:+.0%} |"]


def stage_rows(repo: Path, paths: list[str], batch_size: int, repeats: int) -> list[str]:
    """Single-detector repos: microseconds per image of each pipeline stage, run one after the other.

    Loading (``load_image`` on each file), preprocessing (the processor's resize and normalisation, for ELA the
    JPEG round trip) and the forward pass (``model.score``) are timed apart, best of ``repeats`` each, so the
    overhead row above can be read against the fixed per-file costs.
    """
    from deepfake_detectors import load_image

    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    if len(detector.members) != 1:
        return []
    name, model = next(iter(detector.members.items()))
    processor = detector.processors[name]
    starts = range(0, len(paths), batch_size)

    def warm_best_seconds(work: Callable[[], object]) -> float:
        work()
        return best_seconds(work, repeats)

    images = [load_image(path) for path in paths]

    def preprocess(batch: list) -> list[torch.Tensor]:
        if isinstance(processor, NativeCropImageProcessor):
            return [processor.normalize_tensor(crops) for _, crops in processor.crop_groups(batch)]
        return [processor.normalize_tensor(processor.unit_tensors(batch))]

    inputs = [tensor for start in starts for tensor in preprocess(images[start : start + batch_size])]
    with torch.inference_mode():
        seconds = {
            "load": warm_best_seconds(lambda: [load_image(path) for path in paths]),
            "preprocess": warm_best_seconds(lambda: [preprocess(images[s : s + batch_size]) for s in starts]),
            "forward": warm_best_seconds(lambda: [model.score(batch) for batch in inputs]),
        }
    micro = {stage: 1e6 * value / len(paths) for stage, value in seconds.items()}
    share = (micro["load"] + micro["preprocess"]) / micro["forward"]
    return [
        f"| {repo.name} | {micro['load']:.0f} | {micro['preprocess']:.0f} | {micro['forward']:.0f} | {share:+.0%} |"
    ]


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--image-size", type=int, default=32, help="side of the JPEG files")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--overhead-repeats", type=int, default=7, help="interleaved rounds of pipeline vs bare network"
    )
    parser.add_argument("--photos", type=int, default=9, help="JPEGs of each photo size (1 MP, 12 MP)")
    parser.add_argument("--output", default=None, help="write the Markdown report here")
    args = parser.parse_args(argv)
    repos = sorted(p for p in Path(args.hub_dir).iterdir() if (p / "config.json").exists())
    with tempfile.TemporaryDirectory() as folder:
        paths = write_images(Path(folder), args.images, args.image_size)
        rows = [row for repo in repos for row in benchmark_repo(repo, paths, args.batch_size, args.repeats)]
        overhead = [
            row for repo in repos for row in overhead_rows(repo, paths, args.batch_size, args.overhead_repeats)
        ]
        stages = [row for repo in repos for row in stage_rows(repo, paths, args.batch_size, args.repeats)]
        photos = photo_size_rows(repos, Path(folder), args.photos, args.repeats)
        memory = memory_rows(repos, Path(folder))
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
        "to the bare network's forward passes over the same number of images, on an in-memory random batch of the",
        f"same size and resolution; best of {args.overhead_repeats} interleaved rounds each. Overhead = time of the",
        "pipeline / time of the bare forward passes - 1.",
        "",
        "| detector | input | batch | pipeline images / s | bare network images / s | overhead |",
        "|---|---|---|---|---|---|",
    ]
    stage_table = [
        "",
        "Where the time goes: each stage of the same workload timed on its own, one after the other (best of",
        f"{args.repeats}), in microseconds per image. Load = `load_image` on each file; preprocess = the processor's",
        "resize and normalisation (for ELA, also the JPEG round trip); forward = `model.score`. The last column is",
        "(load + preprocess) / forward: the overhead the pipeline would have with no overlap at all.",
        "",
        "| detector | load | preprocess | forward | (load + preprocess) / forward |",
        "|---|---|---|---|---|",
    ]
    photo_table = [
        "",
        "## Photo-sized images",
        "",
        f"{args.photos} camera-sized JPEGs of each size (smooth content plus fine noise, quality 92), scored from",
        "disk with `predict` in one batch, best of",
        f"{args.repeats}; next to decoding the same files alone with `load_image`. Time per verdict = the last",
        "column times the decode time (1.00x would mean the verdict costs nothing beyond decoding).",
        "",
        "| size | detector | images / s | time / decode time |",
        "|---|---|---|---|",
    ]
    memory_table = [
        "",
        "## Peak memory",
        "",
        "Peak resident memory of one `deepfake-detect detect` process (`VmHWM`): one 256 px JPEG, then three",
        "9400 x 9400 PNGs (flat colour: ~100 KB files, 265 MB each decoded) in one call with the default batch size.",
        "",
        "| detector | one small JPEG | three 9400 x 9400 PNGs | ratio |",
        "|---|---|---|---|",
    ]
    report = "\n".join(
        header + rows + overhead_table + overhead + stage_table + stages + photo_table + photos + memory_table + memory
    )
    report += "\n"
    print(report)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
