"""ElaImageProcessor / ElaCnnConfig / ElaCnnForImageClassification."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoModelForImageClassification, pipeline

from conftest import labelled_crop_splits, load_script, noisy_image, smooth_image
from deepfake_detectors import (
    DeepfakeImageProcessor,
    ElaCnnConfig,
    ElaCnnForImageClassification,
    ElaImageProcessor,
    EnsembleDeepfakeDetector,
    ResidualAutoencoderConfig,
    ResidualAutoencoderModel,
)
from deepfake_detectors.processing_ela import jpeg_error_levels, jpeg_error_levels_batch

TINY = dict(image_size=32, hidden_sizes=[4, 8], dropout=0.0)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _ela_mean(processor: ElaImageProcessor, image: Image.Image) -> float:
    return float(np.asarray(processor.ela_map(image), dtype=np.float64).mean() / 255.0)


def _batch(count: int = 8, seed: int = 0) -> tuple[list[Image.Image], torch.Tensor]:
    """Smooth images (real, 0) and noise images (fake, 1), alternating."""
    rng = np.random.default_rng(seed)
    images = [smooth_image(rng) if index % 2 == 0 else noisy_image(rng) for index in range(count)]
    return images, torch.tensor([index % 2 for index in range(count)])


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    """A tiny calibrated ELA-CNN saved with its processor."""
    torch.manual_seed(0)
    model = ElaCnnForImageClassification(ElaCnnConfig(**TINY)).eval()
    processor = ElaImageProcessor(size=32)
    images, labels = _batch(16, seed=3)
    scores = model.score(processor(images)["pixel_values"]).numpy()
    model.calibrate(scores[labels.numpy() == 0], scores[labels.numpy() == 1])
    directory = tmp_path_factory.mktemp("ela_cnn")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


# ---------------------------------------------------------------- processor
def test_ela_is_near_zero_for_a_resaved_jpeg_and_large_for_noise() -> None:
    processor = ElaImageProcessor(size=32, ela_quality=90)
    rng = np.random.default_rng(0)
    photo = smooth_image(rng)
    resaved = _ela_mean(processor, _jpeg(photo, 90))
    assert resaved < 0.01  # already at this quality: the re-save barely changes it
    assert _ela_mean(processor, photo) > resaved  # never compressed: its error level is higher
    assert _ela_mean(processor, noisy_image(rng)) > 0.5  # fresh high-frequency content: large error everywhere
    assert processor.ela_map(photo).mode == "RGB" and processor.ela_map(photo).size == (32, 32)
    large = photo.resize((64, 48))
    assert processor.ela_map(large, full_resolution=True).size == (64, 48)


@pytest.mark.parametrize("quality", [50, 90])
def test_batched_ela_matches_the_pillow_round_trip(quality: int) -> None:
    """The torchvision batch path must give exactly the ELA of Pillow's JPEG re-save (what the weights saw)."""
    rng = np.random.default_rng(quality)
    images = [smooth_image(rng, 40), noisy_image(rng, 40), _jpeg(noisy_image(rng, 40).resize((40, 40)), 70)]
    arrays = [np.asarray(image, dtype=np.uint8) for image in images]
    expected = [
        np.clip(np.abs(a.astype(np.int16) - np.asarray(_jpeg(Image.fromarray(a), quality), np.int16)) * (10.0 / 255.0), 0, 1)
        for a in arrays
    ]
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    maps = jpeg_error_levels_batch(batch, quality, 10.0).permute(0, 2, 3, 1).numpy()
    for got, want in zip(maps, expected):
        np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(jpeg_error_levels(arrays[1], quality, 10.0), expected[1], atol=1e-6)
    with pytest.raises(ValueError, match="uint8"):
        jpeg_error_levels_batch(batch.float(), quality, 10.0)


