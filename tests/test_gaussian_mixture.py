"""GaussianMixtureConfig / GaussianMixtureModel (scikit-learn GaussianMixture on colour features)."""

from __future__ import annotations

import numpy as np
import pytest

from deepfake_detectors import GaussianMixtureConfig, GaussianMixtureModel

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
def fitted(images) -> GaussianMixtureModel:
    return fit_on_train(GaussianMixtureModel(GaussianMixtureConfig()), images)


def test_config_defaults_feature_dim_and_validation() -> None:
    check_config_defaults(
        GaussianMixtureConfig,
        ["colour_histogram", "colour_moments"],
        47,
        defaults=dict(n_components=10, covariance_type="full", reg_covar=1e-3),
        invalid=[dict(n_components=0), dict(covariance_type="dense"), dict(reg_covar=-1.0), dict(max_iter=0)],
    )


def test_score_is_negative_log_likelihood(fitted, images) -> None:
    standardised = fitted.standardise(fitted.features(images["noise"])).numpy()
    expected = -fitted.estimator.score_samples(standardised)
    assert np.allclose(fitted.score(images["noise"]).numpy(), expected, rtol=1e-5)


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    check_sklearn_fit_scores(fitted, images)


def test_unfitted_model_refuses_to_score_or_save(tmp_path) -> None:
    check_unfitted_model_refuses_to_score_or_save(GaussianMixtureModel, GaussianMixtureConfig, tmp_path)


def test_save_and_load_give_identical_scores(fitted, saved, images) -> None:
    check_sklearn_save_and_load(GaussianMixtureModel, fitted, saved, images)


def test_config_json_round_trip(saved, fitted) -> None:
    keys = ("feature_names", "feature_dim", "n_components", "covariance_type", "reg_covar", "sklearn_version")
    check_config_json_round_trip(GaussianMixtureConfig, saved, fitted, keys)


def test_sklearn_version_mismatch_warns(saved, tmp_path) -> None:
    check_sklearn_version_mismatch_warns(saved, tmp_path)


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    check_shared_feature_cache(fitted, images)


def test_a_mixture_with_inconsistent_shapes_is_refused(fitted) -> None:
    """A tampered file whose means no longer match the precisions is a clear load error naming the file."""
    import copy

    from deepfake_detectors.modeling.feature_base import check_estimator_structure

    estimator = copy.deepcopy(fitted.estimator)
    check_estimator_structure(estimator, "estimator.skops")  # the fitted one passes
    estimator.means_ = estimator.means_[:, :-1]
    with pytest.raises(ValueError, match="estimator.skops.*disagree in shape"):
        check_estimator_structure(estimator, "estimator.skops")
