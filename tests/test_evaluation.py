"""Tests of the evaluation subpackage: metrics, plots and labelled data loading."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from deepfake_detectors.evaluation import (
    LabelledImages,
    auroc_against_other_class,
    detection_metrics,
    load_labelled_images,
    member_metrics,
    save_evaluation_plots,
)
from deepfake_detectors.evaluation.data import stratified_indices
from deepfake_detectors.processing import load_image

CIFAKE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cifake"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _write_image(path: Path, colour: tuple[int, int, int] = (120, 30, 200), fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path, format=fmt)
    return path


# --------------------------------------------------------------------------------------------------- metrics


def test_perfect_separation() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    metrics = detection_metrics(labels, scores, threshold=0.5, threshold_name="balanced")
    assert metrics["auroc"] == 1.0
    assert metrics["average_precision"] == 1.0
    assert metrics["accuracy"] == 1.0
    assert metrics["tpr_at_fpr_1"] == 1.0 and metrics["tpr_at_fpr_5"] == 1.0
    assert metrics["fpr"] == 0.0
    assert metrics["confusion_matrix"] == [[3, 0], [0, 3]]
    assert metrics["threshold_name"] == "balanced" and metrics["threshold"] == 0.5


def test_known_confusion_matrix_and_rates() -> None:
    # reals: 0.1 0.2 0.6 0.3 -> one false alarm (0.6); fakes: 0.4 0.7 0.9 -> one miss (0.4)
    labels = np.array([0, 0, 0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.6, 0.3, 0.4, 0.7, 0.9])
    metrics = detection_metrics(labels, scores, threshold=0.5, threshold_name="manual")
    assert metrics["confusion_matrix"] == [[3, 1], [1, 2]]
    assert metrics["n_real"] == 4 and metrics["n_fake"] == 3
    assert metrics["accuracy"] == pytest.approx(5 / 7)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)
    assert metrics["fpr"] == pytest.approx(1 / 4)
    # 12 real/fake pairs; the fake scores higher in all but one (fake 0.4 < real 0.6) -> 11 / 12
    assert metrics["auroc"] == pytest.approx(11 / 12)
    # best TPR with no false alarm: threshold above 0.6 catches 0.7 and 0.9 -> 2 / 3
    assert metrics["tpr_at_fpr_1"] == pytest.approx(2 / 3)
    assert metrics["tpr_at_fpr_5"] == pytest.approx(2 / 3)
    # the result is plain JSON
    assert json.loads(json.dumps(metrics)) == metrics
    assert all(isinstance(v, int) for row in metrics["confusion_matrix"] for v in row)


def test_score_equal_to_threshold_counts_as_fake() -> None:
    metrics = detection_metrics(np.array([0, 1]), np.array([0.2, 0.5]), threshold=0.5, threshold_name="t")
    assert metrics["confusion_matrix"] == [[1, 0], [0, 1]]


def test_only_fakes_gives_none_for_two_class_figures() -> None:
    labels = np.ones(4, dtype=int)
    scores = np.array([0.2, 0.6, 0.7, 0.9])
    metrics = detection_metrics(labels, scores, threshold=0.5, threshold_name="balanced")
    for key in ("auroc", "average_precision", "tpr_at_fpr_1", "tpr_at_fpr_5", "fpr", "precision", "f1"):
        assert metrics[key] is None, key
    assert metrics["recall"] == pytest.approx(0.75)
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["confusion_matrix"] == [[0, 0], [1, 3]]
    assert "null" in json.dumps(metrics)


def test_only_reals_reports_false_alarm_rate_not_recall() -> None:
    metrics = detection_metrics(np.zeros(5, dtype=int), np.array([0.1, 0.2, 0.3, 0.4, 0.9]), 0.5, "strict")
    assert metrics["fpr"] == pytest.approx(0.2)
    assert metrics["recall"] is None and metrics["auroc"] is None
    assert metrics["accuracy"] == pytest.approx(0.8)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_raise(bad: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        detection_metrics(np.array([0, 1, 1]), np.array([0.1, bad, 0.9]), 0.5, "balanced")


def test_invalid_inputs_raise() -> None:
    with pytest.raises(ValueError, match="length"):
        detection_metrics(np.array([0, 1]), np.array([0.1, 0.2, 0.3]), 0.5, "t")
    with pytest.raises(ValueError, match="0 \\(real\\) or 1"):
        detection_metrics(np.array([0, 2]), np.array([0.1, 0.2]), 0.5, "t")


def test_member_metrics() -> None:
    labels = np.array([0, 0, 1, 1])
    result = member_metrics(labels, {"good": np.array([0.1, 0.2, 0.8, 0.9]), "inverted": np.array([0.9, 0.8, 0.2, 0.1])})
    assert result["good"] == {"auroc": 1.0, "average_precision": 1.0}
    assert result["inverted"]["auroc"] == 0.0
    only_fake = member_metrics(np.ones(3, dtype=int), {"m": np.array([0.1, 0.5, 0.9])})
    assert only_fake == {"m": {"auroc": None, "average_precision": None}}
    with pytest.raises(ValueError, match="'bad'"):
        member_metrics(labels, {"bad": np.array([0.1, np.nan, 0.3, 0.4])})


# ----------------------------------------------------------------------------------------------------- plots


def test_plots_written_as_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.array([0] * 30 + [1] * 30)
    scores = np.concatenate([rng.normal(0.3, 0.1, 30), rng.normal(0.7, 0.1, 30)])
    paths = save_evaluation_plots(labels, scores, 0.5, tmp_path / "plots", title="test")
    assert set(paths) == {"roc_curve", "precision_recall", "confusion_matrix", "score_histogram"}
    for name, path in paths.items():
        file = Path(path)
        assert file.name == f"{name}.png"
        assert file.stat().st_size > 1000
        assert file.read_bytes()[:8] == PNG_SIGNATURE


def test_confusion_matrix_plot_shows_the_verdicts_made_at_each_images_own_threshold(tmp_path: Path, monkeypatch) -> None:
    import matplotlib.axes

    drawn: list[str] = []
    original = matplotlib.axes.Axes.text
    monkeypatch.setattr(matplotlib.axes.Axes, "text",
                        lambda self, x, y, text, *a, **k: drawn.append(str(text)) or original(self, x, y, text, *a, **k))
    titles: list[str] = []
    original_set = matplotlib.axes.Axes.set
    monkeypatch.setattr(matplotlib.axes.Axes, "set",
                        lambda self, **k: titles.append(k.get("title", "")) or original_set(self, **k))
    labels = np.array([0, 0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.6, 0.7, 0.4, 0.8, 0.9])
    # Judged at two thresholds (0.5 and 0.65): the second real and the first fake are the images at 0.65.
    verdicts = np.array([False, False, True, False, True, True])
    save_evaluation_plots(labels, scores, 0.5, tmp_path, predictions=verdicts)
    assert drawn == ["2", "1", "1", "2"]  # [[real kept, real flagged], [fake missed, fake caught]]
    assert "Confusion matrix (each image's own threshold)" in titles
    drawn.clear()
    save_evaluation_plots(labels, scores, 0.5, tmp_path)  # without verdicts: score >= 0.5
    assert drawn == ["1", "2", "1", "2"]
    with pytest.raises(ValueError, match="predictions"):
        save_evaluation_plots(labels, scores, 0.5, tmp_path, predictions=verdicts[:3])


def test_plots_one_class_skip_roc_and_pr(tmp_path: Path) -> None:
    paths = save_evaluation_plots(np.ones(5, dtype=int), np.linspace(0, 1, 5), 0.5, tmp_path)
    assert set(paths) == {"confusion_matrix", "score_histogram"}
    assert not (tmp_path / "roc_curve.png").exists()
    assert all(Path(p).read_bytes()[:8] == PNG_SIGNATURE for p in paths.values())


# ------------------------------------------------------------------------------------------------ data: folders


def test_folder_with_case_variants_and_nested_files(tmp_path: Path) -> None:
    _write_image(tmp_path / "REAL" / "a.jpg")
    _write_image(tmp_path / "REAL" / "sub" / "deeper" / "b.PNG", fmt="PNG")
    _write_image(tmp_path / "Fake" / "c.png")
    _write_image(tmp_path / "Fake" / "nested" / "d.webp")
    (tmp_path / "Fake" / "notes.txt").write_text("not an image")
    (tmp_path / "Fake" / "._c.png").write_bytes(b"macOS resource fork, not an image")
    _write_image(tmp_path / "other" / "ignored.jpg")  # not a class folder

    data = load_labelled_images(str(tmp_path))
    assert isinstance(data, LabelledImages)
    by_name = {Path(name).name: int(label) for name, label in zip(data.names, data.labels)}
    assert by_name == {"a.jpg": 0, "b.PNG": 0, "c.png": 1, "d.webp": 1}
    assert data.labels.dtype.kind == "i"
    assert data.split == ""  # no split subfolder
    assert all(load_image(image).mode == "RGB" for image in data.images)


def test_folder_with_split_subfolder(tmp_path: Path) -> None:
    _write_image(tmp_path / "train" / "real" / "t.jpg")
    _write_image(tmp_path / "test" / "real" / "r.jpg")
    _write_image(tmp_path / "test" / "FAKE" / "f.jpg")
    data = load_labelled_images(tmp_path, split="test")
    assert sorted(Path(n).name for n in data.names) == ["f.jpg", "r.jpg"]
    assert data.split == "test"
    with pytest.raises(ValueError, match="available splits"):
        load_labelled_images(tmp_path, split="validation")


def test_folder_with_only_fakes(tmp_path: Path) -> None:
    for i in range(3):
        _write_image(tmp_path / "fake" / f"{i}.jpg")
    data = load_labelled_images(tmp_path, limit=2)
    assert len(data) == 2 and data.labels.tolist() == [1, 1]


def test_folder_without_images_raises(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        load_labelled_images(tmp_path)


# --------------------------------------------------------------------------------------- data: selection


def test_stratified_selection_is_balanced_and_deterministic() -> None:
    labels = np.array([0] * 80 + [1] * 20)
    first = stratified_indices(labels, limit=30, seed=1)
    assert first.tolist() == stratified_indices(labels, limit=30, seed=1).tolist()
    assert first.tolist() != stratified_indices(labels, limit=30, seed=2).tolist()
    assert len(set(first.tolist())) == 30
    assert int(labels[first].sum()) == 15
    # fewer fakes than half the limit: the reals fill the rest
    short = stratified_indices(labels, limit=60, seed=0)
    assert int(labels[short].sum()) == 20 and short.size == 60
    assert stratified_indices(labels, limit=None).size == 100
    with pytest.raises(ValueError):
        stratified_indices(labels, limit=0)


def test_folder_limit_stratified_and_deterministic(tmp_path: Path) -> None:
    for i in range(6):
        _write_image(tmp_path / "real" / f"r{i}.png")
        _write_image(tmp_path / "fake" / f"f{i}.png")
    first = load_labelled_images(tmp_path, limit=4, seed=3)
    again = load_labelled_images(tmp_path, limit=4, seed=3)
    assert first.names == again.names
    assert first.n_real == 2 and first.n_fake == 2


# ------------------------------------------------------------------------------------------ data: datasets


@pytest.fixture
def cifake() -> Path:
    if not (CIFAKE / "README.md").exists():
        pytest.skip(f"CIFAKE data not found at {CIFAKE}")
    return CIFAKE


def test_cifake_limit_gives_balanced_lazy_images(cifake: Path) -> None:
    data = load_labelled_images(str(cifake), split="test", limit=20, seed=0)
    assert len(data) == 20 and data.n_real == 10 and data.n_fake == 10
    assert data.split == "test" and data.source == str(cifake)
    assert len(set(data.names)) == 20 and all(isinstance(name, str) and name for name in data.names)
    image = load_image(data.images[0])
    assert image.size == (32, 32) and image.mode == "RGB"
    again = load_labelled_images(str(cifake), split="test", limit=20, seed=0)
    assert again.names == data.names and again.labels.tolist() == data.labels.tolist()
    other = load_labelled_images(str(cifake), split="test", limit=20, seed=1)
    assert other.names != data.names


def test_cifake_unknown_split_names_available(cifake: Path) -> None:
    with pytest.raises(ValueError, match="validation"):
        load_labelled_images(str(cifake), split="nonexistent", limit=2)


def test_parquet_dataset_missing_label_column(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"image": datasets.Image(), "kind": datasets.Value("string")})
    buffer = tmp_path / "x.png"
    _write_image(buffer)
    table = datasets.Dataset.from_dict({"image": [str(buffer)], "kind": ["fake"]}, features=features)
    (tmp_path / "ds" / "data").mkdir(parents=True)
    table.to_parquet(str(tmp_path / "ds" / "data" / "test-00000-of-00001.parquet"))
    with pytest.raises(ValueError, match="label"):
        load_labelled_images(str(tmp_path / "ds"), split="test")


def test_parquet_dataset_label_names_mapped(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    # ClassLabel names in the opposite order to ours: FAKE = 0, REAL = 1 must become fake = 1, real = 0
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=["FAKE", "REAL"])})
    paths = [str(_write_image(tmp_path / f"img{i}.png", (i * 40, 0, 0))) for i in range(4)]
    table = datasets.Dataset.from_dict({"image": paths, "label": [0, 0, 1, 1]}, features=features)
    (tmp_path / "ds" / "data").mkdir(parents=True)
    table.to_parquet(str(tmp_path / "ds" / "data" / "test-00000-of-00001.parquet"))
    data = load_labelled_images(str(tmp_path / "ds"), split="test")
    assert data.labels.tolist() == [1, 1, 0, 0]
    assert data.names == ["test[0]", "test[1]", "test[2]", "test[3]"]
    assert load_image(data.images[2]).getpixel((0, 0)) == (80, 0, 0)


def test_leave_one_out_applies_the_ensembles_brightness_normalisation() -> None:
    from types import SimpleNamespace

    from sklearn.metrics import roc_auc_score

    from deepfake_detectors.calibration import BrightnessNormalisation
    from deepfake_detectors.configuration.ensemble import DeepfakeEnsembleConfig
    from deepfake_detectors.evaluation.evaluate import leave_one_out

    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(200), np.ones(200)].astype(int)
    brightness = rng.uniform(0.05, 0.95, 400)
    scores = {name: labels + 4 * (brightness - 0.5) ** 2 + rng.normal(size=400) for name in ("a", "b", "c")}
    normalisation = BrightnessNormalisation.fit((scores["a"] + scores["b"] + scores["c"])[:200] / 3, brightness[:200])
    config = DeepfakeEnsembleConfig(
        members=[{"name": name, "path": name, "weight": 1.0} for name in scores],
        brightness_normalisation=normalisation.to_dict(),
    )
    detector = SimpleNamespace(config=config)
    table = leave_one_out(detector, labels, scores, brightness)
    without_a = normalisation.apply((scores["b"] + scores["c"]) / 2, brightness)
    assert table["a"]["auroc_without"] == pytest.approx(roc_auc_score(labels, without_a))
    plain = leave_one_out(detector, labels, scores)  # no brightness given: the plain weighted means
    assert plain["a"]["auroc_without"] == pytest.approx(roc_auc_score(labels, (scores["b"] + scores["c"]) / 2))
    assert table["a"]["auroc_without"] != pytest.approx(plain["a"]["auroc_without"])


def test_a_rebuild_is_compared_with_the_published_figures_and_quoted_in_the_card(tmp_path) -> None:
    from deepfake_detectors.cards import rebuild_sentence
    from deepfake_detectors.evaluation.rebuild import REBUILD_FILE, compare_rebuild

    def repo(name: str, auroc: float) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        figures = {"auroc": auroc, "accuracy": 0.61, "recall": 0.2, "fpr": 0.05, "n_real": 10}
        (folder / "results_summary.json").write_text(json.dumps(figures))
        return folder

    published, close, far = repo("published", 0.7262), repo("close", 0.7221), repo("far", 0.7100)
    record = compare_rebuild(published, close, command="bash scripts/bundled_weights.sh", code="abc1234")
    assert record["reproduced"] and record["auroc_difference"] == pytest.approx(0.0041)
    assert record["published"]["auroc"] == 0.7262 and record["rebuilt"]["auroc"] == 0.7221
    assert not compare_rebuild(published, far, command="x", code="y")["reproduced"]
    assert rebuild_sentence(published) == ""  # nothing recorded yet
    (published / REBUILD_FILE).write_text(json.dumps(record))
    sentence = rebuild_sentence(published)
    assert "0.7221 against 0.7262" in sentence and "0.0041, within the tolerance of 0.005" in sentence
    assert "abc1234" in sentence and "not bit-for-bit repeatable" in sentence
    assert not record["identical_weights"]  # no weight files to compare: never claimed identical
    from safetensors.numpy import save_file

    for folder, value, metadata in ((published, 1.0, {"a": "1", "b": "2"}), (close, 1.0, {"b": "2", "a": "1"}),
                                    (far, 1.5, {})):
        save_file({"weight": np.full(3, value, dtype=np.float32)}, str(folder / "model.safetensors"), metadata)
    same = compare_rebuild(published, close, command="bash scripts/bundled_weights.sh", code="abc1234")
    assert same["identical_weights"] and not compare_rebuild(published, far, command="x", code="y")["identical_weights"]
    (published / REBUILD_FILE).write_text(json.dumps(same))
    assert "the same tensors, bit for bit" in rebuild_sentence(published)


def test_a_rebuild_outside_the_tolerance_says_so_and_the_card_leads_with_the_one_rebuild_command(tmp_path) -> None:
    from deepfake_detectors.cards import rebuild_sentence
    from deepfake_detectors.evaluation.rebuild import REBUILD_FILE
    from deepfake_detectors.one_class_cards import reproduce_section

    figures = {"auroc": 0.66, "accuracy": 0.66, "recall": 0.2, "fpr": 0.09}
    record = {"command": "bash scripts/npr_weights.sh", "code": "commit abc", "tolerance": 0.005, "published": figures,
              "rebuilt": {**figures, "auroc": 0.684}, "auroc_difference": 0.024, "reproduced": False}
    (tmp_path / REBUILD_FILE).write_text(json.dumps(record))
    sentence = rebuild_sentence(tmp_path)
    assert "outside the tolerance of 0.005" in sentence and "vary from run to run" in sentence
    steps = ["python train.py --all", "python train.py --reuse-members"]
    section = reproduce_section(steps, sentence)
    assert section.startswith("```bash\nbash scripts/npr_weights.sh\n```") and sentence in section
    assert section.index("python train.py --all") > section.index(sentence)  # the history follows, for provenance
    assert reproduce_section(steps, "") == "```bash\npython train.py --all\npython train.py --reuse-members\n```\n"


def test_auroc_against_other_class_ranks_each_source_against_the_opposite_class() -> None:
    labels = [0, 0, 0, 1, 1, 1]
    scores = [0.1, 0.2, 0.95, 0.9, 0.8, 0.3]
    sources = ["camera", "camera", "web", "sdxl", "sdxl", "dalle"]
    table = auroc_against_other_class(labels, scores, sources)
    assert table == {"camera": 1.0, "dalle": pytest.approx(2 / 3), "sdxl": pytest.approx(2 / 3), "web": 0.0}
    with pytest.raises(ValueError, match="'mixed' holds both classes"):
        auroc_against_other_class([0, 1], [0.1, 0.9], ["mixed", "mixed"])


# --------------------------------------------------------------------------------------------------- shortcuts


def test_shortcut_baselines_find_what_alone_separates_the_classes() -> None:
    from deepfake_detectors.evaluation.shortcuts import SHORTCUT_STATISTICS, shortcut_baselines

    rng = np.random.default_rng(0)
    smooth = [Image.fromarray(np.full((64, 64, 3), rng.integers(0, 256), dtype=np.uint8)) for _ in range(6)]
    busy = [Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for _ in range(6)]
    # smooth fakes, busy reals (as on wild validation): fewer bits = fake, whichever way round the labels go
    baselines = shortcut_baselines([0] * 6 + [1] * 6, busy + smooth)
    assert set(SHORTCUT_STATISTICS) | {"strongest"} == set(baselines)
    assert baselines["png_bits"] == {"auroc": 1.0, "higher_means": "real"}
    assert baselines["abs_log_aspect"] == {"auroc": 0.5, "higher_means": None}
    assert baselines["strongest"] in ("png_bits", "log_noise", "spectral_slope")
    # each class half busy, half smooth: nothing separates them
    mixed = shortcut_baselines([0, 0, 1, 1] * 3, [image for pair in zip(busy, smooth) for image in pair])
    assert all(mixed[name]["auroc"] < 0.75 for name in SHORTCUT_STATISTICS)
    assert shortcut_baselines([1] * 3, smooth[:3]) is None  # one class: no AUROC
    with pytest.raises(ValueError, match="labels"):
        shortcut_baselines([0, 1], smooth[:3])


def test_shortcut_baselines_read_the_stored_size_and_jpeg_quality(tmp_path: Path) -> None:
    from deepfake_detectors.evaluation.shortcuts import shortcut_baselines

    rng = np.random.default_rng(1)
    paths = []
    for index in range(8):
        path = tmp_path / f"{index}.jpg"
        side = 64 if index < 4 else 96
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path, quality=95 if index < 4 else 70)
        paths.append(path)
    baselines = shortcut_baselines([0] * 4 + [1] * 4, [load_image(path) for path in paths])
    assert baselines["log10_megapixels"] == {"auroc": 1.0, "higher_means": "fake"}
    assert baselines["jpeg_quality"] == {"auroc": 1.0, "higher_means": "real"}


def test_shortcut_baselines_see_how_much_jpeg_compression_an_image_has_been_through(tmp_path: Path) -> None:
    """Images that were JPEGs before change less when re-saved than the same kind of image never compressed, even
    with the stored files all PNG (as a dataset that re-encodes everything leaves them), and at any crop offset."""
    from deepfake_detectors.evaluation.shortcuts import auroc_within_strata, jpeg_resave_change, shortcut_baselines

    rng = np.random.default_rng(2)
    images = []
    for index in range(8):
        noise = rng.normal(128, 40, (300, 340, 3)).clip(0, 255).astype(np.uint8)
        picture = Image.fromarray(noise).filter(ImageFilter.GaussianBlur(1.5))
        if index < 4:  # "real": a JPEG once, stored as PNG
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=75)
            picture = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        path = tmp_path / f"{index}.png"
        picture.save(path)
        images.append(load_image(path))
    changes = [jpeg_resave_change(image) for image in images]
    assert max(changes[:4]) < min(changes[4:])
    labels, scores = [0] * 4 + [1] * 4, rng.normal(size=8)
    baselines = shortcut_baselines(labels, images, scores=scores)
    assert baselines["jpeg_resave_change"] == {"auroc": 1.0, "higher_means": "fake"}
    # the detector's AUROC among images of similar compression history, next to the one among similar smoothness
    assert baselines["detector_auroc_within_jpeg_resave_change_quintiles"] == auroc_within_strata(labels, scores, changes)
    assert "detector_auroc_within_png_bits_quintiles" in baselines


def test_auroc_within_strata_removes_what_the_nuisance_statistic_explains() -> None:
    from sklearn.metrics import roc_auc_score

    from deepfake_detectors.evaluation.shortcuts import auroc_within_strata

    rng = np.random.default_rng(0)
    smoothness = rng.uniform(0, 1, 400)
    labels = (rng.uniform(0, 1, 400) < smoothness).astype(int)  # smoother images are more often fake
    follows_smoothness = smoothness + rng.normal(0, 0.01, 400)
    sees_something_else = labels + rng.normal(0, 0.5, 400)
    assert roc_auc_score(labels, follows_smoothness) > 0.75  # looks like a detector on the whole set
    assert abs(auroc_within_strata(labels, follows_smoothness, smoothness, bins=10) - 0.5) < 0.1
    assert auroc_within_strata(labels, sees_something_else, smoothness, bins=10) > 0.85
    assert auroc_within_strata([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], [1, 2, 8, 9], bins=2) is None  # no mixed bin