def test_pixel_values_are_the_normalised_image_then_the_ela_map() -> None:
    images, _ = _batch(4)
    processor = ElaImageProcessor(size=32)
    pixel_values = processor(images)["pixel_values"]
    assert pixel_values.shape == (4, 6, 32, 32) and processor.num_channels == 6
    assert pixel_values.min() >= -1.0 and pixel_values.max() <= 1.0
    plain = DeepfakeImageProcessor(size=32)(images)["pixel_values"]
    assert torch.allclose(pixel_values[:, :3], plain, atol=1e-6)
    ela = torch.from_numpy(np.stack([np.asarray(processor.ela_map(image)) for image in images])).permute(0, 3, 1, 2)
    assert torch.allclose((pixel_values[:, 3:] + 1) / 2, ela.float() / 255, atol=1 / 255)
    only_ela = ElaImageProcessor(size=32, include_image=False)(images)["pixel_values"]
    assert only_ela.shape == (4, 3, 32, 32) and torch.allclose(only_ela, pixel_values[:, 3:])
    # The ensemble path (shared [0, 1] tensors, then normalise_tensor) gives the same input as preprocess.
    unit = torch.stack([processor.to_unit_tensor(image) for image in images])
    assert torch.allclose(processor.normalise_tensor(unit), pixel_values)
    assert not processor.is_identity_normalisation


def test_processor_round_trip(tmp_path: Path) -> None:
    processor = ElaImageProcessor(size=16, ela_quality=75, ela_scale=20.0, include_image=False, resample="bicubic")
    processor.save_pretrained(tmp_path)
    for loaded in (ElaImageProcessor.from_pretrained(tmp_path), AutoImageProcessor.from_pretrained(tmp_path)):
        assert type(loaded) is ElaImageProcessor
        assert (loaded.size, loaded.ela_quality, loaded.ela_scale, loaded.include_image, loaded.resample) == (
            16, 75, 20.0, False, "bicubic"
        )
    image = noisy_image(np.random.default_rng(0))
    assert torch.equal(processor(image)["pixel_values"], loaded(image)["pixel_values"])
    with pytest.raises(ValueError, match="ela_quality"):
        ElaImageProcessor(ela_quality=0)
    with pytest.raises(ValueError, match="ela_scale"):
        ElaImageProcessor(ela_scale=0)


# ---------------------------------------------------------------- config and model
def test_config_defaults_and_validation() -> None:
    config = ElaCnnConfig()
    assert (config.num_channels, config.image_size, config.hidden_sizes, config.dropout) == (6, 32, [32, 64, 128], 0.25)
    assert (config.ela_quality, config.num_labels, config.id2label) == (90, 2, {0: "real", 1: "fake"})
    for bad in (dict(num_channels=4), dict(hidden_sizes=[]), dict(dropout=1.0), dict(ela_quality=101),
                dict(num_labels=3), dict(image_size=8, hidden_sizes=[4, 4, 4, 4])):
        with pytest.raises(ValueError):
            ElaCnnConfig(**bad)


def test_model_shapes_scores_and_loss() -> None:
    model = ElaCnnForImageClassification(ElaCnnConfig(**TINY)).eval()
    pixel_values = torch.rand(3, 6, 32, 32) * 2 - 1
    output = model(pixel_values, output_hidden_states=True)
    assert output.logits.shape == (3, 2) and output.loss is None
    assert torch.allclose(output.scores, output.logits.softmax(-1)[:, 1])
    assert [tuple(h.shape) for h in output.hidden_states] == [(3, 4, 16, 16), (3, 8, 8, 8)]
    assert torch.equal(model.score(pixel_values), output.scores)
    labelled = model(pixel_values, labels=torch.tensor([0, 1, 1]))
    assert torch.isclose(labelled.loss, torch.nn.functional.cross_entropy(output.logits, torch.tensor([0, 1, 1])))
    with pytest.raises(ValueError, match="input channels"):
        model(torch.zeros(1, 3, 32, 32))
    picture = noisy_image(np.random.default_rng(0))
    explanation = model.explain(picture)
    assert explanation.method == "ELA map" and explanation.overlay.mode == "RGB" and explanation.overlay.size == (32, 32)
    assert explanation.heatmap.shape == (32, 32) and 0.0 <= explanation.heatmap.min() <= explanation.heatmap.max() <= 1.0
    own_input = ElaImageProcessor(size=model.config.image_size, ela_quality=model.config.ela_quality)([picture])
    assert explanation.probability == pytest.approx(float(model.score(own_input["pixel_values"])[0]), abs=1e-6)


