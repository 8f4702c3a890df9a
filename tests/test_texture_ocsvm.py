"""TextureOCSVMConfig / TextureOCSVMModel (scikit-learn OneClassSVM on texture features)."""

from __future__ import annotations

import pytest

from deepfake_detectors import TextureOCSVMConfig, TextureOCSVMModel

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
def fitted(images) -> TextureOCSVMModel:
    return fit_on_train(TextureOCSVMModel(TextureOCSVMConfig()), images)


def test_config_defaults_feature_dim_and_validation() -> None:
    check_config_defaults(
        TextureOCSVMConfig,
        ["lbp_histogram", "glcm_stats", "highpass_stats", "jpeg_dct_stats"],
        264,
        defaults=dict(nu=0.03, kernel="rbf", gamma="scale"),
        accepted=[dict(gamma=0.5)],
        invalid=[dict(nu=0.0), dict(nu=1.5), dict(kernel="cosine"), dict(gamma="wide"), dict(gamma=-1.0)],
    )


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    check_sklearn_fit_scores(fitted, images)


def test_unfitted_model_refuses_to_score_or_save(tmp_path) -> None:
    check_unfitted_model_refuses_to_score_or_save(TextureOCSVMModel, TextureOCSVMConfig, tmp_path)


def test_save_and_load_give_identical_scores(fitted, saved, images) -> None:
    check_sklearn_save_and_load(TextureOCSVMModel, fitted, saved, images)


def test_config_json_round_trip(saved, fitted) -> None:
    keys = ("feature_names", "feature_dim", "nu", "kernel", "gamma", "sklearn_version", "image_size")
    check_config_json_round_trip(TextureOCSVMConfig, saved, fitted, keys)


def test_sklearn_version_mismatch_warns(saved, tmp_path) -> None:
    check_sklearn_version_mismatch_warns(saved, tmp_path)


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    check_shared_feature_cache(fitted, images)
