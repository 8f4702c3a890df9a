"""Tests of score calibration: named thresholds, best-F1 / Platt fitting, normalisation and persistence."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import f1_score

from deepfake_detectors.calibration import (
    DEFAULT_THRESHOLD,
    THRESHOLD_PERCENTILES,
    BrightnessNormalisation,
    ScoreCalibration,
    best_f1_threshold,
    nonnegative_logistic_weights,
    platt_calibration_error,
)


@pytest.fixture(scope="module")
def real_scores() -> np.ndarray:
    return np.random.default_rng(0).normal(loc=2.0, scale=3.0, size=500)


@pytest.fixture(scope="module")
def fake_scores() -> np.ndarray:
    return np.random.default_rng(1).normal(loc=9.0, scale=3.0, size=300)


@pytest.fixture(scope="module")
def with_fakes(real_scores: np.ndarray, fake_scores: np.ndarray) -> ScoreCalibration:
    return ScoreCalibration.fit(real_scores, fake_scores)


@pytest.fixture(scope="module")
def real_only(real_scores: np.ndarray) -> ScoreCalibration:
    return ScoreCalibration.fit(real_scores)


# --------------------------------------------------------------------------------------------------------------
# named thresholds and statistics
# --------------------------------------------------------------------------------------------------------------


def test_named_thresholds_are_real_score_percentiles(real_only: ScoreCalibration, real_scores: np.ndarray) -> None:
    assert THRESHOLD_PERCENTILES == {"strict": 99.0, "balanced": 95.0, "sensitive": 90.0}
    assert DEFAULT_THRESHOLD == "balanced"
    assert real_only.thresholds["strict"] == pytest.approx(np.percentile(real_scores, 99), abs=1e-12)
    assert real_only.thresholds["balanced"] == pytest.approx(np.percentile(real_scores, 95), abs=1e-12)
    assert real_only.thresholds["sensitive"] == pytest.approx(np.percentile(real_scores, 90), abs=1e-12)
    assert real_only.thresholds["strict"] > real_only.thresholds["balanced"] > real_only.thresholds["sensitive"]
    for key in ("50", "90", "95", "99"):
        assert real_only.percentiles[key] == pytest.approx(np.percentile(real_scores, float(key)), abs=1e-12)
    assert real_only.mean == pytest.approx(real_scores.mean())
    assert real_only.std == pytest.approx(real_scores.std())
    assert real_only.n_real == 500
    # about 5% of the real scores lie above the balanced threshold
    assert np.mean(real_scores > real_only.thresholds["balanced"]) == pytest.approx(0.05, abs=0.005)


def test_non_finite_real_scores_are_ignored() -> None:
    calibration = ScoreCalibration.fit([1.0, 2.0, np.nan, 3.0, np.inf, -np.inf])
    assert calibration.n_real == 3
    assert calibration.mean == pytest.approx(2.0)
    assert calibration.thresholds["balanced"] == pytest.approx(np.percentile([1.0, 2.0, 3.0], 95))


def test_constant_real_scores_have_floored_std() -> None:
    calibration = ScoreCalibration.fit([4.0, 4.0, 4.0])
    assert calibration.std > 0
    assert np.isfinite(calibration.standardise(np.array([5.0]))).all()


@pytest.mark.parametrize("scores", [[], [1.0], [1.0, np.nan], [np.inf, np.nan, 2.0]])
def test_fit_needs_two_finite_real_scores(scores: list) -> None:
    with pytest.raises(ValueError, match="two finite"):
        ScoreCalibration.fit(scores)


# --------------------------------------------------------------------------------------------------------------
# best_f1_threshold
# --------------------------------------------------------------------------------------------------------------


def test_best_f1_threshold_hand_made_example() -> None:
    # sorted: 0.8F 0.7F 0.6R 0.5F 0.4F | 0.3R 0.2R 0.1R -> cutting at 0.4 gives TP=4, FP=1, FN=0
    real = np.array([0.1, 0.2, 0.3, 0.6])
    fake = np.array([0.4, 0.5, 0.7, 0.8])
    threshold, f1 = best_f1_threshold(real, fake)
    assert threshold == 0.4
    assert f1 == pytest.approx(8 / 9, abs=1e-12)  # precision 4/5, recall 1


def test_best_f1_threshold_perfect_separation() -> None:
    threshold, f1 = best_f1_threshold(np.array([0.0, 0.1, 0.2]), np.array([0.7, 0.9]))
    assert threshold == 0.7
    assert f1 == 1.0


def test_best_f1_threshold_matches_brute_force_with_ties() -> None:
    rng = np.random.default_rng(5)
    real = np.round(rng.normal(0.0, 1.0, 60), 1)
    fake = np.round(rng.normal(1.0, 1.0, 40), 1)  # rounding creates many tied scores across the classes
    scores = np.concatenate([real, fake])
    labels = np.r_[np.zeros(real.size), np.ones(fake.size)]
    brute = {t: f1_score(labels, scores >= t) for t in np.unique(scores)}

    threshold, f1 = best_f1_threshold(real, fake)
    assert threshold in brute  # a score that exists, so the threshold is realisable
    assert f1 == pytest.approx(brute[threshold], abs=1e-12)  # the reported F1 is the F1 at that threshold
    assert f1 == pytest.approx(max(brute.values()), abs=1e-12)  # and it is the best one


# --------------------------------------------------------------------------------------------------------------
# with and without fakes
# --------------------------------------------------------------------------------------------------------------


def test_fakes_add_optimal_and_platt(
    with_fakes: ScoreCalibration, real_scores: np.ndarray, fake_scores: np.ndarray
) -> None:
    assert "optimal" in with_fakes.thresholds
    assert with_fakes.n_fake == 300
    threshold, f1 = best_f1_threshold(real_scores, fake_scores)
    assert with_fakes.thresholds["optimal"] == threshold
    assert with_fakes.optimal_f1 == f1
    assert with_fakes.optimal_f1 > 0.8
    assert with_fakes.resolve_threshold("optimal") == (threshold, "optimal")
    assert with_fakes.platt is not None and len(with_fakes.platt) == 2
    # the real-score statistics do not depend on the fakes
    real_only = ScoreCalibration.fit(real_scores)
    assert with_fakes.thresholds["balanced"] == real_only.thresholds["balanced"]
    assert with_fakes.mean == real_only.mean


def test_calibration_records_its_error_in_sample_and_cross_fitted(with_fakes: ScoreCalibration) -> None:
    recorded = with_fakes.calibration_error
    assert recorded is not None and recorded["folds"] == 5
    assert 0.0 <= recorded["in_sample"] < 0.1 and 0.0 <= recorded["cross_fitted"] < 0.1
    assert ScoreCalibration.from_dict(json.loads(json.dumps(with_fakes.to_dict()))).calibration_error == recorded
    assert ScoreCalibration.fit(np.arange(10.0)).calibration_error is None  # no fakes, no Platt, no error
    reversed_scores = ScoreCalibration.fit(np.arange(10.0, 20.0), np.arange(10.0))  # fakes score lower
    assert reversed_scores.platt[0] == 0.0 and reversed_scores.calibration_error["in_sample"] == pytest.approx(0.0)


def test_cross_fitted_error_is_small_for_a_logistic_truth_and_exposes_a_shift() -> None:
    rng = np.random.default_rng(3)
    scores = rng.normal(0.0, 2.0, 4000)
    labels = rng.random(4000) < 1.0 / (1.0 + np.exp(-scores))  # P(fake | s) = sigmoid(s): Platt can be exact
    error = platt_calibration_error(scores[~labels], scores[labels])
    assert error["cross_fitted"] < 0.03 and error["in_sample"] < 0.03
    # With a single fake image no fold can be held out and still leave a fake to fit on.
    single = platt_calibration_error(np.array([0.0, 1.0, 2.0]), np.array([3.0]))
    assert single["cross_fitted"] is None and single["folds"] == 0


def test_platt_probability_increases_with_score(with_fakes: ScoreCalibration) -> None:
    scores = np.linspace(-10.0, 20.0, 61)
    probabilities = with_fakes.probability(scores)
    assert probabilities.shape == scores.shape
    assert np.all((probabilities >= 0.0) & (probabilities <= 1.0))
    assert np.all(np.diff(probabilities) > 0)
    assert probabilities[0] < 0.01 and probabilities[-1] > 0.99


def test_platt_is_one_half_at_the_boundary_of_a_symmetric_example() -> None:
    real = np.linspace(-3.0, 1.0, 41)
    fake = -real  # mirror image around 0, overlapping on [-1, 1]
    calibration = ScoreCalibration.fit(real, fake)
    a, b = calibration.platt
    assert a > 0
    assert abs(b) < 1e-3
    assert calibration.probability(np.array([0.0]))[0] == pytest.approx(0.5, abs=1e-3)
    low, high = calibration.probability(np.array([-0.5, 0.5]))
    assert low < 0.5 < high
    assert low + high == pytest.approx(1.0, abs=1e-3)  # symmetric


def test_without_fakes_optimal_is_absent(real_only: ScoreCalibration) -> None:
    assert "optimal" not in real_only.thresholds
    assert real_only.platt is None
    assert real_only.optimal_f1 is None
    assert real_only.n_fake == 0
    with pytest.raises(ValueError) as caught:
        real_only.resolve_threshold("optimal")
    message = str(caught.value)
    assert "optimal" in message
    assert "fake" in message  # says why: no labelled fakes at calibration
    assert "balanced" in message  # and what can be used instead


@pytest.mark.parametrize("fakes", [None, [], [np.nan, np.inf]])
def test_empty_or_non_finite_fakes_count_as_no_fakes(real_scores: np.ndarray, fakes) -> None:
    calibration = ScoreCalibration.fit(real_scores, fakes)
    assert "optimal" not in calibration.thresholds
    assert calibration.platt is None
    assert calibration.n_fake == 0


def test_non_finite_fakes_are_dropped(real_scores: np.ndarray, fake_scores: np.ndarray) -> None:
    calibration = ScoreCalibration.fit(real_scores, np.r_[fake_scores, np.nan, np.inf])
    assert calibration.n_fake == fake_scores.size
    assert calibration.thresholds["optimal"] == best_f1_threshold(real_scores, fake_scores)[0]


def test_fallback_probability_without_platt(real_only: ScoreCalibration) -> None:
    balanced = real_only.thresholds["balanced"]
    p_at, p_above = real_only.probability(np.array([balanced, balanced + real_only.std]))
    assert p_at == pytest.approx(0.5)
    assert p_above / (1 - p_above) == pytest.approx(math.e)  # one real std = a factor e of odds


# --------------------------------------------------------------------------------------------------------------
# resolve_threshold
# --------------------------------------------------------------------------------------------------------------


def test_resolve_named_thresholds(real_only: ScoreCalibration) -> None:
    for name in ("strict", "balanced", "sensitive"):
        assert real_only.resolve_threshold(name) == (real_only.thresholds[name], name)
    assert real_only.resolve_threshold("  Strict ") == (real_only.thresholds["strict"], "strict")


@pytest.mark.parametrize(
    "spec, value",
    [("score:3", 3.0), ("score: -1.5", -1.5), (" SCORE:12 ", 12.0), ("score:-2.5e-1", -0.25)],
)
def test_resolve_score_thresholds_are_manual(real_only: ScoreCalibration, spec, value: float) -> None:
    resolved, name = real_only.resolve_threshold(spec)
    assert name == "manual"
    assert resolved == pytest.approx(value)
    assert isinstance(resolved, float)


@pytest.mark.parametrize("spec", [0.25, "0.7", np.float64(0.3), 0.999])
def test_a_number_is_a_probability_read_on_the_calibrated_scale(
    real_only: ScoreCalibration, with_fakes: ScoreCalibration, spec
) -> None:
    for calibration in (real_only, with_fakes):
        resolved, name = calibration.resolve_threshold(spec)
        assert name == "manual"
        assert calibration.probability(np.array([resolved]))[0] == pytest.approx(float(spec), abs=1e-9)


@pytest.mark.parametrize("spec", [0, 1, 1.5, -0.2, "3", "score:nan", "score:abc"])
def test_numbers_outside_zero_one_are_refused_with_the_score_form_named(real_only: ScoreCalibration, spec) -> None:
    with pytest.raises(ValueError) as caught:
        real_only.resolve_threshold(spec)
    assert "between 0 and 1" in str(caught.value) or "score" in str(caught.value)


def test_shown_probability_is_one_half_at_the_threshold_and_agrees_with_the_verdict(
    with_fakes: ScoreCalibration,
) -> None:
    from deepfake_detectors.calibration import shown_probability

    scores = np.linspace(-5, 5, 101)
    for name, threshold in with_fakes.thresholds.items():
        shown = shown_probability(scores, threshold, with_fakes.slope)
        np.testing.assert_array_equal(shown >= 0.5, scores >= threshold, err_msg=name)
        assert np.all(np.diff(shown) >= 0)
    # at the threshold where the calibrated P(fake) is 50%, the shown probability is the calibrated one
    middle = with_fakes.score_for_probability(0.5)
    np.testing.assert_allclose(shown_probability(scores, middle, with_fakes.slope), with_fakes.probability(scores))


def test_resolve_rejects_unknown_names(real_only: ScoreCalibration) -> None:
    with pytest.raises(ValueError, match="unknown threshold") as caught:
        real_only.resolve_threshold("lenient")
    assert "balanced" in str(caught.value)  # lists what is available


@pytest.mark.parametrize("spec", [float("nan"), float("inf"), "nan", "NaN", "inf", "-inf"])
def test_resolve_rejects_non_finite(real_only: ScoreCalibration, spec) -> None:
    with pytest.raises(ValueError, match="finite"):
        real_only.resolve_threshold(spec)


def test_resolve_rejects_bool(real_only: ScoreCalibration) -> None:
    with pytest.raises(TypeError):
        real_only.resolve_threshold(True)


# --------------------------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------------------------


def test_normalize_maps_mean_to_zero_and_one_std_to_one(with_fakes: ScoreCalibration) -> None:
    mean, std = with_fakes.mean, with_fakes.std
    normalised = with_fakes.standardise(np.array([mean, mean + std, mean - 2 * std]))
    np.testing.assert_allclose(normalised, [0.0, 1.0, -2.0], atol=1e-12)
    assert with_fakes.standardise([mean]).dtype == np.float64  # lists are accepted too


@pytest.mark.parametrize("fixture_name", ["with_fakes", "real_only"])
def test_normalized_keeps_the_same_decisions(
    request: pytest.FixtureRequest, fixture_name: str, real_scores: np.ndarray, fake_scores: np.ndarray
) -> None:
    calibration: ScoreCalibration = request.getfixturevalue(fixture_name)
    normalised = calibration.standardised()
    assert (normalised.mean, normalised.std) == (0.0, 1.0)
    assert normalised.n_real == calibration.n_real and normalised.n_fake == calibration.n_fake
    assert set(normalised.thresholds) == set(calibration.thresholds)

    scores = np.r_[real_scores, fake_scores]
    z = calibration.standardise(scores)
    for name, raw_threshold in calibration.thresholds.items():
        z_threshold = normalised.thresholds[name]
        assert z_threshold == pytest.approx(float(calibration.standardise(raw_threshold)))
        # the same images are flagged (away from floating-point ties at the threshold itself)
        clear = np.abs(scores - raw_threshold) > 1e-9
        np.testing.assert_array_equal((z > z_threshold)[clear], (scores > raw_threshold)[clear])
    for key, value in calibration.percentiles.items():
        assert normalised.percentiles[key] == pytest.approx(float(calibration.standardise(value)))
    # probabilities agree: P(raw score) on the raw scale == P(normalised score) on the normalised scale
    np.testing.assert_allclose(normalised.probability(z), calibration.probability(scores), rtol=1e-9, atol=1e-12)
    # normalising twice changes nothing
    again = normalised.standardised()
    assert again.thresholds == pytest.approx(normalised.thresholds)


# --------------------------------------------------------------------------------------------------------------
# persistence
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture_name", ["with_fakes", "real_only"])
def test_dict_round_trip_through_json(request: pytest.FixtureRequest, fixture_name: str) -> None:
    calibration: ScoreCalibration = request.getfixturevalue(fixture_name)
    text = json.dumps(calibration.to_dict())
    restored = ScoreCalibration.from_dict(json.loads(text))
    assert restored == calibration
    assert restored.resolve_threshold("balanced") == calibration.resolve_threshold("balanced")
    scores = np.linspace(-5, 15, 11)
    np.testing.assert_array_equal(restored.probability(scores), calibration.probability(scores))


def test_from_dict_ignores_unknown_keys(with_fakes: ScoreCalibration) -> None:
    data = with_fakes.to_dict()
    data["added_in_a_later_version"] = {"x": 1}
    assert ScoreCalibration.from_dict(data) == with_fakes


def test_nonnegative_weights_match_sklearn_when_no_constraint_binds() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    labels = np.r_[np.zeros(300), np.ones(300)]
    scores = np.c_[labels + rng.normal(size=600), 0.5 * labels + rng.normal(size=600)]
    expected = LogisticRegression(C=0.1, max_iter=2000).fit(scores, labels).coef_[0]
    assert (expected > 0).all()
    np.testing.assert_allclose(nonnegative_logistic_weights(scores, labels, C=0.1), expected, rtol=1e-3, atol=1e-4)


def test_nonnegative_weights_refit_the_others_instead_of_clipping() -> None:
    from sklearn.linear_model import LogisticRegression

    # Two noisy copies of one signal and a member that scores fakes lower: the unconstrained fit gives the third
    # a negative weight and leans on it; the constrained fit sets it to 0 and re-fits the other two.
    rng = np.random.default_rng(2)
    labels = np.r_[np.zeros(400), np.ones(400)]
    signal = labels + rng.normal(size=800)
    scores = np.c_[signal + 0.3 * rng.normal(size=800), signal + 0.3 * rng.normal(size=800), signal - 2 * labels]
    unconstrained = LogisticRegression(C=0.1, max_iter=2000).fit(scores, labels).coef_[0]
    assert unconstrained[2] < 0
    weights = nonnegative_logistic_weights(scores, labels, C=0.1)
    assert weights[2] == 0.0 and (weights[:2] > 0).all()
    refit = LogisticRegression(C=0.1, max_iter=2000).fit(scores[:, :2], labels).coef_[0]
    np.testing.assert_allclose(weights[:2], refit, rtol=1e-3, atol=1e-4)
    assert not np.allclose(weights[:2], unconstrained[:2], rtol=0.05)


@pytest.mark.parametrize(
    "scores, labels, C",
    [
        (np.zeros((4, 2)), np.zeros(4), 0.1),  # one class only
        (np.zeros((4, 2)), np.r_[0, 0, 1, 1], 0.0),  # C must be positive
        (np.zeros(4), np.r_[0, 0, 1, 1], 1.0),  # scores must be [n, members]
    ],
)
def test_nonnegative_weights_reject_bad_input(scores: np.ndarray, labels: np.ndarray, C: float) -> None:
    with pytest.raises(ValueError):
        nonnegative_logistic_weights(scores, labels, C=C)


def test_brightness_normalisation_removes_the_real_score_trend_and_spread() -> None:
    rng = np.random.default_rng(3)
    brightness = rng.uniform(0.05, 0.95, size=4000)
    # Real scores higher and more spread for dark and bright images (a U shape), as clipped photos behave.
    level, spread = 6 * (brightness - 0.5) ** 2, 0.5 + 2 * np.abs(brightness - 0.5)
    real = level + spread * rng.normal(size=4000)
    normalisation = BrightnessNormalisation.fit(real, brightness)
    normalised = normalisation.apply(real, brightness)
    for low, high in [(0.05, 0.2), (0.4, 0.6), (0.8, 0.95)]:
        inside = (brightness >= low) & (brightness < high)
        assert abs(normalised[inside].mean()) < 0.15
        assert 0.8 < normalised[inside].std() < 1.25
    # A raised score counts for more at mid brightness, where real scores are low and tight.
    at_mid, at_bright = normalisation.apply(np.array([2.0, 2.0]), np.array([0.5, 0.9]))
    assert at_mid > at_bright
    again = BrightnessNormalisation.from_dict(json.loads(json.dumps(normalisation.to_dict())))
    np.testing.assert_array_equal(again.apply(real, brightness), normalised)


def test_brightness_normalisation_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="brightness values"):
        BrightnessNormalisation.fit(np.zeros(20), np.zeros(19))
    with pytest.raises(ValueError, match="at least"):
        BrightnessNormalisation.fit(np.zeros(5), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="finite"):
        BrightnessNormalisation.from_dict({"mean_coefficients": [float("nan")], "log_scale_coefficients": [0.0]})


def test_scores_that_fall_with_fakeness_get_the_share_of_fakes_as_probability() -> None:
    """Where higher scores are no more likely fake, the Platt slope is held at 0: P(fake) is the share of fakes
    whatever the score (the best non-decreasing scaling), and its calibration error is measured like Platt's."""
    rng = np.random.default_rng(0)
    real, fake = rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 200)  # fakes score lower
    calibration = ScoreCalibration.fit(real, fake)
    assert calibration.platt[0] == 0.0
    probabilities = calibration.probability(np.array([-3.0, 0.0, 5.0]))
    np.testing.assert_allclose(probabilities, 200 / 500)
    assert calibration.calibration_error["in_sample"] == pytest.approx(0.0, abs=1e-12)
    assert 0.0 <= calibration.calibration_error["cross_fitted"] < 0.05
    assert calibration.slope == pytest.approx(1.0 / calibration.std)  # the shown probability still rises
    # A calibration saved with a negative slope (before slopes were held at 0) keeps its fallback.
    saved = ScoreCalibration.from_dict({**calibration.to_dict(), "platt": [-0.5, 0.1]})
    assert saved.probability(np.array([saved.thresholds["balanced"]]))[0] == pytest.approx(0.5)