def test_loss_decreases_on_a_fixed_batch() -> None:
    images, labels = _batch(16)
    pixel_values = ElaImageProcessor(size=32)(images)["pixel_values"]
    model = ElaCnnForImageClassification(ElaCnnConfig(**TINY)).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = model(pixel_values, labels=labels).loss.item()
    for _ in range(15):
        loss = model(pixel_values, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.5 * first


def test_save_and_auto_load_give_identical_logits(saved_model: Path) -> None:
    assert isinstance(AutoConfig.from_pretrained(saved_model), ElaCnnConfig)
    pixel_values = ElaImageProcessor.from_pretrained(saved_model)(_batch(4)[0])["pixel_values"]
    reference = ElaCnnForImageClassification.from_pretrained(saved_model).eval()
    for auto in (AutoModel, AutoModelForImageClassification):
        loaded, info = auto.from_pretrained(saved_model, output_loading_info=True)
        assert type(loaded) is ElaCnnForImageClassification
        assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
        assert torch.equal(loaded.eval()(pixel_values).logits, reference(pixel_values).logits)
    assert reference.calibration is not None and "optimal" in reference.calibration.thresholds


# ---------------------------------------------------------------- pipelines
def test_transformers_image_classification_pipeline(saved_model: Path) -> None:
    classifier = pipeline("image-classification", model=str(saved_model), image_processor=str(saved_model))
    rows = classifier(noisy_image(np.random.default_rng(0)))
    assert sorted(row["label"] for row in rows) == ["fake", "real"]
    assert sum(row["score"] for row in rows) == pytest.approx(1.0, abs=1e-5)
    assert rows[0]["score"] >= rows[1]["score"]


def test_ensemble_loads_a_saved_ela_cnn_and_predicts(saved_model: Path) -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(saved_model, device="cpu")
    assert isinstance(detector.processors["ela_cnn"], ElaImageProcessor)
    images, _ = _batch(4)
    results = detector.predict(images)
    assert len(results) == 4 and all(result.error is None and result.label in ("real", "fake") for result in results)
    assert all(0.0 <= result.probability <= 1.0 for result in results)


def test_ela_member_next_to_a_pixel_member_gets_its_own_input(saved_model: Path) -> None:
    """The ensemble shares resized [0, 1] images between members; each processor then makes its own input."""
    ela_model = ElaCnnForImageClassification.from_pretrained(saved_model).eval()
    ela_processor = ElaImageProcessor.from_pretrained(saved_model)
    autoencoder = ResidualAutoencoderModel(
        ResidualAutoencoderConfig(image_size=32, hidden_sizes=[4, 4, 4, 4, 4], latent_dim=4)
    )
    detector = EnsembleDeepfakeDetector.from_members(
        {"autoencoder": (autoencoder, DeepfakeImageProcessor(size=32)), "ela_cnn": (ela_model, ela_processor)},
        device="cpu",
    )
    images, _ = _batch(4)
    raw = detector.raw_member_scores(images)
    assert raw["autoencoder"].shape == (4,)
    expected = ela_model.score(ela_processor(images)["pixel_values"]).numpy()
    assert np.allclose(raw["ela_cnn"], expected, atol=1e-6)


# ---------------------------------------------------------------- training recipe, options and repo card
def _labelled_splits(root: Path, per_class: int, seed: int = 0) -> Path:
    """A `datasets` folder (parquet) whose train and validation splits hold smooth "real" and noise "fake" images."""
    import datasets

    rng = np.random.default_rng(seed)
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=["real", "fake"])})
    for split in ("train", "validation"):
        images = [smooth_image(rng) for _ in range(per_class)] + [noisy_image(rng) for _ in range(per_class)]
        table = datasets.Dataset.from_dict({"image": images, "label": [0] * per_class + [1] * per_class}, features)
        table.to_parquet(str(root / "data" / f"{split}-00000-of-00001.parquet"))
    return root / "data"


