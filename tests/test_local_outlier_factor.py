"""LocalOutlierFactorConfig / LocalOutlierFactorModel (scikit-learn LOF in novelty mode on patch features)."""

from __future__ import annotations

import pytest
import torch

from deepfake_detectors import LocalOutlierFactorConfig, LocalOutlierFactorModel

# Registered before the import so that pytest rewrites the helper's asserts (detailed failure messages).
pytest.register_assert_rewrite("feature_member_checks")

from feature_member_checks import (  # noqa: E402
    check_config_defaults,
    check_config_json_round_trip,
    check_shared_feature_cache,
    check_sklearn_fit_scores,
    check_sklearn_save_and_load,
    check_sklearn_version_mismatch_warns,
    check_unfitted_model_refuses_to_score_or_save,
    fit_on_train,
    images,  # noqa: F401 - fixture
    saved,  # noqa: F401 - fixture
)


@pytest.fixture(scope="module")
def fitted(images) -> LocalOutlierFactorModel:
    return fit_on_train(LocalOutlierFactorModel(LocalOutlierFactorConfig()), images)


def test_config_defaults_feature_dim_and_validation() -> None:
    check_config_defaults(
        LocalOutlierFactorConfig,
        ["patch_stats", "jpeg_dct_stats", "jpeg_block_profile"],
        270,
        defaults=dict(n_neighbors=20, novelty=True, max_fit_samples=20000, projection_dim=48),
        invalid=[dict(n_neighbors=0), dict(novelty=False), dict(max_fit_samples=20), dict(projection_dim=0)],
    )


def test_score_is_the_local_outlier_factor(fitted, images) -> None:
    # -score_samples of LOF is the local outlier factor: about 1 for inliers, larger for outliers.
    assert fitted.score(images["held_out"]).median() < 2.0
    assert (fitted.score(images["noise"]) > 1.0).all()


def test_keeps_a_seeded_float32_subset_of_at_most_max_fit_samples(fitted, images) -> None:
    features = fitted.features(images["train"])
    small = LocalOutlierFactorModel(LocalOutlierFactorConfig(n_neighbors=5, max_fit_samples=12)).fit(features)
    kept = small.estimator._fit_X
    assert kept.shape == (12, 48) and kept.dtype.name == "float32"
    again = LocalOutlierFactorModel(LocalOutlierFactorConfig(n_neighbors=5, max_fit_samples=12)).fit(features)
    assert (again.estimator._fit_X == kept).all()  # the subset is drawn from random_state
    assert fitted.estimator._fit_X.shape[0] == features.shape[0]  # fewer images than the limit: all are kept


def test_neighbours_are_searched_on_the_leading_principal_components(fitted, images) -> None:
    features = fitted.features(images["train"])
    standardised = fitted.standardise(features)
    projection = fitted.projection
    assert tuple(projection.shape) == (270, 48)
    rank = min(48, features.shape[0])
    gram = projection.T @ projection
    assert torch.allclose(gram[:rank, :rank], torch.eye(rank, dtype=gram.dtype), atol=1e-8)  # orthonormal axes
    # The first axis is the direction of largest variance of the real features.
    variances = (standardised @ projection).var(0)
    assert variances[0] >= variances[1:rank].max() - 1e-9
    assert variances[0] > standardised.var(0).max()
    # The stored vectors are the projected features, and projection_dim=None keeps every feature.
    assert torch.allclose(torch.from_numpy(fitted.estimator._fit_X).double(), (standardised @ projection), atol=1e-4)
    plain = LocalOutlierFactorModel(LocalOutlierFactorConfig(n_neighbors=5, projection_dim=None)).fit(features)
    assert plain.estimator._fit_X.shape == (features.shape[0], 270) and not hasattr(plain, "projection")


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    check_sklearn_fit_scores(fitted, images)


def test_unfitted_model_refuses_to_score_or_save(tmp_path) -> None:
    check_unfitted_model_refuses_to_score_or_save(LocalOutlierFactorModel, LocalOutlierFactorConfig, tmp_path)


def test_save_and_load_give_identical_scores(fitted, saved, images) -> None:
    check_sklearn_save_and_load(LocalOutlierFactorModel, fitted, saved, images)


def test_config_json_round_trip(saved, fitted) -> None:
    keys = ("feature_names", "feature_dim", "n_neighbors", "novelty", "sklearn_version", "image_size")
    check_config_json_round_trip(LocalOutlierFactorConfig, saved, fitted, keys)


def test_sklearn_version_mismatch_warns(saved, tmp_path) -> None:
    check_sklearn_version_mismatch_warns(saved, tmp_path)


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    check_shared_feature_cache(fitted, images)
