"""StatisticalConfig / StatisticalModel (Mahalanobis distance on multi-scale edge, residual and colour statistics)."""

from __future__ import annotations

import pytest

from deepfake_detectors import StatisticalConfig, StatisticalModel

# Registered before the import so that pytest rewrites the helper's asserts (detailed failure messages).
pytest.register_assert_rewrite("feature_member_checks")

from feature_member_checks import (  # noqa: E402
    check_buffer_only_save_and_load,
    check_config_json_round_trip,
    check_fit_rejects_bad_features,
    check_mahalanobis_config,
    check_mahalanobis_feature_cache,
    check_mahalanobis_fit_scores,
    check_score_is_squared_mahalanobis_distance,
    fit_on_train,
    images,  # noqa: F401 - fixture
    saved,  # noqa: F401 - fixture
)


@pytest.fixture(scope="module")
def fitted(images) -> StatisticalModel:
    return fit_on_train(StatisticalModel(StatisticalConfig()), images)


def test_config_defaults_feature_dim_and_validation() -> None:
    check_mahalanobis_config(StatisticalConfig, ["sobel_stats", "highpass_stats", "colour_moments"], 83)


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    check_mahalanobis_fit_scores(fitted, images)


def test_score_is_squared_mahalanobis_distance(fitted, images) -> None:
    check_score_is_squared_mahalanobis_distance(fitted, images)


def test_fit_rejects_bad_features(fitted) -> None:
    check_fit_rejects_bad_features(StatisticalModel, StatisticalConfig)


def test_save_and_load_give_identical_scores_from_buffers_only(fitted, saved, images) -> None:
    check_buffer_only_save_and_load(StatisticalModel, fitted, saved, images)


def test_config_json_round_trip(saved, fitted) -> None:
    check_config_json_round_trip(StatisticalConfig, saved, fitted, ("feature_names", "feature_dim", "image_size", "id2label"))


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    check_mahalanobis_feature_cache(fitted, images)