def test_optimisation_options_keep_each_scripts_defaults_and_build_training_arguments() -> None:
    from deepfake_detectors.training.supervised import KEEP_BEST_BY_ACCURACY, run_directory, training_arguments

    args = load_script("train_ela_cnn").parse_args(["--output-dir", "models/ela", "--optimizer", "rmsprop"])
    assert (args.epochs, args.max_steps, args.batch_size, args.learning_rate, args.weight_decay) == (5.0, -1, 128, 1e-3, 1e-4)
    assert (args.optimizer, args.resume, args.seed, args.num_workers) == ("rmsprop", None, 0, 0)
    assert run_directory(args) == "runs/ela_trainer"
    settings = training_arguments(
        args, run_directory(args), warmup_steps=0.03, eval_strategy="epoch", save_strategy="epoch", **KEEP_BEST_BY_ACCURACY
    )
    assert (settings.output_dir, settings.per_device_train_batch_size, settings.learning_rate) == ("runs/ela_trainer", 128, 1e-3)
    assert (settings.weight_decay, settings.lr_scheduler_type, settings.warmup_steps) == (1e-4, "cosine", 0.03)
    assert settings.load_best_model_at_end and settings.metric_for_best_model == "accuracy" and settings.report_to == []
    assert not settings.remove_unused_columns  # the labels column reaches the model
    overridden = training_arguments(args, "elsewhere", learning_rate=5e-2, lr_scheduler_type="constant")
    assert (overridden.output_dir, overridden.learning_rate, overridden.lr_scheduler_type) == ("elsewhere", 5e-2, "constant")


def test_training_script_keeps_the_best_epoch_calibrates_and_saves(tmp_path: Path) -> None:
    dataset = _labelled_splits(tmp_path, per_class=8)
    out = tmp_path / "model"
    load_script("train_ela_cnn").main([
        "--dataset", str(dataset), "--max-eval-samples", "8", "--max-calibration-samples", "4", "--hidden-sizes", "4", "8",
        "--batch-size", "8", "--epochs", "1", "--optimizer", "rmsprop", "--output-dir", str(out),
        "--run-dir", str(tmp_path / "run"),
    ])
    loaded = ElaCnnForImageClassification.from_pretrained(out)
    training = loaded.config.training
    assert (training["n_train_images"], training["optimizer"], training["epochs"]) == (16, "rmsprop", 1.0)
    assert 0.0 <= training["best_validation_accuracy"] <= 1.0  # evaluated on validation after the epoch
    assert loaded.config.hidden_sizes == [4, 8] and ElaImageProcessor.from_pretrained(out).size == 32
    assert set(loaded.calibration.thresholds) == {"strict", "balanced", "sensitive", "optimal"}
    assert any((tmp_path / "run").glob("checkpoint-*"))
    assert EnsembleDeepfakeDetector.from_pretrained(out).predict(_batch(1)[0][0]).error is None


def _results(auroc: float) -> dict:
    row = {"accuracy": 0.9, "recall": 0.8, "fpr": 0.1, "auroc": auroc, "precision": 0.88, "f1": 0.84}
    return {**row, "n_real": 5, "n_fake": 5, "threshold_name": "optimal", "threshold": 1.25,
            "robustness": {"jpeg_q70": {**row, "accuracy": 0.7}}}


def test_supervised_card_shows_results_robustness_training_and_the_ela_limit(saved_model: Path, tmp_path: Path) -> None:
    from deepfake_detectors.supervised_repos import ELA_LIMIT, RESAMPLING_LIMIT, supervised_card_body

    model = ElaCnnForImageClassification.from_pretrained(saved_model)
    model.config.training = {"epochs": 5, "phase": {"learning_rate": 0.002}}
    body = supervised_card_body(
        title="ELA", description="what it is", notes="context", repo_dir=tmp_path / "deepfake-ela-cnn", model=model,
        test=_results(0.95), aiart=_results(0.6), explanation_png="explanation_examples.png", reproduce="bash x.sh\n",
    )
    assert ELA_LIMIT in body and RESAMPLING_LIMIT not in body
    assert "| CIFAKE test (re-split) | 5 / 5 | 0.9500 |" in body and "| AI-art test (second domain, not tuned) | 5 / 5 | 0.6000 |" in body
    assert "| jpeg_q70 | 0.7000 | 0.8000 | 0.1000 | 0.9500 |" in body and "`optimal` = 1.250" in body
    assert "| phase.learning_rate | 0.002 |" in body and "Earlier stage" not in body
    assert 'from_pretrained("deepfake-detectors/deepfake-ela-cnn")' in body and "```bash\nbash x.sh\n```" in body


