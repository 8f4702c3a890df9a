"""Throughput benchmarks: every bundled detector's images/s, pipeline overhead, stage times and peak memory.

Images are JPEG files written to a temporary folder (so decoding is included, as in real use); each detector
scores them in batches through ``EnsembleDeepfakeDetector.predict``. For an ensemble, each member is also run
alone through the same pipeline (its own loading, resizing and features), and the sum of the times of the members
that vote (the only ones the ensemble runs) is reported next to the ensemble's: shared image loading and feature
computation should make the ensemble cost no more.
``benchmark_report`` runs it all and returns the Markdown of ``docs/BENCHMARKS.md`` (``scripts/benchmark.py``).

Example:
    >>> settings = BenchmarkSettings(images=64, photos=1)
    >>> report = benchmark_report(["hub_repos/deepfake-ela-cnn"], settings)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image

from .. import EnsembleDeepfakeDetector, NativeCropImageProcessor, load_image
from ..modeling.base import cpu_has_native_bfloat16

#: The (label, width, height) of the camera-sized photos of the photo-size table.
PHOTO_SIZES = (("1 MP", 1152, 864), ("12 MP", 4000, 3000))

# VmHWM (peak resident memory of this process image) rather than ru_maxrss, which Linux carries over from the
# forked parent across exec: a child of a big benchmark process would report the parent's peak.
#: Run in a child process with ``-c``: the ``deepfake-detect`` command, then its peak memory (kB) on stderr.
PEAK_MEMORY_CODE = (
    "import sys; from deepfake_detectors.cli import main; code = main(sys.argv[1:]); "
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr); "
    "sys.exit(code)"
)


@dataclass(frozen=True)
class BenchmarkSettings:
    """The workload of one benchmark run (the options of ``scripts/benchmark.py``).

    Args:
        images: number of small JPEG files scored by every detector.
        image_size: side of those JPEG files, in pixels.
        batch_size: batch size of ``predict``.
        repeats: timed runs per measurement (the best one counts).
        overhead_repeats: interleaved rounds of pipeline vs bare network.
        photos: JPEGs of each photo size (1 MP, 12 MP).

    Example:
        >>> BenchmarkSettings(images=64).batch_size
        64
    """

    images: int = 512
    image_size: int = 32
    batch_size: int = 64
    repeats: int = 3
    overhead_repeats: int = 7
    photos: int = 9


def write_images(folder: Path, count: int, size: int, seed: int = 0) -> list[str]:
    """Write ``count`` random-content JPEGs of ``size`` px (smooth noise, like small photos).

    Args:
        folder: an existing folder; the files are named ``image_00000.jpg`` and on.
        count: number of files.
        size: side of each (square) image in pixels.
        seed: seed of the random content.

    Example:
        >>> paths = write_images(Path(tempfile.mkdtemp()), count=2, size=32)
    """
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        coarse = rng.integers(0, 256, (size // 4 + 1, size // 4 + 1, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((size, size), Image.BICUBIC)
        path = Path(folder) / f"image_{index:05d}.jpg"
        image.save(path, quality=90)
        paths.append(str(path))
    return paths


def write_photos(folder: Path, count: int, width: int, height: int, seed: int = 0) -> list[str]:
    """Write ``count`` camera-sized JPEGs (smooth content plus fine sensor-like noise, quality 92).

    Args:
        folder: an existing folder; the files are named ``photo_{width}x{height}_00.jpg`` and on.
        count: number of files.
        width: width of each image in pixels.
        height: height of each image in pixels.
        seed: seed of the random content.

    Example:
        >>> paths = write_photos(Path(tempfile.mkdtemp()), count=1, width=1152, height=864)
    """
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        coarse = rng.integers(0, 256, (height // 64 + 1, width // 64 + 1, 3), dtype=np.uint8)
        smooth = np.asarray(Image.fromarray(coarse).resize((width, height), Image.BICUBIC), dtype=np.int16)
        noisy = np.clip(smooth + rng.integers(-6, 7, smooth.shape, dtype=np.int16), 0, 255).astype(np.uint8)
        path = Path(folder) / f"photo_{width}x{height}_{index:02d}.jpg"
        Image.fromarray(noisy).save(path, quality=92)
        paths.append(str(path))
    return paths


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    """The shortest of ``repeats`` timed calls of ``work`` (the caller warms up first).

    Args:
        work: the call to time.
        repeats: how many times to call it.

    Example:
        >>> best_seconds(lambda: sum(range(1000)), repeats=3) > 0
        True
    """
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


#: Longest one timed run should take: a slower detector is timed on the first files only (its row says how many).
RUN_BUDGET_SECONDS = 20.0


def within_budget(
    predict: Callable[[list[str]], object], paths: list[str], budget_seconds: Optional[float] = None
) -> list[str]:
    """The first files of ``paths`` that one run of ``predict`` scores within ``budget_seconds`` (all if it can).

    One file is scored first to warm the detector up, then the next few files (up to 8) are timed in one call; their
    time per file (an overestimate for fast detectors, which batching speeds up) sets how many files fit. This keeps
    a run of ``make bench`` short when a detector takes seconds per image.

    Args:
        predict: scores a list of files.
        paths: the files.
        budget_seconds: the longest one run over the returned files should take (default
            :data:`RUN_BUDGET_SECONDS`).

    Example:
        >>> slow = lambda batch: time.sleep(0.02 * len(batch))  # 20 ms per file
        >>> len(within_budget(slow, ["a.jpg"] * 10, budget_seconds=0.1))  # about 0.1 / 0.02 files
        4
    """
    budget_seconds = RUN_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    predict(paths[:1])  # warm-up: the first call pays for lazy initialisation
    probe = paths[1:9] or paths[:1]
    started = time.perf_counter()
    predict(probe)
    per_file = (time.perf_counter() - started) / len(probe)
    if per_file * len(paths) <= budget_seconds:
        return paths
    return paths[: max(1, int(budget_seconds / per_file))]


def budget_note(timed: int, total: int) -> str:
    """The note of a row timed on fewer files than the others (empty when all were timed).

    Example:
        >>> budget_note(22, 512)
        'timed on the first 22 of 512 files (one run kept under 20 s)'
    """
    if timed == total:
        return ""
    return f"timed on the first {timed} of {total} files (one run kept under {RUN_BUDGET_SECONDS:.0f} s)"


def images_per_second(detector: EnsembleDeepfakeDetector, paths: list[str], batch_size: int, repeats: int) -> float:
    """Best-of-``repeats`` throughput of ``predict`` on the files (after one warm-up batch).

    Args:
        detector: the detector to time.
        paths: the image files it scores.
        batch_size: batch size of ``predict``.
        repeats: timed runs (the best one counts).

    Example:
        >>> images_per_second(detector, paths, batch_size=64, repeats=3)  # doctest: +SKIP
    """
    detector.predict(paths[:batch_size], batch_size=batch_size)
    return len(paths) / best_seconds(lambda: detector.predict(paths, batch_size=batch_size), repeats)


def throughput_rows(repo: Union[str, Path], paths: list[str], batch_size: int, repeats: int) -> list[str]:
    """Images/s of one repo's whole pipeline; for an ensemble also of each member alone and of the sum of the
    members that vote (weight above 0: the only ones the whole runs).

    Args:
        repo: a bundled repo folder.
        paths: the image files scored.
        batch_size: batch size of ``predict``.
        repeats: timed runs per measurement (the best one counts).

    Example:
        >>> throughput_rows("hub_repos/deepfake-ela-cnn", paths, batch_size=64, repeats=3)  # doctest: +SKIP
        ['| **deepfake-ela-cnn** | 64 | **530.6** | |']
    """
    name_of_repo = Path(repo).name
    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    rows = []
    timed = within_budget(lambda batch: detector.predict(batch, batch_size=batch_size), paths)
    note, paths = budget_note(len(timed), len(paths)), timed
    whole = images_per_second(detector, paths, batch_size, repeats)
    if len(detector.members) > 1:
        member_seconds = {}
        for name in detector.members:
            single = EnsembleDeepfakeDetector.from_members(
                {name: (detector.members[name], detector.processors[name])}, device="cpu"
            )
            member_seconds[name] = len(paths) / images_per_second(single, paths, batch_size, repeats)
        voting = detector.voting_members  # the whole runs only these: members of weight 0 add nothing
        total = sum(member_seconds[name] for name in voting)
        for name, seconds in member_seconds.items():
            note = " " if name in voting else " weight 0: not run by the whole "
            rows.append(f"| {name_of_repo} / {name} | {batch_size} | {len(paths) / seconds:.1f} |{note}|")
        if detector.config.routed:  # each image runs one member: the whole is compared with its judges alone
            judges = [detector.judging_members(load_image(path))[0] for path in paths]
            judged = sum(member_seconds[name] * judges.count(name) / len(paths) for name in set(judges))
            shares = ", ".join(f"{name} {judges.count(name)}" for name in detector.config.member_names)
            rows.append(
                f"| **{name_of_repo}** (whole) | {batch_size} | **{whole:.1f}** | domain-routed (images judged: "
                f"{shares}); those members alone on their images: {len(paths) / judged:.1f} img/s |"
            )
            return rows
        rows.append(
            f"| **{name_of_repo}** (whole) | {batch_size} | **{whole:.1f}** | sum of its {len(voting)} voting members "
            f"alone: {len(paths) / total:.1f} img/s ({total:.2f} s vs {len(paths) / whole:.2f} s) |"
        )
    else:
        rows.append(f"| **{name_of_repo}** | {batch_size} | **{whole:.1f}** | {note} |".replace("|  |", "| |"))
    return rows


def bare_forward_per_second(
    module: torch.nn.Module, shape: tuple[int, ...], count: int, repeats: int, channels_last: bool = False
) -> float:
    """Best-of-``repeats`` images/s of bare ``module`` forward passes over ``count`` images (no I/O).

    The batches are one in-memory random batch of ``shape``, run ``ceil(count / shape[0])`` times, so the
    network does the same work as the pipeline it is compared with (a single short batch would let the best of
    a few runs pick one lucky moment of this shared machine).

    Args:
        module: the network (put in eval mode).
        shape: shape of the input batch, batch size first.
        count: number of images to cover.
        repeats: timed runs (the best one counts).
        channels_last: give the batch in channels-last memory layout, as a model that converts its input
            (:func:`~deepfake_detectors.modeling.base.convolution_layout`) feeds its network.

    Example:
        >>> bare_forward_per_second(torch.nn.Conv2d(3, 4, 3), (8, 3, 32, 32), count=16, repeats=2) > 0
        True
    """
    batch = torch.randn(shape)
    if channels_last:
        batch = batch.contiguous(memory_format=torch.channels_last)
    batches = -(-count // shape[0])
    module.eval()
    with torch.inference_mode():
        module(batch)
        best = best_seconds(lambda: [module(batch) for _ in range(batches)], repeats)
    return batches * shape[0] / best


def overhead_rows(repo: Union[str, Path], paths: list[str], batch_size: int, repeats: int) -> list[str]:
    """Supervised classifiers: the whole pipeline next to the bare network (EfficientNet: the bare backbone).

    Other repos (ensembles, one-class detectors, native-crop processors) give no row.

    Args:
        repo: a bundled repo folder.
        paths: the image files scored.
        batch_size: batch size of ``predict`` and of the bare network's input.
        repeats: interleaved rounds of pipeline vs bare network (the best of each counts).

    Example:
        >>> overhead_rows("hub_repos/deepfake-ela-cnn", paths, batch_size=64, repeats=7)  # doctest: +SKIP
    """
    from .. import EfficientNetDetectorForImageClassification, ElaCnnForImageClassification

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
        channels_last = True  # the layout feature_map gives the backbone
    elif isinstance(model, ElaCnnForImageClassification):
        bare, what, channels = model, "bare CNN (no ELA)", model.config.num_channels
        channels_last = False
    else:
        return []
    # Interleaved rounds, best of each: a slow moment of this shared machine then hits both sides alike.
    whole, network = 0.0, 0.0
    for _ in range(repeats):
        whole = max(whole, images_per_second(detector, paths, batch_size, 1))
        shape = (batch_size, channels, size, size)
        network = max(network, bare_forward_per_second(bare, shape, len(paths), 1, channels_last))
    overhead = network / whole - 1.0
    return [f"| {Path(repo).name} | {size} px | {batch_size} | {whole:.1f} | {what}: {network:.1f} | {overhead:+.0%} |"]


def stage_rows(repo: Union[str, Path], paths: list[str], batch_size: int, repeats: int) -> list[str]:
    """Single-detector repos: microseconds per image of each pipeline stage, run one after the other.

    Loading (``load_image`` on each file), preprocessing (the processor's resize and normalisation, for ELA the
    JPEG round trip) and the forward pass (``model.score``) are timed apart, best of ``repeats`` each, so the
    overhead row can be read against the fixed per-file costs. Ensembles give no row.

    Args:
        repo: a bundled repo folder.
        paths: the image files scored.
        batch_size: images per preprocessing and forward batch.
        repeats: timed runs per stage (the best one counts).

    Example:
        >>> stage_rows("hub_repos/deepfake-ela-cnn", paths, batch_size=64, repeats=3)  # doctest: +SKIP
        ['| deepfake-ela-cnn | 187 | 124 | 984 | +32% |']
    """
    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    if len(detector.members) != 1:
        return []
    name, model = next(iter(detector.members.items()))
    processor = detector.processors[name]
    paths = within_budget(lambda batch: detector.predict(batch, batch_size=batch_size), paths)
    starts = range(0, len(paths), batch_size)

    def warm_best_seconds(work: Callable[[], object]) -> float:
        work()
        return best_seconds(work, repeats)

    images = [load_image(path) for path in paths]

    def preprocess(batch: list) -> list[torch.Tensor]:
        if isinstance(processor, NativeCropImageProcessor):
            return [processor.normalise_tensor(crops) for _, crops in processor.crop_groups(batch)]
        return [processor.normalise_tensor(processor.resize_to_unit_tensors(batch))]

    inputs = [tensor for start in starts for tensor in preprocess(images[start : start + batch_size])]
    with torch.inference_mode():
        seconds = {
            "load": warm_best_seconds(lambda: [load_image(path) for path in paths]),
            "preprocess": warm_best_seconds(lambda: [preprocess(images[s : s + batch_size]) for s in starts]),
            "forward": warm_best_seconds(lambda: [model.score(batch) for batch in inputs]),
        }
    micro = {stage: 1e6 * value / len(paths) for stage, value in seconds.items()}
    share = (micro["load"] + micro["preprocess"]) / micro["forward"]
    load, preprocess, forward = micro["load"], micro["preprocess"], micro["forward"]
    return [f"| {Path(repo).name} | {load:.0f} | {preprocess:.0f} | {forward:.0f} | {share:+.0%} |"]


def photo_size_rows(repos: Sequence[Union[str, Path]], folder: Path, count: int, repeats: int) -> list[str]:
    """Images/s of every detector on 1 MP and 12 MP JPEGs, next to decoding the same files alone (and again with
    ``set_precision("bfloat16")`` for the detectors that support it).

    Args:
        repos: bundled repo folders.
        folder: an existing folder for the photos.
        count: JPEGs of each photo size.
        repeats: timed runs per measurement (the best one counts).

    Example:
        >>> photo_size_rows(["hub_repos/deepfake-ela-cnn"], Path("/tmp"), count=9, repeats=3)  # doctest: +SKIP
    """
    rows = []
    for label, width, height in PHOTO_SIZES:
        paths = write_photos(folder, count, width, height)
        [load_image(path) for path in paths]
        decode = count / best_seconds(lambda: [load_image(path) for path in paths], repeats)
        rows.append(f"| {label} | decoding alone (`load_image`) | {decode:.2f} | 1.00x |")
        for repo in repos:
            detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
            for precision in ("float32", "bfloat16"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a detector without a bfloat16 part: no second row
                    if precision == "bfloat16" and not detector.set_precision(precision):
                        continue
                detector.predict(paths[:1])
                speed = count / best_seconds(lambda: detector.predict(paths, batch_size=count), repeats)
                name = Path(repo).name + (" with `--precision bfloat16`" if precision == "bfloat16" else "")
                rows.append(f"| {label} | {name} | {speed:.2f} | {decode / speed:.2f}x |")
    return rows


#: Crops per side measured by the crop-count table (1, 4, 9 and 16 crops per image).
CROP_GRIDS = (1, 2, 3, 4)


def crop_count_rows(
    repos: Sequence[Union[str, Path]], folder: Path, count: int, repeats: int, grids: Sequence[int] = CROP_GRIDS
) -> list[str]:
    """How the cost of every native-crop detector grows with its crop count, on 1 MP and 12 MP JPEGs.

    Each single detector whose processor takes native crops is timed with ``crops_per_side`` set to each of
    ``grids`` (the repo's own setting is marked); other repos give no row. The decode time of the same files is in
    the last column's denominator, as in the photo-size table.

    Args:
        repos: bundled repo folders.
        folder: an existing folder for the photos.
        count: JPEGs of each photo size.
        repeats: timed runs per measurement (the best one counts).
        grids: the ``crops_per_side`` values to time.

    Example:
        >>> crop_count_rows(["hub_repos/deepfake-npr-detector"], Path("/tmp"), 9, 3)  # doctest: +SKIP
    """
    detectors = {}
    for repo in repos:
        detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
        processors = list(detector.processors.values())
        if len(processors) == 1 and isinstance(processors[0], NativeCropImageProcessor):
            detectors[Path(repo).name] = (detector, processors[0])
    rows = []
    for label, width, height in PHOTO_SIZES if detectors else ():
        paths = write_photos(folder, count, width, height)
        [load_image(path) for path in paths]
        decode = count / best_seconds(lambda: [load_image(path) for path in paths], repeats)
        for name, (detector, processor) in detectors.items():
            own = processor.crops_per_side
            for per_side in grids:
                processor.crops_per_side = per_side
                timed = within_budget(lambda batch: detector.predict(batch, batch_size=count), paths)
                speed = len(timed) / best_seconds(lambda: detector.predict(timed, batch_size=count), repeats)
                mark = " (its setting)" if per_side == own else ""
                mark += f" ({budget_note(len(timed), count)})" if len(timed) < count else ""
                rows.append(
                    f"| {label} | {name} | {per_side * per_side} x {processor.crop_size} px{mark} | {speed:.2f} "
                    f"| {decode / speed:.2f}x |"
                )
            processor.crops_per_side = own
    return rows


def ensemble_photo_rows(repos: Sequence[Union[str, Path]], folder: Path, count: int, repeats: int) -> list[str]:
    """Every ensemble on 1 MP JPEGs: each member alone, the whole pipeline, and the sum of its members.

    Args:
        repos: bundled repo folders (single detectors are skipped).
        folder: an existing folder for the photos.
        count: JPEGs scored (one batch).
        repeats: timed runs per measurement (the best one counts).

    Example:
        >>> ensemble_photo_rows(["hub_repos/fake-image-detection-ensemble-photos"], Path("/tmp"), 9, 3)  # doctest: +SKIP
    """
    label, width, height = PHOTO_SIZES[0]
    paths = write_photos(folder, count, width, height)
    rows = []
    for repo in repos:
        if len(EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu").members) > 1:
            rows += [row.replace("| ", f"| {label} | ", 1) for row in throughput_rows(repo, paths, count, repeats)]
    return rows


def peak_memory_mb(model: Union[str, Path], paths: Sequence[str]) -> float:
    """Peak resident memory (MB) of one ``deepfake-detect detect`` process scoring ``paths``.

    Args:
        model: the repo passed as ``--model``.
        paths: the image files scored.

    Example:
        >>> peak_memory_mb("hub_repos/deepfake-ela-cnn", ["examples/photo_real_01.jpg"])  # doctest: +SKIP
    """
    command = [sys.executable, "-c", PEAK_MEMORY_CODE, "detect", *paths, "--model", str(model), "--no-progress"]
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    return int(finished.stderr.strip().splitlines()[-1]) / 1024


def memory_rows(repos: Sequence[Union[str, Path]], folder: Path) -> list[str]:
    """Peak memory of ``detect`` on three 9400 x 9400 PNGs next to one small JPEG, per detector.

    Args:
        repos: bundled repo folders.
        folder: an existing folder for the images.

    Example:
        >>> memory_rows(["hub_repos/deepfake-ela-cnn"], Path("/tmp"))  # doctest: +SKIP
    """
    huge = []
    for index in range(3):
        path = Path(folder) / f"huge_{index}.png"
        Image.new("RGB", (9400, 9400), (40 * index, 90, 160)).save(path)  # flat: a ~100 KB file, 265 MB decoded
        huge.append(str(path))
    small = Path(folder) / "small.jpg"
    Image.new("RGB", (256, 256), (90, 90, 90)).save(small)
    rows = []
    for repo in repos:
        one_small, three_huge = peak_memory_mb(repo, [str(small)]), peak_memory_mb(repo, huge)
        rows.append(
            f"| {Path(repo).name} | {one_small:.0f} MB | {three_huge:.0f} MB | {three_huge / one_small:.2f}x |"
        )
    return rows


def format_report(
    settings: BenchmarkSettings,
    throughput: Sequence[str],
    overhead: Sequence[str],
    stages: Sequence[str],
    photos: Sequence[str],
    memory: Sequence[str],
    ensemble_photos: Sequence[str] = (),
    stolen: Optional[float] = None,
    crop_counts: Sequence[str] = (),
) -> str:
    """The Markdown report (``docs/BENCHMARKS.md``): machine, workload and command, then one table per part.

    Args:
        settings: the workload the rows were measured with.
        throughput: rows of ``throughput_rows``.
        overhead: rows of ``overhead_rows``.
        stages: rows of ``stage_rows``.
        photos: rows of ``photo_size_rows``.
        memory: rows of ``memory_rows``.
        ensemble_photos: rows of ``ensemble_photo_rows``.
        stolen: the share of CPU time the hypervisor took during the run (:func:`stolen_share`), if known.
        crop_counts: rows of ``crop_count_rows``.

    Example:
        >>> format_report(BenchmarkSettings(), [], [], [], [], []).splitlines()[0]
        '# Benchmarks'
    """
    repeats, overhead_repeats = settings.repeats, settings.overhead_repeats
    header = [
        "# Benchmarks",
        "",
        f"Machine: {cpu_model_name()} ({platform.machine()}), {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, no GPU."
        + (
            f" CPU time taken by the hypervisor (steal, `/proc/stat`) during the run: {stolen:.0%}; a run with more"
            " of it measures less than the machine's own speed."
            if stolen is not None
            else ""
        ),
        f"Workload: {settings.images} JPEG files of {settings.image_size}x{settings.image_size} px scored from disk "
        f"with `predict` (decode, resize, features, members, calibration), batch size {settings.batch_size}, best of "
        f"{repeats} runs after a warm-up batch. A detector too slow for one run to finish in"
        f" {RUN_BUDGET_SECONDS:.0f} s is timed on the first files only, in every table (its row says how many).",
        "",
        f"Command: `python scripts/benchmark.py --images {settings.images} --image-size {settings.image_size} "
        f"--batch-size {settings.batch_size} --output docs/BENCHMARKS.md` (also `make bench`).",
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
        f"same size and resolution; best of {overhead_repeats} interleaved rounds each. Overhead = time of the",
        "pipeline / time of the bare forward passes - 1.",
        "",
        "| detector | input | batch | pipeline images / s | bare network images / s | overhead |",
        "|---|---|---|---|---|---|",
    ]
    stage_table = [
        "",
        "Where the time goes: each stage of the same workload timed on its own, one after the other (best of",
        f"{repeats}), in microseconds per image. Load = `load_image` on each file; preprocess = the processor's",
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
        f"{settings.photos} camera-sized JPEGs of each size (smooth content plus fine noise, quality 92), scored from",
        "disk with `predict` in one batch, best of",
        f"{repeats}; next to decoding the same files alone with `load_image`. Time per verdict = the last",
        "column times the decode time (1.00x would mean the verdict costs nothing beyond decoding). Rows \"with",
        "`--precision bfloat16`\" run the detector's autoencoder in bfloat16 (`set_precision`; thresholds calibrated",
        f"in float32; native bfloat16 on this CPU: {'yes' if cpu_has_native_bfloat16() else 'no'}).",
        "",
        "| size | detector | images / s | time / decode time |",
        "|---|---|---|---|",
    ]
    ensemble_photo_table = [
        "",
        "Ensembles on the same 1 MP JPEGs: each member alone (decode, its own input, calibration) and the whole",
        "pipeline, which decodes each photo once and runs only the members of weight above 0; the note compares it",
        "with the sum of those members alone.",
        "",
        "| size | detector | batch | images / s | note |",
        "|---|---|---|---|---|",
    ]
    crop_count_table = [
        "",
        "Native-crop detectors with fewer or more crops per image than they were calibrated with (timing only:",
        "their thresholds hold for their own setting), on the same photos; the decode time is the same as above.",
        "",
        "| size | detector | crops | images / s | time / decode time |",
        "|---|---|---|---|---|",
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
    lines = [
        *header, *throughput, *overhead_table, *overhead, *stage_table, *stages,
        *photo_table, *photos, *(crop_count_table + list(crop_counts) if crop_counts else []),
        *(ensemble_photo_table + list(ensemble_photos) if ensemble_photos else []),
        *memory_table, *memory,
    ]
    return "\n".join(lines) + "\n"


def cpu_ticks(stat_file: Union[str, Path] = "/proc/stat") -> Optional[tuple[int, int]]:
    """``(stolen, total)`` CPU ticks since boot from the first line of Linux's ``/proc/stat``; ``None`` elsewhere.

    "Steal" is the time the hypervisor gave this virtual machine's CPUs to someone else: a run with much of it
    measures less than the machine's own speed.

    Example:
        >>> ticks = cpu_ticks()  # doctest: +SKIP
    """
    try:
        fields = [int(value) for value in Path(stat_file).read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def cpu_model_name(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name as the OS reports it (Linux: ``model name`` in ``/proc/cpuinfo``), else
    ``platform.processor()``, else ``"unknown CPU"``: benchmark figures are only comparable on the same CPU.

    Args:
        cpuinfo: the file to read on Linux.

    Example:
        >>> isinstance(cpu_model_name(), str)
        True
    """
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def stolen_share(before: Optional[tuple[int, int]], after: Optional[tuple[int, int]]) -> Optional[float]:
    """The share of CPU time stolen by the hypervisor between two :func:`cpu_ticks` readings (``None`` if unknown).

    Example:
        >>> stolen_share((10, 100), (60, 300))
        0.25
    """
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def benchmark_report(repos: Sequence[Union[str, Path]], settings: BenchmarkSettings = BenchmarkSettings()) -> str:
    """Run every measurement on ``repos`` (images in a temporary folder) and return the Markdown report.

    Args:
        repos: bundled repo folders, in the order of the tables.
        settings: the workload.

    Example:
        >>> report = benchmark_report(["hub_repos/deepfake-ela-cnn"], BenchmarkSettings(images=64))  # doctest: +SKIP
    """
    ticks = cpu_ticks()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths = write_images(folder, settings.images, settings.image_size)
        batch_size, repeats = settings.batch_size, settings.repeats
        throughput = [row for repo in repos for row in throughput_rows(repo, paths, batch_size, repeats)]
        overhead = [
            row for repo in repos for row in overhead_rows(repo, paths, batch_size, settings.overhead_repeats)
        ]
        stages = [row for repo in repos for row in stage_rows(repo, paths, batch_size, repeats)]
        photos = photo_size_rows(repos, folder, settings.photos, repeats)
        crop_counts = crop_count_rows(repos, folder, settings.photos, repeats)
        ensemble_photos = ensemble_photo_rows(repos, folder, settings.photos, repeats)
        memory = memory_rows(repos, folder)
    return format_report(
        settings, throughput, overhead, stages, photos, memory, ensemble_photos, stolen_share(ticks, cpu_ticks()),
        crop_counts,
    )
