"""NativeCropImageProcessor / NprDetectorConfig / NprDetectorForImageClassification and their training pieces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoModel, pipeline

from conftest import labelled_crop_splits, load_script, noisy_image, smooth_image, upsampled_image
from deepfake_detectors import (
    EnsembleDeepfakeDetector,
    NativeCropImageProcessor,
    NprDetectorConfig,
    NprDetectorForImageClassification,
)
from deepfake_detectors.evaluation.metrics import expected_calibration_error, group_metrics
from deepfake_detectors.modeling.npr import neighbouring_pixel_residual
from deepfake_detectors.processing_crops import crop_offsets
from deepfake_detectors.training.native_crops import CropAugmentation, ShapeGroupedBatchSampler

TINY = dict(hidden_sizes=[4, 8], image_size=32)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    """A tiny calibrated NPR detector saved with its processor."""
    torch.manual_seed(0)
    model = NprDetectorForImageClassification(NprDetectorConfig(**TINY)).eval()
    processor = NativeCropImageProcessor(crop_size=32, crops_per_side=2)
    rng = np.random.default_rng(0)
    real = [noisy_image(rng, 48) for _ in range(6)]
    fake = [upsampled_image(rng, 48) for _ in range(6)]
    detector = EnsembleDeepfakeDetector.from_members({"npr": (model, processor)}, device="cpu")
    detector.calibrate(real, fake)
    directory = tmp_path_factory.mktemp("npr")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


# ------------------------------------------------------------------------------------------------ processor


def test_crop_offsets_are_even_and_span_the_side() -> None:
    offsets = crop_offsets(257, 96, 3)
    assert offsets[0] == 0 and offsets[-1] + 96 <= 257 and offsets[-1] >= 257 - 96 - 1
    assert all(offset % 2 == 0 for offset in offsets)


def test_processor_never_resizes_and_keeps_small_images_whole() -> None:
    processor = NativeCropImageProcessor(crop_size=64, crops_per_side=3)
    rng = np.random.default_rng(1)
    large = noisy_image(rng, 200)
    crops = processor.crops(large)
    assert crops.shape == (9, 3, 64, 64)
    top_left = torch.from_numpy(np.asarray(large)[:64, :64]).permute(2, 0, 1).float() / 255
    assert torch.equal(crops[0], top_left)  # the pixels themselves, not a resampled copy
    small = noisy_image(rng, 33)  # odd side: trimmed to 32, never padded or upscaled
    assert processor.crops(small).shape == (1, 3, 32, 32)
    strip = Image.new("RGB", (300, 20))
    assert processor.crops(strip).shape == (3, 3, 20, 64)


def test_crop_groups_batch_equal_shapes_only() -> None:
    processor = NativeCropImageProcessor(crop_size=32, crops_per_side=2)
    rng = np.random.default_rng(2)
    images = [noisy_image(rng, 64), noisy_image(rng, 16), noisy_image(rng, 100)]
    groups = {tuple(indices): crops.shape for indices, crops in processor.crop_groups(images)}
    assert groups == {(0, 2): (2, 4, 3, 32, 32), (1,): (1, 1, 3, 16, 16)}
    with pytest.raises(ValueError, match="different shapes"):
        processor(images)


def test_processor_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="even"):
        NativeCropImageProcessor(crop_size=33)
    with pytest.raises(ValueError, match="crops_per_side"):
        NativeCropImageProcessor(crops_per_side=0)


# ---------------------------------------------------------------------------------------------------- model


def test_npr_is_zero_on_upsampled_images_and_not_on_noise() -> None:
    rng = np.random.default_rng(3)
    to_tensor = lambda image: torch.from_numpy(np.asarray(image)).permute(2, 0, 1)[None].float()  # noqa: E731
    assert neighbouring_pixel_residual(to_tensor(upsampled_image(rng, 32))).abs().max() == 0
    assert neighbouring_pixel_residual(to_tensor(noisy_image(rng, 32))).abs().mean() > 10
    with pytest.raises(ValueError, match="even"):
        neighbouring_pixel_residual(torch.zeros(1, 3, 5, 4))


def test_forward_accepts_crops_and_single_images() -> None:
    model = NprDetectorForImageClassification(NprDetectorConfig(**TINY)).eval()
    crops = torch.rand(2, 3, 3, 32, 32)
    output = model(crops, labels=torch.tensor([0, 1]), output_hidden_states=True)
    assert output.logits.shape == (2, 2) and output.scores.shape == (2,)
    assert output.hidden_states[0].shape == (2, 3)
    assert torch.allclose(output.scores, output.hidden_states[0].mean(dim=1), atol=1e-6)
    assert torch.isfinite(output.loss)
    assert model(crops[:, 0]).logits.shape == (2, 2)
    with pytest.raises(ValueError, match="pixel_values"):
        model(torch.rand(2, 4, 32, 32))


def test_convolutions_run_channels_last_and_give_the_default_layout_logits() -> None:
    model = NprDetectorForImageClassification(NprDetectorConfig(**TINY)).eval()
    layouts = []
    model.stages.register_forward_hook(lambda module, inputs, output: layouts.append(
        (inputs[0].is_contiguous(memory_format=torch.channels_last), output.is_contiguous(memory_format=torch.channels_last))
    ))
    crops = torch.rand(4, 3, 32, 48)
    with torch.no_grad():
        logits = model.crop_logits(crops)
        residual = neighbouring_pixel_residual(crops) * model.config.residual_scale
        reference = model.classifier(model.stages(model.stem(residual.contiguous())).mean(dim=(2, 3))).squeeze(-1)
    assert layouts[0] == (True, True)  # the fast CPU layout, kept by the stem's (folded) convolution and the stages
    assert torch.allclose(logits, reference, atol=1e-5)


def test_config_validates() -> None:
    with pytest.raises(ValueError, match="crop_aggregation"):
        NprDetectorConfig(crop_aggregation="median")
    with pytest.raises(ValueError, match="hidden_sizes"):
        NprDetectorConfig(hidden_sizes=[])
    model = NprDetectorForImageClassification(NprDetectorConfig(**TINY, crop_aggregation="max_logit")).eval()
    crops = torch.rand(1, 4, 3, 16, 16)
    per_crop = model(crops, output_hidden_states=True).hidden_states[0]
    assert torch.allclose(model(crops).scores, per_crop.max(dim=1).values)


def test_learns_upsampling_traces_not_content() -> None:
    """A few steps on noise vs up-sampled noise separate them, whatever the colours."""
    torch.manual_seed(0)
    model = NprDetectorForImageClassification(NprDetectorConfig(**TINY))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(4)
    to_tensor = lambda images: torch.stack(  # noqa: E731
        [torch.from_numpy(np.asarray(image)).permute(2, 0, 1).float() / 255 for image in images]
    )
    for _ in range(30):
        images = [noisy_image(rng, 32) for _ in range(8)] + [upsampled_image(rng, 32) for _ in range(8)]
        loss = model(to_tensor(images), labels=torch.tensor([0] * 8 + [1] * 8)).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    test = [noisy_image(rng, 64) for _ in range(4)] + [upsampled_image(rng, 64) for _ in range(4)]
    scores = model(to_tensor(test)).scores
    assert scores[4:].min() > scores[:4].max()


def test_evidence_map_covers_the_whole_image() -> None:
    model = NprDetectorForImageClassification(NprDetectorConfig(**TINY)).eval()
    image = noisy_image(np.random.default_rng(5), 100)
    evidence = model.evidence_map(image, tile=32)
    assert evidence.shape == (100, 100) and np.isfinite(evidence).all()
    tile_logit = model(torch.from_numpy(np.array(image)[:32, :32]).permute(2, 0, 1)[None].float() / 255).scores
    assert np.isclose(evidence[0, 0], float(tile_logit), atol=1e-5)  # a corner pixel is covered by one tile only
    assert model.evidence_map(noisy_image(np.random.default_rng(5), 20)).shape == (20, 20)


# ---------------------------------------------------------------------------------------------- save / load


def test_save_load_auto_classes_and_pipeline(saved_model: Path) -> None:
    model = AutoModel.from_pretrained(saved_model)
    assert isinstance(model, NprDetectorForImageClassification)
    processor = AutoImageProcessor.from_pretrained(saved_model)
    assert isinstance(processor, NativeCropImageProcessor) and processor.crops_per_side == 2
    classify = pipeline("image-classification", model=str(saved_model), image_processor=str(saved_model))
    labels = {row["label"] for row in classify(noisy_image(np.random.default_rng(6), 80))}
    assert labels == {"real", "fake"}


def test_detector_scores_mixed_sizes_and_bad_files(saved_model: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    paths = []
    for index, size in enumerate((32, 120, 48)):
        path = tmp_path / f"image_{index}.png"
        noisy_image(rng, size).save(path)
        paths.append(str(path))
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    detector = EnsembleDeepfakeDetector.from_pretrained(saved_model, device="cpu")
    results = detector.predict(paths + [str(tmp_path / "broken.jpg")])
    assert [result.error is None for result in results] == [True, True, True, False]
    assert "broken.jpg" in results[-1].error
    one_by_one = [detector.predict(path).score for path in paths]
    assert np.allclose([result.score for result in results[:3]], one_by_one, atol=1e-5)


def test_default_threshold_comes_from_the_config(saved_model: Path, tmp_path: Path) -> None:
    model = NprDetectorForImageClassification.from_pretrained(saved_model)
    model.config.default_threshold = "optimal"
    model.save_pretrained(tmp_path)
    NativeCropImageProcessor.from_pretrained(saved_model).save_pretrained(tmp_path)
    assert EnsembleDeepfakeDetector.from_pretrained(tmp_path).threshold[1] == "optimal"
    assert EnsembleDeepfakeDetector.from_pretrained(saved_model).threshold[1] == "balanced"


# ------------------------------------------------------------------------------------------------- training


def test_crop_augmentation_keeps_native_pixels_and_even_offsets() -> None:
    augment = CropAugmentation(crop_size=32, jpeg_probability=0, resize_probability=0, blur_probability=0, seed=0)
    image = upsampled_image(np.random.default_rng(8), 96)
    for _ in range(5):
        crop = augment(image)
        assert crop.shape == (3, 32, 32)
        assert neighbouring_pixel_residual(crop[None]).abs().max() == 0  # an odd offset would break the 2x2 grid
    assert augment(smooth_image(np.random.default_rng(9), 20)).shape == (3, 20, 20)


def test_shape_grouped_batches_cover_every_row_once() -> None:
    shapes = [(32, 32)] * 5 + [(96, 96)] * 7
    sampler = ShapeGroupedBatchSampler(shapes, batch_size=3, seed=1)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 2 + 3
    assert sorted(index for batch in batches for index in batch) == list(range(12))
    assert all(len({shapes[index] for index in batch}) == 1 for batch in batches)
    assert list(sampler) != batches  # reshuffled each epoch


# ------------------------------------------------------------------------------------------------ metrics


def test_group_metrics_and_calibration_error() -> None:
    labels = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.7, 0.8, 0.9, 0.2, 0.3])
    table = group_metrics(labels, scores, scores >= 0.5, ["a", "a", "a", "b", "", "b"])
    assert set(table) == {"a", "b"}
    assert table["a"]["n"] == 3 and table["a"]["auroc"] == 1.0 and table["b"]["auroc"] is None
    assert table["b"]["flagged"] == 0.5
    perfect = expected_calibration_error(np.array([0, 1] * 50), np.array([0.0, 1.0] * 50))
    overconfident = expected_calibration_error(np.array([0, 1] * 50), np.array([1.0, 0.0] * 50))
    assert perfect == 0.0 and overconfident == 1.0


def test_evaluate_writes_predictions_and_groups(saved_model: Path, tmp_path: Path) -> None:
    import datasets

    from deepfake_detectors.evaluation import evaluate_detector

    rng = np.random.default_rng(10)
    images = [noisy_image(rng, 40) for _ in range(4)] + [upsampled_image(rng, 40) for _ in range(4)]
    table = datasets.Dataset.from_dict(
        {
            "image": images,
            "label": [0, 0, 0, 0, 1, 1, 1, 1],
            "source": ["cam", "cam", "web", "web", "gen", "gen", "gen", "gen"],
            "generator": ["", "", "", "", "x", "x", "y", "y"],
        },
        features=datasets.Features(
            {
                "image": datasets.Image(),
                "label": datasets.ClassLabel(names=["real", "fake"]),
                "source": datasets.Value("string"),
                "generator": datasets.Value("string"),
            }
        ),
    )
    table.to_parquet(str(tmp_path / "data" / "test-00000-of-00001.parquet"))
    detector = EnsembleDeepfakeDetector.from_pretrained(saved_model)
    results = evaluate_detector(detector, str(tmp_path / "data"), "test", output_dir=str(tmp_path / "out"))
    assert set(results["by_source"]) == {"cam", "web", "gen"} and set(results["by_generator"]) == {"x", "y"}
    assert 0.0 <= results["expected_calibration_error"] <= 1.0
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and rows[0]["source"] == "cam" and rows[-1]["generator"] == "y"
    assert all(row["is_fake"] == (row["score"] >= results["threshold"]) for row in rows)
    assert all(0.0 <= row["probability"] <= 1.0 for row in rows)


def test_explanation_covers_the_whole_image(saved_model: Path) -> None:
    from deepfake_detectors.explanations import explain_image

    detector = EnsembleDeepfakeDetector.from_pretrained(saved_model)
    image = noisy_image(np.random.default_rng(11), 90)
    explanation = detector.members["npr"].explain(image)
    assert explanation.heatmap.shape == (90, 90) and explanation.overlay.size == (90, 90)
    assert 0.0 <= explanation.heatmap.min() <= explanation.heatmap.max() <= 1.0
    assert "Evidence map (npr)" in explain_image(detector, image)


def test_aligned_pairs_pair_each_real_crop_with_its_reconstruction(tmp_path: Path) -> None:
    import datasets

    from deepfake_detectors.training.aligned_pairs import (
        TinyAutoencoder,
        build_aligned_pairs,
        tiny_decoder,
        tiny_encoder,
    )

    torch.save(tiny_encoder(4, False).state_dict(), tmp_path / "encoder.pth")
    torch.save(tiny_decoder(4, False).state_dict(), tmp_path / "decoder.pth")
    autoencoder = TinyAutoencoder(tmp_path / "encoder.pth", tmp_path / "decoder.pth", 4, global_context=False)
    rng = np.random.default_rng(12)
    table = datasets.Dataset.from_dict(
        {"image": [noisy_image(rng, 60), noisy_image(rng, 40), noisy_image(rng, 50)], "label": [0, 1, 0],
         "source": ["cam", "gen", "web"]},
        features=datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64"),
                                    "source": datasets.Value("string")}),
    )
    pairs = build_aligned_pairs(table, autoencoder, crop_size=32, progress=False)
    assert pairs["label"] == [0, 1, 0, 1] and pairs["pair"] == [0, 0, 1, 1]  # the fake row is never used
    assert pairs["source"] == ["aligned:cam"] * 2 + ["aligned:web"] * 2
    assert all(image.size == (32, 32) for image in pairs["image"])
    with pytest.raises(ValueError, match="multiple of 8"):
        build_aligned_pairs(table, autoencoder, crop_size=30)


# ---------------------------------------------------------------- training recipe and repo building
def test_training_options_have_no_epochs_and_minus_one_means_all() -> None:
    from deepfake_detectors.training.supervised import optional_limit, training_arguments

    script = load_script("train_npr")
    args = script.parse_args(["--output-dir", "runs/npr"])
    assert (args.max_steps, args.batch_size, args.learning_rate, args.weight_decay) == (4000, 32, 2e-3, 1e-4)
    assert args.max_train_samples == [-1, 10000] and [optional_limit(v) for v in args.max_train_samples] == [None, 10000]
    with pytest.raises(SystemExit):
        script.parse_args(["--output-dir", "runs/npr", "--epochs", "2"])  # a fixed number of steps, never epochs
    settings = training_arguments(args, "runs/npr_trainer", save_total_limit=1)
    assert (settings.max_steps, settings.per_device_train_batch_size, settings.save_total_limit) == (4000, 32, 1)


def test_training_script_runs_fixed_steps_and_calibrates_on_the_validation_splits(tmp_path: Path, capsys) -> None:
    dataset = str(labelled_crop_splits(tmp_path, per_class=4, splits=("train", "validation")))
    out = tmp_path / "npr"
    load_script("train_npr").main([
        "--dataset", dataset, "--max-train-samples", "-1", "--calibration-dataset", dataset, "--crop-size", "32",
        "--crops-per-side", "2", "--hidden-sizes", "4", "8", "--max-steps", "2", "--batch-size", "4",
        "--output-dir", str(out),
    ])
    loaded = NprDetectorForImageClassification.from_pretrained(out)
    training = loaded.config.training
    assert (training["datasets"], training["n_train_images"], training["max_steps"]) == ([dataset], 8, 2)
    assert training["calibration"] == f"validation splits of {[dataset]} (4 real, 4 fake)"
    assert set(loaded.calibration.thresholds) >= {"strict", "balanced", "sensitive", "optimal"}
    assert NativeCropImageProcessor.from_pretrained(out).crop_size == 32
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.rindex('{\n  "output_dir"'):])
    assert summary["output_dir"] == str(out) and "thresholds" not in summary  # the record only, as before


def test_calibrate_script_rewrites_the_calibration_and_leaves_the_weights_as_they_are(
    saved_model: Path, tmp_path: Path
) -> None:
    from deepfake_detectors.training.supervised import save_trained_detector

    repo = tmp_path / "repo"
    model = NprDetectorForImageClassification.from_pretrained(saved_model)
    save_trained_detector(model, NativeCropImageProcessor.from_pretrained(saved_model), str(repo), {"steps": 2},
                          float16=True)
    EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu").save_thresholds(repo)
    weights = (repo / "model.safetensors").read_bytes()
    dataset = str(labelled_crop_splits(tmp_path, per_class=5, splits=("validation",), seed=3))
    load_script("calibrate").main(["--model", str(repo), "--dataset", dataset])
    assert (repo / "model.safetensors").read_bytes() == weights  # still float16, not re-serialised
    recalibrated = NprDetectorForImageClassification.from_pretrained(repo)
    described = f"validation splits of {[dataset]} (5 real, 5 fake)"
    assert recalibrated.config.training == {"steps": 2, "calibration": described}
    assert recalibrated.calibration.to_dict() != model.calibration.to_dict()  # fitted on other images
    stored = json.loads((repo / "thresholds_calibrated.json").read_text())
    assert stored["members"]["npr"] == recalibrated.config.calibration  # the readers' copy follows
    with pytest.raises(ValueError, match="test split"):
        load_script("calibrate").main(["--model", str(repo), "--dataset", dataset, "--split", "test"])


def test_evaluate_wild_scores_validation_first_then_test_and_counts_the_test_looks(
    saved_model: Path, tmp_path: Path
) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(saved_model, repo)
    (repo / "README.md").write_text("# Model\n\n## Reproduce\n\n```bash\nrun\n```\n")
    dataset = str(labelled_crop_splits(tmp_path, per_class=3, splits=("validation", "test"), seed=4))
    script = load_script("evaluate_wild")
    script.main([str(repo), "--wild", dataset, "--validation"])  # a fresh repo: no wild test result yet
    assert json.loads((repo / "results_wild_validation.json").read_text())["n_real"] == 3
    assert "wild test" not in (repo / "README.md").read_text()
    for looks in (1, 2):
        script.main([str(repo), "--wild", dataset])
        assert json.loads((repo / "results_wild_test.json").read_text())["test_looks"] == looks
    card = (repo / "README.md").read_text()
    assert "Wild test has been scored\ntwice" in card and "on wild validation" in card


def test_build_script_scores_each_test_split_once_and_rewrites_the_card_from_the_files(
    saved_model: Path, tmp_path: Path
) -> None:
    from deepfake_detectors.hub import card_metrics

    dataset = str(labelled_crop_splits(tmp_path, per_class=4, splits=("test",), seed=1))
    (tmp_path / "selection.md").write_text("Chosen on held-out wild-train sources.")
    (tmp_path / "weights.sh").write_text("python scripts/train_npr.py --output-dir runs/npr\n")
    options = ["--name", "npr-test", "--hub-dir", str(tmp_path / "hub"), "--selection", str(tmp_path / "selection.md"),
               "--reproduce-script", str(tmp_path / "weights.sh")]
    script = load_script("build_native_crop_repo")
    with pytest.raises(SystemExit):
        script.main(options)  # --model is needed to build the repo
    script.main(["--model", str(saved_model), "--wild", dataset, "--cifake", dataset, "--aiart", str(tmp_path / "none"),
                 *options])
    repo = tmp_path / "hub" / "npr-test"
    summary = json.loads((repo / "results_summary.json").read_text())
    extra = json.loads((repo / "results_extra.json").read_text())
    assert (summary["n_real"], summary["n_fake"]) == (4, 4) and extra["aiart_test"] is None
    assert extra["cifake_test"]["auroc"] == summary["auroc"]  # the same images, scored again
    assert len((repo / "predictions_wild_test.jsonl").read_text().splitlines()) == 8
    assert not (repo / "results.json").exists() and (repo / "thresholds_calibrated.json").is_file()
    assert card_metrics(repo / "README.md")[("wild", "test", "roc_auc")] == round(summary["auroc"], 4)
    card = (repo / "README.md").read_text()
    assert "Chosen on held-out wild-train sources." in card and "neighbouring pixel relationships" in card
    assert summary["test_looks"] == 1 and "each scored once, for this release only" in card
    (repo / "results_summary.json").write_text(json.dumps({**summary, "auroc": 0.5}))
    script.main(["--cards-only", *options])
    assert card_metrics(repo / "README.md")[("wild", "test", "roc_auc")] == 0.5
    # Building the repo again (e.g. the same weights recalibrated) scores the test splits again: counted, and said.
    script.main(["--model", str(saved_model), "--wild", dataset, "--cifake", dataset, "--aiart", str(tmp_path / "none"),
                 *options])
    assert json.loads((repo / "results_summary.json").read_text())["test_looks"] == 2
    script.main(["--cards-only", *options])
    card = (repo / "README.md").read_text()
    assert "have each been scored twice for this repo in all" in card and "for this release only" not in card


def test_batch_norms_are_folded_at_inference_only(monkeypatch) -> None:
    from deepfake_detectors.modeling import base

    model = NprDetectorForImageClassification(NprDetectorConfig(hidden_sizes=[8, 16]))
    model.train()
    crops = torch.rand(4, 2, 3, 32, 32)
    model(crops)  # one training pass: the batch norms' running statistics move away from 0 / 1
    norm = model.stages[0].norm1
    assert not torch.allclose(norm.running_mean, torch.zeros_like(norm.running_mean))
    before = norm.running_mean.clone()
    model.eval()
    with torch.no_grad():
        folded = model(crops).scores
        monkeypatch.setattr(base, "FOLD_BATCH_NORM", False)
        layer_by_layer = model(crops).scores
    assert torch.allclose(folded, layer_by_layer, atol=1e-5) and not torch.equal(folded, torch.zeros_like(folded))
    assert torch.equal(norm.running_mean, before)  # inference leaves the statistics alone
    assert set(model.state_dict()) == set(NprDetectorForImageClassification(model.config).state_dict())