def test_prepare_repo_copies_only_what_is_published_and_writes_the_thresholds(saved_model: Path, tmp_path: Path) -> None:
    import shutil

    from deepfake_detectors.supervised_repos import prepare_repo

    run = tmp_path / "run"
    shutil.copytree(saved_model, run)
    (run / "checkpoint-10").mkdir()
    (run / "training_args.bin").write_bytes(b"pickle")
    repo = tmp_path / "hub" / "deepfake-ela-cnn"
    repo.mkdir(parents=True)
    (repo / "stale.txt").write_text("from an earlier build")
    detector = prepare_repo(str(run), repo)
    assert not (repo / "stale.txt").exists() and not (repo / "checkpoint-10").exists()
    assert not (repo / "training_args.bin").exists() and (repo / "model.safetensors").is_file()
    thresholds = json.loads((repo / "thresholds_calibrated.json").read_text())
    assert set(thresholds["members"]) == set(detector.members)
    (repo / "notes.txt").write_text("kept")
    prepare_repo(None, repo, cards_only=True)  # a card-only rewrite leaves the folder alone
    assert (repo / "notes.txt").read_text() == "kept"


def test_build_script_evaluates_with_robustness_and_rewrites_the_card_from_the_files(
    saved_model: Path, tmp_path: Path, monkeypatch
) -> None:
    from conftest import REPO_ROOT
    from deepfake_detectors.hub import card_metrics, validate_repo_folder

    dataset = _labelled_splits(tmp_path / "cifake", per_class=4)
    for split in ("train", "validation"):  # the same rows serve as a test split here
        (dataset / f"{split}-00000-of-00001.parquet").rename(dataset / f"test-{split}.parquet")
    (tmp_path / "weights.sh").write_text("python scripts/train_ela_cnn.py --output-dir runs/ela_cnn\n")
    monkeypatch.chdir(REPO_ROOT)  # the explanation panels use examples/
    options = ["--name", "ela-test", "--title", "ELA test", "--hub-dir", str(tmp_path / "hub"),
               "--reproduce-script", str(tmp_path / "weights.sh")]
    script = load_script("build_supervised_repo")
    script.main(["--model", str(saved_model), "--dataset", str(dataset), "--second-domain", str(tmp_path / "none"),
                 *options])
    repo = tmp_path / "hub" / "ela-test"
    summary = json.loads((repo / "results_summary.json").read_text())
    assert (summary["n_real"], summary["n_fake"], summary["threshold_name"]) == (8, 8, "optimal")
    assert summary["robustness"] and json.loads((repo / "results_extra.json").read_text()) == {"aiart_test": None}
    assert validate_repo_folder(repo) == []  # card figures = results files, images present, no pickles
    assert (repo / "explanation_examples.png").is_file() and "| none |" in (repo / "README.md").read_text()
    (repo / "results_summary.json").write_text(json.dumps({**summary, "auroc": 0.5}))
    script.main(["--cards-only", *options])  # no --model needed to rewrite the card
    assert card_metrics(repo / "README.md")[("cifake", "test", "roc_auc")] == 0.5


