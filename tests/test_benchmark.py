"""The throughput benchmark library (``deepfake_detectors.evaluation.benchmark``) and ``scripts/benchmark.py``."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT, load_script
from PIL import Image

from deepfake_detectors import EnsembleDeepfakeDetector, NativeCropImageProcessor
from deepfake_detectors.evaluation import benchmark
from deepfake_detectors.evaluation.benchmark import (
    BenchmarkSettings,
    bare_forward_per_second,
    best_seconds,
    cpu_model_name,
    format_report,
    memory_rows,
    overhead_rows,
    peak_memory_mb,
    photo_size_rows,
    stage_rows,
    throughput_rows,
    within_budget,
    write_images,
    write_photos,
)

#: The smallest bundled repo (1.2 MB of weights, 32 px inputs): a single supervised classifier.
ELA_REPO = REPO_ROOT / "hub_repos" / "deepfake-ela-cnn"
RECONSTRUCTION_REPO = REPO_ROOT / "hub_repos" / "deepfake-reconstruction-error"
NUMBER = r"([0-9]+(?:\.[0-9]+)?)"


def test_best_seconds_returns_the_shortest_call(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    durations = iter([3.0, 1.0, 2.0])
    calls = []
    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: clock[0])

    def work() -> None:
        calls.append(1)
        clock[0] += next(durations)

    assert best_seconds(work, repeats=3) == 1.0
    assert len(calls) == 3


def test_write_images_writes_the_requested_jpegs(tmp_path: Path) -> None:
    paths = write_images(tmp_path, count=3, size=40, seed=1)
    assert [Path(path).name for path in paths] == ["image_00000.jpg", "image_00001.jpg", "image_00002.jpg"]
    for path in paths:
        with Image.open(path) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", (40, 40), "RGB")
    contents = {Path(path).read_bytes() for path in paths}
    assert len(contents) == 3  # random content, not one image three times
    (tmp_path / "again").mkdir()
    again = write_images(tmp_path / "again", count=1, size=40, seed=1)
    assert Path(again[0]).read_bytes() == Path(paths[0]).read_bytes()  # the seed fixes the content


def test_write_photos_writes_the_requested_size(tmp_path: Path) -> None:
    paths = write_photos(tmp_path, count=2, width=200, height=150)
    assert [Path(path).name for path in paths] == ["photo_200x150_00.jpg", "photo_200x150_01.jpg"]
    for path in paths:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("JPEG", (200, 150))


def test_bare_forward_per_second_covers_every_image() -> None:
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            calls.append(batch.shape)
            return batch.mean()

    speed = bare_forward_per_second(Counting(), (4, 3, 8, 8), count=10, repeats=2)
    assert speed > 0
    assert len(calls) == 1 + 2 * 3  # one warm-up call, then ceil(10 / 4) batches per repeat
    assert all(shape == (4, 3, 8, 8) for shape in calls)
    layouts = []

    class Layout(torch.nn.Module):
        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            layouts.append(batch.is_contiguous(memory_format=torch.channels_last))
            return batch.mean()

    bare_forward_per_second(Layout(), (4, 3, 8, 8), count=4, repeats=1, channels_last=True)
    bare_forward_per_second(Layout(), (4, 3, 8, 8), count=4, repeats=1)
    assert layouts == [True, True, False, False]  # as the model feeds its network, warm-up included


def test_format_report_places_rows_under_their_tables() -> None:
    settings = BenchmarkSettings(images=7, image_size=9, batch_size=5, repeats=2, overhead_repeats=4, photos=3)
    report = format_report(
        settings, ["| T |"], ["| O |"], ["| S |"], ["| P |"], ["| M |"], ["| E |"], crop_counts=["| C |"]
    )
    lines = report.splitlines()
    assert report.endswith("\n") and lines[0] == "# Benchmarks"
    assert "`python scripts/benchmark.py --images 7 --image-size 9 --batch-size 5 --output docs/BENCHMARKS.md`" in (
        report
    )
    assert "best of 4 interleaved rounds" in report and "3 camera-sized JPEGs" in report
    tables = {
        "| detector | batch | images / s | note |": "| T |",
        "| detector | input | batch | pipeline images / s | bare network images / s | overhead |": "| O |",
        "| detector | load | preprocess | forward | (load + preprocess) / forward |": "| S |",
        "| size | detector | images / s | time / decode time |": "| P |",
        "| detector | one small JPEG | three 9400 x 9400 PNGs | ratio |": "| M |",
        "| size | detector | batch | images / s | note |": "| E |",
        "| size | detector | crops | images / s | time / decode time |": "| C |",
    }
    for header, row in tables.items():
        index = lines.index(header)
        assert lines[index + 1].startswith("|---") and lines[index + 2] == row
    assert lines[-1] == "| M |"


def test_steal_is_read_from_proc_stat_and_reported_in_the_header(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3\n")
    assert benchmark.cpu_ticks(stat) == (35, 1000)
    assert benchmark.cpu_ticks(tmp_path / "missing") is None
    assert benchmark.stolen_share((35, 1000), (135, 1400)) == 0.25
    assert benchmark.stolen_share(None, (1, 2)) is None and benchmark.stolen_share((1, 5), (1, 5)) is None
    settings = BenchmarkSettings()
    assert "during the run: 25%" in format_report(settings, [], [], [], [], [], stolen=0.25)
    assert "steal" not in format_report(settings, [], [], [], [], [])


def test_report_names_the_cpu_model(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n")
    assert cpu_model_name(str(cpuinfo)) == "AMD EPYC 9R14 96-Core Processor"
    assert cpu_model_name(str(tmp_path / "missing")) != ""
    assert f"Machine: {cpu_model_name()} (" in format_report(BenchmarkSettings(), [], [], [], [], [])


def test_rows_of_a_small_repo_are_well_formed(tmp_path: Path) -> None:
    paths = write_images(tmp_path, count=8, size=32)
    (throughput,) = throughput_rows(ELA_REPO, paths, batch_size=4, repeats=1)
    match = re.fullmatch(rf"\| \*\*deepfake-ela-cnn\*\* \| 4 \| \*\*{NUMBER}\*\* \| \|", throughput)
    assert match and float(match.group(1)) > 0

    (overhead,) = overhead_rows(ELA_REPO, paths, batch_size=4, repeats=1)
    match = re.fullmatch(
        rf"\| deepfake-ela-cnn \| 32 px \| 4 \| {NUMBER} \| bare CNN \(no ELA\): {NUMBER} \| ([+-][0-9]+)% \|",
        overhead,
    )
    assert match and float(match.group(1)) > 0 and float(match.group(2)) > 0
    pipeline, network, percent = float(match.group(1)), float(match.group(2)), int(match.group(3))
    assert abs(percent - 100 * (network / pipeline - 1)) <= 1  # rounded figures, so up to one point apart

    (stages,) = stage_rows(ELA_REPO, paths, batch_size=4, repeats=1)
    match = re.fullmatch(r"\| deepfake-ela-cnn \| ([0-9]+) \| ([0-9]+) \| ([0-9]+) \| ([+-][0-9]+)% \|", stages)
    assert match and int(match.group(3)) > 0 and int(match.group(1)) + int(match.group(2)) > 0


def test_a_slow_detector_is_timed_on_the_first_files_and_its_row_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_images(tmp_path, count=8, size=32)
    assert within_budget(lambda batch: None, paths, budget_seconds=60.0) == paths
    monkeypatch.setattr(benchmark, "RUN_BUDGET_SECONDS", 1e-9)  # every detector is now "too slow"
    assert within_budget(lambda batch: None, paths) == paths[:1]
    (throughput,) = throughput_rows(ELA_REPO, paths, batch_size=4, repeats=1)
    match = re.fullmatch(
        rf"\| \*\*deepfake-ela-cnn\*\* \| 4 \| \*\*{NUMBER}\*\* \| timed on the first 1 of 8 files "
        r"\(one run kept under 0 s\) \|",
        throughput,
    )
    assert match and float(match.group(1)) > 0


def test_the_warm_up_call_does_not_count_against_the_budget() -> None:
    calls = []

    def slow_first_call(batch: list[str]) -> None:
        time.sleep(0.3 if not calls else 0.001 * len(batch))  # lazy initialisation, then 1 ms per file
        calls.append(len(batch))

    paths = [f"{i}.jpg" for i in range(20)]
    assert within_budget(slow_first_call, paths, budget_seconds=0.2) == paths
    assert calls == [1, 8]  # one warm-up file, then the next 8 timed


def test_an_ensemble_has_a_row_per_member_and_a_whole_row_against_their_sum(tmp_path: Path) -> None:
    paths = write_images(tmp_path, count=4, size=32)
    repo = REPO_ROOT / "hub_repos" / "deepfake-ensemble-detector"
    *members, whole = throughput_rows(repo, paths, batch_size=4, repeats=1)
    member_speeds = []
    for row, name in zip(members, ("residual_autoencoder", "deep_svdd")):
        match = re.fullmatch(rf"\| deepfake-ensemble-detector / {name} \| 4 \| {NUMBER} \| \|", row)
        assert match and float(match.group(1)) > 0
        member_speeds.append(float(match.group(1)))
    match = re.fullmatch(
        rf"\| \*\*deepfake-ensemble-detector\*\* \(whole\) \| 4 \| \*\*{NUMBER}\*\* \| sum of its 2 voting members alone: "
        rf"{NUMBER} img/s \({NUMBER} s vs {NUMBER} s\) \|",
        whole,
    )
    assert match and float(match.group(1)) > 0
    total_seconds = sum(4 / speed for speed in member_speeds)
    assert float(match.group(3)) == pytest.approx(total_seconds, rel=0.1, abs=0.01)
    # Ensembles have no bare-network or stage rows; nor has the NPR repo a bare-network row (native crops).
    assert overhead_rows(repo, paths, batch_size=4, repeats=1) == []
    assert stage_rows(repo, paths, batch_size=4, repeats=1) == []
    assert overhead_rows(REPO_ROOT / "hub_repos" / "deepfake-npr-detector", paths, batch_size=4, repeats=1) == []


def test_members_of_weight_zero_are_marked_and_left_out_of_the_sum(tmp_path: Path) -> None:
    paths = write_images(tmp_path, count=4, size=32)
    repo = REPO_ROOT / "hub_repos" / "fake-image-detection-ensemble"
    *members, whole = throughput_rows(repo, paths, batch_size=4, repeats=1)
    weights = {m["name"]: m["weight"] for m in json.loads((repo / "config.json").read_text())["members"]}
    voting_seconds = 0.0
    for row, (name, weight) in zip(members, weights.items()):
        match = re.fullmatch(rf"\| fake-image-detection-ensemble / {name} \| 4 \| {NUMBER} \|(.*)\|", row)
        assert match and (match.group(2).strip() == "weight 0: not run by the whole") == (weight == 0)
        voting_seconds += 4 / float(match.group(1)) if weight > 0 else 0.0
    voting = sum(weight > 0 for weight in weights.values())
    assert 0 < voting < len(weights)
    match = re.search(rf"sum of its {voting} voting members alone: {NUMBER} img/s \({NUMBER} s vs", whole)
    assert match and float(match.group(2)) == pytest.approx(voting_seconds, rel=0.1, abs=0.01)


def test_photo_size_rows_time_decoding_and_each_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(benchmark, "PHOTO_SIZES", (("tiny", 96, 64),))
    rows = photo_size_rows([ELA_REPO, RECONSTRUCTION_REPO], tmp_path, count=2, repeats=1)
    assert len(rows) == 4  # decoding, ELA + CNN (float32 only), the reconstruction error in float32 and bfloat16
    decode = re.fullmatch(rf"\| tiny \| decoding alone \(`load_image`\) \| {NUMBER} \| 1\.00x \|", rows[0])
    verdict = re.fullmatch(rf"\| tiny \| deepfake-ela-cnn \| {NUMBER} \| {NUMBER}x \|", rows[1])
    assert decode and verdict and float(decode.group(1)) > 0 and float(verdict.group(1)) > 0
    assert re.fullmatch(rf"\| tiny \| deepfake-reconstruction-error \| {NUMBER} \| {NUMBER}x \|", rows[2])
    reduced = rf"\| tiny \| deepfake-reconstruction-error with `--precision bfloat16` \| {NUMBER} \| {NUMBER}x \|"
    assert re.fullmatch(reduced, rows[3])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["photo_96x64_00.jpg", "photo_96x64_01.jpg"]


def test_crop_count_rows_time_each_grid_and_restore_the_repos_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(benchmark, "PHOTO_SIZES", (("tiny", 300, 200),))
    crops_taken = []
    crop_images = NativeCropImageProcessor.crop_images

    def counting(self: NativeCropImageProcessor, image: Image.Image) -> list:
        crops = crop_images(self, image)
        crops_taken.append(len(crops))
        return crops

    monkeypatch.setattr(NativeCropImageProcessor, "crop_images", counting)
    npr_repo = REPO_ROOT / "hub_repos" / "deepfake-npr-detector"
    rows = benchmark.crop_count_rows([ELA_REPO, npr_repo], tmp_path, count=2, repeats=1, grids=(1, 2, 3))
    assert len(rows) == 3  # the resizing ELA detector has none; NPR one per grid
    for row, crops in zip(rows, (1, 4, 9)):
        mark = r" \(its setting\)" if crops == 9 else ""
        assert re.fullmatch(rf"\| tiny \| deepfake-npr-detector \| {crops} x 96 px{mark} \| {NUMBER} \| {NUMBER}x \|", row)
    assert {1, 4, 9} <= set(crops_taken)  # the grid really changed what was scored
    reloaded = EnsembleDeepfakeDetector.from_pretrained(npr_repo, device="cpu")
    assert next(iter(reloaded.processors.values())).crops_per_side == 3  # nothing written back to the repo


def test_ensemble_photo_rows_time_each_member_and_the_whole_on_photos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(benchmark, "PHOTO_SIZES", (("tiny", 96, 64),))
    repo = REPO_ROOT / "hub_repos" / "deepfake-ensemble-detector"
    rows = benchmark.ensemble_photo_rows([ELA_REPO, repo], tmp_path, count=2, repeats=1)
    assert len(rows) == 3  # the single detector has none; the ensemble one per member and its whole
    assert rows[0].startswith("| tiny | deepfake-ensemble-detector / residual_autoencoder | 2 | ")
    assert re.fullmatch(rf"\| tiny \| \*\*deepfake-ensemble-detector\*\* \(whole\) \| 2 \| \*\*{NUMBER}\*\* \| sum of .*", rows[2])


def test_memory_rows_compare_three_huge_pngs_with_one_small_jpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured = []

    def fake_peak(model: Path, paths: list[str]) -> float:
        measured.append(paths)
        return 100.0 if len(paths) == 1 else 250.0

    monkeypatch.setattr(benchmark, "peak_memory_mb", fake_peak)
    assert memory_rows([ELA_REPO], tmp_path) == ["| deepfake-ela-cnn | 100 MB | 250 MB | 2.50x |"]
    small, huge = measured
    with Image.open(small[0]) as image:
        assert image.size == (256, 256)
    for path in huge:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("PNG", (9400, 9400))


def test_peak_memory_mb_of_a_detect_process(tmp_path: Path) -> None:
    (path,) = write_images(tmp_path, count=1, size=32)
    megabytes = peak_memory_mb(ELA_REPO, [path])
    assert 50 < megabytes < 16_000  # a Python process with torch loaded, in megabytes (not kB)


def test_script_passes_its_options_to_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = load_script("benchmark")
    hub = tmp_path / "hub"
    for name in ("b-repo", "a-repo", "not-a-repo"):
        (hub / name).mkdir(parents=True)
    (hub / "a-repo" / "config.json").write_text("{}")
    (hub / "b-repo" / "config.json").write_text("{}")
    seen = {}

    def fake_report(repos: list[Path], settings: BenchmarkSettings) -> str:
        seen.update(repos=[repo.name for repo in repos], settings=settings)
        return "# Benchmarks\n"

    monkeypatch.setattr(script, "benchmark_report", fake_report)
    output = tmp_path / "docs" / "BENCHMARKS.md"
    script.main(["--hub-dir", str(hub), "--images", "5", "--photos", "2", "--output", str(output)])
    assert seen["repos"] == ["a-repo", "b-repo"]
    assert seen["settings"] == BenchmarkSettings(images=5, photos=2)
    assert output.read_text() == "# Benchmarks\n"
