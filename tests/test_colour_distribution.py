"""ColourDistributionConfig / ColourDistributionModel (Mahalanobis distance on colour features)."""

from __future__ import annotations

import pytest

from deepfake_detectors import ColourDistributionConfig, ColourDistributionModel

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
def fitted(images) -> ColourDistributionModel:
    return fit_on_train(ColourDistributionModel(ColourDistributionConfig()), images)


def test_config_defaults_feature_dim_and_validation() -> None:
    check_mahalanobis_config(ColourDistributionConfig, ["colour_histogram", "colour_moments"], 47)


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    check_mahalanobis_fit_scores(fitted, images)


def test_score_is_squared_mahalanobis_distance(fitted, images) -> None:
    check_score_is_squared_mahalanobis_distance(fitted, images)


def test_fit_rejects_bad_features(fitted) -> None:
    check_fit_rejects_bad_features(ColourDistributionModel, ColourDistributionConfig)


def test_save_and_load_give_identical_scores_from_buffers_only(fitted, saved, images) -> None:
    check_buffer_only_save_and_load(ColourDistributionModel, fitted, saved, images)


def test_config_json_round_trip(saved, fitted) -> None:
    check_config_json_round_trip(ColourDistributionConfig, saved, fitted, ("feature_names", "feature_dim", "image_size", "id2label"))


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    check_mahalanobis_feature_cache(fitted, images)