# ---------------------------------------------------------------- native-resolution crops (the photo-trained model)
def test_crop_processor_gives_each_native_crop_its_own_ela_map_on_the_jpeg_grid() -> None:
    from deepfake_detectors import ElaCropImageProcessor

    processor = ElaCropImageProcessor(crop_size=32, crops_per_side=3)
    assert processor.offset_multiple == 8
    assert all(box[0] % 8 == 0 and box[1] % 8 == 0 for box in processor.crop_boxes(203, 150))
    image = _jpeg(noisy_image(np.random.default_rng(4), size=100), quality=75)
    pixel_values = processor([image])["pixel_values"]
    assert pixel_values.shape == (1, 9, 6, 32, 32)
    left, top, right, bottom = processor.crop_boxes(100, 100)[4]
    crop = np.array(image)[top:bottom, left:right]
    expected_ela = torch.from_numpy(jpeg_error_levels(crop, 90, 10.0)).permute(2, 0, 1) * 2 - 1
    assert torch.allclose(pixel_values[0, 4, 3:], expected_ela, atol=1e-5)  # the ELA of the crop itself
    assert torch.allclose(pixel_values[0, 4, :3], torch.from_numpy(crop).permute(2, 0, 1) / 127.5 - 1, atol=1e-5)
    # A 32 px CIFAKE image is one whole crop at its own size, as the CIFAKE model saw it.
    assert processor([smooth_image(np.random.default_rng(5))])["pixel_values"].shape == (1, 1, 6, 32, 32)
    assert processor.ela_map(image).size == (100, 100)


def test_crop_model_combines_crop_logits_and_loads_its_processor_by_name(tmp_path: Path) -> None:
    from deepfake_detectors import ElaCropImageProcessor

    torch.manual_seed(0)
    model = ElaCnnForImageClassification(ElaCnnConfig(image_size=32, hidden_sizes=[4, 8], crops_per_side=2,
                                                      crop_aggregation="max_logit")).eval()
    processor = model.default_processor()
    assert isinstance(processor, ElaCropImageProcessor) and processor.crops_per_side == 2
    pixel_values = processor([noisy_image(np.random.default_rng(6), size=80)])["pixel_values"]
    with torch.no_grad():
        per_crop = model(pixel_values=pixel_values[0]).logits
        output = model(pixel_values=pixel_values)
    assert output.logits[0, 1] == pytest.approx(float((per_crop[:, 1] - per_crop[:, 0]).max()), abs=1e-5)
    assert output.scores[0] == pytest.approx(float(torch.sigmoid(output.logits[0, 1])), abs=1e-6)
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    assert type(AutoImageProcessor.from_pretrained(tmp_path)) is ElaCropImageProcessor  # not the resizing one
    explanation = model.explain(noisy_image(np.random.default_rng(7), size=80), processor)
    assert explanation.heatmap.shape == (80, 80) and explanation.method == "ELA map"


def test_crop_training_script_starts_from_a_trained_model_and_calibrates_on_validation(tmp_path: Path) -> None:
    from deepfake_detectors import ElaCropImageProcessor

    start = tmp_path / "start"
    ElaCnnForImageClassification(ElaCnnConfig(image_size=32, hidden_sizes=[4, 8])).save_pretrained(start)
    dataset = str(labelled_crop_splits(tmp_path, per_class=4, splits=("train", "validation")))
    out = tmp_path / "crops"
    load_script("train_ela_cnn_on_crops").main([
        "--init-from", str(start), "--dataset", dataset, "--max-train-samples", "-1", "--calibration-dataset",
        dataset, "--crop-size", "32", "--crops-per-side", "2", "--max-steps", "2", "--batch-size", "4",
        "--output-dir", str(out),
    ])
    loaded = ElaCnnForImageClassification.from_pretrained(out)
    training = loaded.config.training
    assert (training["n_train_images"], training["steps"], training["init_from"]) == (8, 2, str(start))
    assert training["calibration"] == f"validation splits of {[dataset]} (4 real, 4 fake)"
    assert set(loaded.calibration.thresholds) >= {"strict", "balanced", "sensitive", "optimal"}
    processor = ElaCropImageProcessor.from_pretrained(out)
    assert (processor.crop_size, processor.crops_per_side, processor.offset_multiple) == (32, 2, 8)
    with pytest.raises(SystemExit):
        load_script("train_ela_cnn_on_crops").parse_args(["--crop-size", "36"])  # off the 8-pixel JPEG grid
