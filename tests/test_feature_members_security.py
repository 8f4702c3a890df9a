"""Safe persistence of the scikit-learn members: only the estimator types our members write can be loaded."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import skops.io
import torch
from transformers import AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import (
    GaussianMixtureConfig,
    GaussianMixtureModel,
    IsolationForestConfig,
    IsolationForestModel,
    LocalOutlierFactorConfig,
    LocalOutlierFactorModel,
    TextureOCSVMConfig,
    TextureOCSVMModel,
)
from deepfake_detectors.modeling.feature_base import (
    PLAIN_SKOPS_TYPES,
    TRUSTED_SKOPS_TYPES,
    load_trusted_estimator,
    skops_file_types,
)

SKLEARN_MEMBERS = [
    (TextureOCSVMConfig, TextureOCSVMModel),
    (IsolationForestConfig, IsolationForestModel),
    (LocalOutlierFactorConfig, LocalOutlierFactorModel),
    (GaussianMixtureConfig, GaussianMixtureModel),
]


class ScoreTable(collections.OrderedDict):
    """A harmless-looking container type that is not on the trusted list."""


def fitted_member(config_class, model_class, **overrides):
    """A member fitted directly on random features (no images needed to test persistence)."""
    config = config_class(**overrides)
    return model_class(config).fit(torch.randn(30, config.feature_dim, generator=torch.Generator().manual_seed(0)))


def test_trusted_list_is_exactly_what_the_members_write(tmp_path) -> None:
    found = set()
    for config_class, model_class in SKLEARN_MEMBERS:
        overrides = {"n_estimators": 5} if config_class is IsolationForestConfig else {}
        if config_class is GaussianMixtureConfig:
            overrides = {"n_components": 2}
        path = tmp_path / f"{config_class.model_type}.skops"
        skops.io.dump(fitted_member(config_class, model_class, **overrides).estimator, path)
        assert set(skops.io.get_untrusted_types(file=path)) <= set(TRUSTED_SKOPS_TYPES)
        types = skops_file_types(path)
        assert types <= set(TRUSTED_SKOPS_TYPES) | set(PLAIN_SKOPS_TYPES)
        found |= types
        assert type(load_trusted_estimator(path)).__name__ in {name.rsplit(".", 1)[1] for name in types}
    assert found >= set(TRUSTED_SKOPS_TYPES), "unused entries in TRUSTED_SKOPS_TYPES"


def test_repo_with_a_pipeline_estimator_is_refused(tmp_path) -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    member = fitted_member(TextureOCSVMConfig, TextureOCSVMModel)
    member.save_pretrained(tmp_path)
    features = np.random.default_rng(0).normal(size=(20, member.config.feature_dim))
    pipeline = Pipeline([("scale", StandardScaler()), ("svm", OneClassSVM())]).fit(features)
    skops.io.dump(pipeline, tmp_path / "estimator.skops")  # skops itself trusts Pipeline by default; we do not
    with pytest.raises(ValueError, match=r"sklearn\.pipeline\.Pipeline"):
        AutoModel.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "obj, type_name",
    [
        (ScoreTable(a=1.0), "ScoreTable"),
        (collections.Counter(a=1), "collections.Counter"),
        ({"estimator": np.arange(3), "step": slice(0, 2)}, "builtins.slice"),
    ],
)
def test_untrusted_types_are_refused_by_name(tmp_path, obj, type_name) -> None:
    path = tmp_path / "estimator.skops"
    skops.io.dump(obj, path)
    with pytest.raises(ValueError, match=type_name):
        load_trusted_estimator(path)


def test_a_file_that_is_not_skops_is_refused(tmp_path) -> None:
    path = tmp_path / "estimator.skops"
    path.write_bytes(b"\x80\x04definitely a pickle")
    with pytest.raises(ValueError, match="not a valid .skops"):
        load_trusted_estimator(path)
