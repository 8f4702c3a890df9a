"""Score calibration: statistics of a detector's scores on held-out real images, and named thresholds.

Calibration is data, not code. A :class:`ScoreCalibration` is fitted once on real validation scores (and, when
labelled fakes are available, on those too for the ``optimal`` threshold and a Platt-scaled probability), then
stored as plain JSON: in a member's ``config.json`` (``calibration`` key) or in the ensemble's
``thresholds_calibrated.json``.

Named thresholds (on the detector's own score scale, higher = more likely fake):

- ``strict``: 99th percentile of real scores (about 1% false alarms),
- ``balanced``: 95th percentile (about 5% false alarms; the default),
- ``sensitive``: 90th percentile (about 10% false alarms),
- ``optimal``: the threshold with the best F1 on labelled validation data (only when fakes were given).

A number is read as a probability of "fake" between 0 and 1 (``0.8`` flags images with P(fake) >= 80%); a cut on
the score scale itself is written ``"score:2.5"``.

**The probability shown with a verdict** is one mapping of score and threshold, used by every entry point (Python,
CLI, pipeline view, Space)::

    shown P(fake) = sigmoid(slope * (score - threshold))

where ``slope`` is the Platt slope fitted on labelled validation scores (``1 / std`` of the real scores when no
fakes were available). It is 50% exactly at the threshold, so the verdict (``score >= threshold``) and the shown
probability never disagree; it equals the calibrated P(fake) when the threshold is the score at which P(fake) is
50%. The threshold-free calibrated P(fake) is kept beside it (``calibrated_probability``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np

#: Percentile of real validation scores behind each named threshold.
THRESHOLD_PERCENTILES = {"strict": 99.0, "balanced": 95.0, "sensitive": 90.0}
DEFAULT_THRESHOLD = "balanced"
ThresholdSpec = Union[str, float, int]
#: Prefix of a threshold given on the score scale, e.g. ``"score:2.5"``.
SCORE_PREFIX = "score:"


def parse_number_threshold(threshold: ThresholdSpec) -> Optional[tuple[float, str]]:
    """``(value, "probability" | "score")`` for a number or a ``"score:..."`` string, ``None`` for a name.

    Raises:
        ValueError: for a probability outside (0, 1), or a non-finite number.
    """
    if isinstance(threshold, bool):
        raise TypeError("threshold must be a name or a number, not a bool")
    text = str(threshold).strip().lower()
    scale = "probability"
    if text.startswith(SCORE_PREFIX):
        text, scale = text[len(SCORE_PREFIX):].strip(), "score"
    try:
        value = float(text)
    except ValueError:
        if scale == "score":
            raise ValueError(f"threshold {threshold!r}: expected a number after {SCORE_PREFIX!r}") from None
        return None
    if not math.isfinite(value):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    if scale == "probability" and not 0.0 < value < 1.0:
        raise ValueError(
            f"a numeric threshold is a probability of fake strictly between 0 and 1, got {threshold!r}; "
            f"write '{SCORE_PREFIX}{value:g}' for a cut on the score scale"
        )
    return value, scale


def logit(probability: float) -> float:
    """``log(p / (1 - p))``."""
    return math.log(probability) - math.log1p(-probability)


def shown_probability(scores: np.ndarray, threshold: float, slope: float) -> np.ndarray:
    """The P(fake) shown with a verdict: ``sigmoid(slope * (score - threshold))``; 50% exactly at the threshold.

    Args:
        scores: scores on the detector's scale (NaN stays NaN).
        threshold: the threshold in use, same scale.
        slope: the Platt slope (or ``1 / std`` of real scores); must be positive.

    Example:
        >>> shown_probability(np.array([1.0, 2.0, 3.0]), threshold=2.0, slope=1.0).round(3).tolist()
        [0.269, 0.5, 0.731]
    """
    logits = slope * (np.asarray(scores, dtype=np.float64) - threshold)
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))


def best_f1_threshold(real_scores: np.ndarray, fake_scores: np.ndarray) -> tuple[float, float]:
    """Return ``(threshold, f1)`` maximising F1 for "fake" = score >= threshold.

    Args:
        real_scores: scores of real images (label 0).
        fake_scores: scores of fake images (label 1).

    Example:
        >>> best_f1_threshold(np.array([0.0, 0.1]), np.array([0.9, 1.0]))[1]
        1.0
    """
    scores = np.concatenate([real_scores, fake_scores]).astype(np.float64)
    labels = np.concatenate([np.zeros(len(real_scores)), np.ones(len(fake_scores))])
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    true_positives = np.cumsum(labels)
    predicted_positives = np.arange(1, len(scores) + 1)
    # Only cut between distinct scores, so every threshold is realisable.
    last_of_run = np.r_[scores[1:] != scores[:-1], True]
    precision = true_positives / predicted_positives
    recall = true_positives / max(len(fake_scores), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    f1 = np.where(last_of_run, f1, -1.0)
    best = int(np.argmax(f1))
    return float(scores[best]), float(f1[best])


def nonnegative_logistic_weights(scores: np.ndarray, labels: np.ndarray, C: float = 0.1) -> np.ndarray:
    """Voting weights of ensemble members: an L2-penalised logistic regression fitted with every coefficient >= 0.

    The fit is constrained (L-BFGS-B with bounds), not an unconstrained fit with its negative coefficients clipped
    afterwards: clipping leaves the other weights tuned to compensate for members that were then removed. The
    objective is scikit-learn's, ``0.5 * |w|^2 + C * sum(log-loss)``, with a free intercept.

    Args:
        scores: ``[n, members]`` member scores on labelled validation images (comparable scales, e.g. in standard
            deviations of the real scores).
        labels: ``[n]`` 1 for fake, 0 for real.
        C: inverse penalty strength, as in :class:`sklearn.linear_model.LogisticRegression`.

    Returns:
        ``[members]`` non-negative coefficients (not normalised); 0 = the member adds no evidence beyond the others.

    Example:
        >>> rng = np.random.default_rng(0); labels = np.r_[np.zeros(200), np.ones(200)]
        >>> useful = labels + rng.normal(size=400); anti = -labels + rng.normal(size=400)
        >>> weights = nonnegative_logistic_weights(np.c_[useful, anti], labels)
        >>> bool(weights[0] > 0.5), float(weights[1])
        (True, 0.0)
    """
    from scipy.optimize import minimize

    features = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(labels, dtype=np.float64).ravel()
    if features.ndim != 2 or features.shape[0] != targets.shape[0]:
        raise ValueError(f"expected scores [n, members] and labels [n], got {features.shape} and {targets.shape}")
    if not set(np.unique(targets)) == {0.0, 1.0}:
        raise ValueError("labels must contain both classes, as 0 (real) and 1 (fake)")
    if not C > 0:
        raise ValueError(f"C must be positive, got {C}")
    members = features.shape[1]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights, intercept = theta[:members], theta[members]
        logits = features @ weights + intercept
        loss = np.logaddexp(0.0, logits).sum() - targets @ logits
        residual = 1.0 / (1.0 + np.exp(-logits)) - targets
        value = 0.5 * weights @ weights + C * loss
        gradient = np.r_[weights + C * (features.T @ residual), C * residual.sum()]
        return float(value), gradient

    bounds = [(0.0, None)] * members + [(None, None)]
    result = minimize(objective, np.zeros(members + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    if not result.success:
        raise RuntimeError(f"the non-negative logistic fit did not converge: {result.message}")
    return result.x[:members]  # L-BFGS-B keeps every iterate within the bounds


#: ``-E[log |Z|]`` for a standard normal Z: turns a fitted mean of ``log |residual|`` into a log standard deviation.
_LOG_ABS_NORMAL_OFFSET = 0.5 * (0.5772156649015329 + math.log(2.0))


@dataclass
class BrightnessNormalisation:
    """A score expressed relative to real images of the same brightness: ``(s - m(b)) / sd(b)``.

    Real photos that are very dark or very bright (clipped to black or white, flat regions) look unusual to
    one-class detectors whatever their origin, so the level and the spread of real scores depend on the image's
    mean luma ``b``. ``m`` and ``log sd`` are polynomials in ``b`` fitted by least squares on the scores of real
    validation images only (``log sd`` on ``log |s - m(b)|``), so no fake label is used and, on real images, the
    normalised score no longer depends on brightness.

    Args:
        mean_coefficients: coefficients of ``m``, constant first (``[c0, c1, c2]`` = ``c0 + c1 b + c2 b^2``).
        log_scale_coefficients: coefficients of ``log sd``, likewise.
        n_real: how many real images it was fitted on.

    Example:
        >>> brightness = np.linspace(0.0, 1.0, 2000); rng = np.random.default_rng(0)
        >>> real = 4 * (brightness - 0.5) ** 2 + 0.1 * (0.5 + brightness) * rng.normal(size=2000)
        >>> normalisation = BrightnessNormalisation.fit(real, brightness)
        >>> [round(value, 1) for value in normalisation.mean_coefficients]
        [1.0, -4.0, 4.0]
    """

    mean_coefficients: list[float]
    log_scale_coefficients: list[float]
    n_real: int = 0

    @staticmethod
    def _design(brightness: np.ndarray, degree: int) -> np.ndarray:
        return np.vander(np.asarray(brightness, dtype=np.float64).ravel(), degree + 1, increasing=True)

    @classmethod
    def fit(cls, real_scores: np.ndarray, real_brightness: np.ndarray, degree: int = 2) -> "BrightnessNormalisation":
        """Fit ``m`` and ``log sd`` (polynomials of ``degree``) on real validation scores and their mean luma.

        Raises:
            ValueError: for mismatched lengths, or too few usable real images for the polynomials.
        """
        scores = np.asarray(real_scores, dtype=np.float64).ravel()
        brightness = np.asarray(real_brightness, dtype=np.float64).ravel()
        if scores.shape != brightness.shape:
            raise ValueError(f"{scores.size} scores but {brightness.size} brightness values")
        keep = np.isfinite(scores) & np.isfinite(brightness)
        if keep.sum() < 3 * (degree + 1):
            raise ValueError(f"fitting a degree-{degree} brightness normalisation needs at least {3 * (degree + 1)} "
                             f"usable real scores, got {int(keep.sum())}")
        design = cls._design(brightness[keep], degree)
        mean = np.linalg.lstsq(design, scores[keep], rcond=None)[0]
        residual = np.abs(scores[keep] - design @ mean)
        log_scale = np.linalg.lstsq(design, np.log(residual + 1e-12), rcond=None)[0]
        log_scale[0] += _LOG_ABS_NORMAL_OFFSET
        return cls([float(v) for v in mean], [float(v) for v in log_scale], int(keep.sum()))

    def apply(self, scores: np.ndarray, brightness: np.ndarray) -> np.ndarray:
        """Normalised scores: ``(scores - m(brightness)) / sd(brightness)``."""
        mean = self._design(brightness, len(self.mean_coefficients) - 1) @ np.asarray(self.mean_coefficients)
        log_scale = self._design(brightness, len(self.log_scale_coefficients) - 1) @ np.asarray(
            self.log_scale_coefficients
        )
        return (np.asarray(scores, dtype=np.float64) - mean) / np.exp(log_scale)

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (stored as ``brightness_normalisation`` in an ensemble's ``config.json``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "BrightnessNormalisation":
        """Inverse of :meth:`to_dict`."""
        normalisation = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        values = normalisation.mean_coefficients + normalisation.log_scale_coefficients
        if not normalisation.mean_coefficients or not normalisation.log_scale_coefficients:
            raise ValueError("a brightness normalisation needs mean and log-scale coefficients")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"brightness normalisation coefficients must be finite, got {values}")
        return normalisation


def _platt_regression(constant: bool = False) -> Any:
    """The logistic regression behind Platt scaling (almost unregularised: two parameters, hundreds of scores), or,
    with ``constant``, the class prior (the scaling whose slope is held at 0)."""
    if constant:
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="prior")
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1e4)


def _labelled(real_scores: np.ndarray, fake_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores as an ``[n, 1]`` feature matrix and their labels (real = 0, fake = 1)."""
    scores = np.concatenate([real_scores, fake_scores]).astype(np.float64).reshape(-1, 1)
    labels = np.concatenate([np.zeros(len(real_scores), dtype=np.int64), np.ones(len(fake_scores), dtype=np.int64)])
    return scores, labels


def fit_platt(real_scores: np.ndarray, fake_scores: np.ndarray) -> tuple[float, float]:
    """Fit ``P(fake | s) = sigmoid(a * s + b)`` by logistic regression on labelled validation scores."""
    model = _platt_regression().fit(*_labelled(real_scores, fake_scores))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


#: Folds of the cross-fitted calibration error (:func:`platt_calibration_error`).
CALIBRATION_ERROR_FOLDS = 5


def platt_calibration_error(
    real_scores: np.ndarray,
    fake_scores: np.ndarray,
    folds: int = CALIBRATION_ERROR_FOLDS,
    seed: int = 0,
    constant: bool = False,
) -> dict[str, float]:
    """Expected calibration error of Platt-scaled P(fake) on the scores it is fitted on, in-sample and cross-fitted.

    The in-sample figure flatters (the scaling saw those images); the cross-fitted one fits the scaling on
    ``folds - 1`` stratified folds and measures it on the fold left out, so every image is scored by a scaling that
    never saw it. Both use 15 equal-width confidence bins (:func:`~deepfake_detectors.evaluation.metrics.
    expected_calibration_error`).

    Args:
        real_scores: scores of real validation images.
        fake_scores: scores of labelled fake validation images.
        folds: number of stratified folds (fewer when a class has fewer images).
        seed: seed of the fold assignment.
        constant: measure the slope-0 scaling instead (P(fake) = the share of fakes, whatever the score).

    Returns:
        ``{"in_sample": ..., "cross_fitted": ..., "folds": ...}``; ``cross_fitted`` is ``None`` when a class has
        fewer than two images.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> error = platt_calibration_error(rng.normal(0, 1, 500), rng.normal(2, 1, 500))
        >>> error["cross_fitted"] < 0.05
        True
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from .evaluation.metrics import expected_calibration_error

    scores, labels = _labelled(np.asarray(real_scores), np.asarray(fake_scores))
    in_sample = _platt_regression(constant).fit(scores, labels).predict_proba(scores)[:, 1]
    result: dict = {"in_sample": expected_calibration_error(labels, in_sample)}
    folds = min(int(folds), len(real_scores), len(fake_scores))
    if folds < 2:
        return {**result, "cross_fitted": None, "folds": 0}
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed)
    held_out = cross_val_predict(_platt_regression(constant), scores, labels, cv=splits, method="predict_proba")[:, 1]
    return {**result, "cross_fitted": expected_calibration_error(labels, held_out), "folds": folds}


@dataclass
class ScoreCalibration:
    """Real-score statistics and named thresholds of one detector (or of an ensemble's combined score).

    Args:
        mean: mean of the real validation scores.
        std: standard deviation of the real validation scores (floored to avoid division by zero).
        n_real: number of real validation images behind the statistics.
        percentiles: real-score percentiles, keyed by the percentile as a string ("90", "95", "99").
        thresholds: named thresholds on the raw score scale (strict / balanced / sensitive / optimal).
        n_fake: number of labelled fake validation images used for ``optimal`` and ``platt`` (0 if none).
        optimal_f1: validation F1 at the ``optimal`` threshold.
        platt: ``[a, b]`` of ``sigmoid(a * score + b)``, the probability of "fake"; ``None`` without fakes. When
            higher scores are no more likely fake on the validation data (a fitted slope of 0 or less), the slope is
            held at 0 and P(fake) is the share of fakes there, whatever the score (the best non-decreasing scaling).
        calibration_error: expected calibration error of the Platt probabilities on the validation scores they were
            fitted on, in-sample and cross-fitted (:func:`platt_calibration_error`); ``None`` without fakes or in
            calibrations saved before it was recorded.
        applies_below: for an out-of-domain calibration only: the domain log-likelihood at or below which an image
            is judged on it (halfway between the domain's limit and the highest log-likelihood among the images it
            was fitted on), so that images just outside the domain, the tail of the training data, keep the
            in-domain calibration; ``None``: every out-of-domain image.

    Example:
        >>> calibration = ScoreCalibration.fit(np.linspace(0.0, 1.0, 101))
        >>> round(calibration.thresholds["balanced"], 2)
        0.95
    """

    mean: float
    std: float
    n_real: int
    percentiles: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    n_fake: int = 0
    optimal_f1: Optional[float] = None
    platt: Optional[list[float]] = None
    calibration_error: Optional[dict] = None
    applies_below: Optional[float] = None

    @classmethod
    def fit(
        cls, real_scores: Sequence[float], fake_scores: Optional[Sequence[float]] = None
    ) -> "ScoreCalibration":
        """Fit the statistics on real validation scores; fakes (optional) add ``optimal`` and ``platt``.

        Args:
            real_scores: scores of held-out real images (never the training images).
            fake_scores: scores of labelled fake validation images, if any.
        """
        real = np.asarray(real_scores, dtype=np.float64)
        real = real[np.isfinite(real)]
        if real.size < 2:
            raise ValueError("calibration needs at least two finite real scores")
        percentiles = {str(int(p)): float(np.percentile(real, p)) for p in (50, 90, 95, 99)}
        thresholds = {name: float(np.percentile(real, p)) for name, p in THRESHOLD_PERCENTILES.items()}
        calibration = cls(
            mean=float(real.mean()),
            std=float(max(real.std(), 1e-8)),
            n_real=int(real.size),
            percentiles=percentiles,
            thresholds=thresholds,
        )
        fake = np.asarray([] if fake_scores is None else fake_scores, dtype=np.float64).ravel()
        fake = fake[np.isfinite(fake)]
        if fake.size > 0:  # fakes with no finite score are treated as no fakes
            threshold, f1 = best_f1_threshold(real, fake)
            calibration.thresholds["optimal"] = threshold
            calibration.optimal_f1 = f1
            calibration.n_fake = int(fake.size)
            slope, intercept = fit_platt(real, fake)
            constant = slope <= 0  # higher scores are no more likely fake: the best non-decreasing scaling is flat
            if constant:  # the likelihood's maximum with the slope held at 0: the share of fakes
                slope, intercept = 0.0, logit(fake.size / (real.size + fake.size))
            calibration.platt = [float(slope), float(intercept)]
            calibration.calibration_error = platt_calibration_error(real, fake, constant=constant)
        return calibration

    def standardise(self, scores: np.ndarray) -> np.ndarray:
        """Express raw scores in standard deviations above the real mean (the scale members are combined on)."""
        return (np.asarray(scores, dtype=np.float64) - self.mean) / self.std

    def standardised(self) -> "ScoreCalibration":
        """The same calibration expressed on the :meth:`standardise`-d scale."""
        return self.rescaled(self.mean, self.std)

    def rescaled(self, center: float, spread: float) -> "ScoreCalibration":
        """The same calibration on the scale ``(score - center) / spread`` (every statistic, threshold and the Platt
        scaling follow, so probabilities and verdicts are unchanged).

        Args:
            center: the score that becomes 0.
            spread: the score difference that becomes 1 (positive).

        Example:
            >>> calibration = ScoreCalibration.fit(np.linspace(0.0, 1.0, 101))
            >>> round(calibration.rescaled(0.5, 0.5).thresholds["balanced"], 2)
            0.9
        """
        if not spread > 0:
            raise ValueError(f"spread must be positive, got {spread}")
        scale = lambda v: (v - center) / spread  # noqa: E731
        return ScoreCalibration(
            mean=scale(self.mean),
            std=self.std / spread,
            n_real=self.n_real,
            percentiles={k: scale(v) for k, v in self.percentiles.items()},
            thresholds={k: scale(v) for k, v in self.thresholds.items()},
            n_fake=self.n_fake,
            optimal_f1=self.optimal_f1,
            platt=None if self.platt is None else [self.platt[0] * spread, self.platt[1] + self.platt[0] * center],
            calibration_error=self.calibration_error,  # the probabilities are the same on either scale
            applies_below=self.applies_below,  # a log-likelihood of the image, not a score
        )

    def probability(self, scores: np.ndarray) -> np.ndarray:
        """P(fake) for raw scores: Platt scaling when fitted with fakes (constant when its slope is 0), else a
        logistic centred on ``balanced``.

        The fallback is *not* a calibrated probability: it maps the balanced threshold to 0.5 and one real
        standard deviation to a factor e of odds, so that verdict and displayed confidence agree.

        Args:
            scores: raw scores on this calibration's scale (higher = more likely fake).

        Example:
            >>> calibration.probability(np.array([0.1, 2.0]))  # doctest: +SKIP
        """
        scores = np.asarray(scores, dtype=np.float64)
        # Slope 0: the scores carry no evidence on that data, P(fake) is the share of fakes. A negative slope (saved
        # before slopes were held at 0) is no calibration.
        if self.platt is not None and self.platt[0] >= 0:
            a, b = self.platt
            logits = a * scores + b
        else:
            logits = (scores - self.thresholds["balanced"]) / self.std
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))

    @property
    def slope(self) -> float:
        """How fast P(fake) rises with the score: the Platt slope, else ``1 / std`` of the real scores."""
        if self.platt is not None and self.platt[0] > 0:
            return float(self.platt[0])
        return 1.0 / self.std

    def score_for_probability(self, probability: float) -> float:
        """The score at which :meth:`probability` equals ``probability`` (its inverse)."""
        if self.platt is not None and self.platt[0] > 0:
            a, b = self.platt
            return (logit(probability) - b) / a
        return self.thresholds["balanced"] + logit(probability) * self.std

    def resolve_threshold(self, threshold: ThresholdSpec) -> tuple[float, str]:
        """Turn a name, a probability (0-1) or ``"score:<x>"`` into ``(value on the score scale, name)``.

        Args:
            threshold: ``strict``, ``balanced``, ``sensitive``, ``optimal``, a probability of fake or ``"score:<x>"``.

        Raises:
            ValueError: for an unknown name, a number outside (0, 1), or ``optimal`` when no fakes were available
                at calibration.
        """
        number = parse_number_threshold(threshold)
        if number is not None:
            value, scale = number
            return (self.score_for_probability(value) if scale == "probability" else value), "manual"
        name = str(threshold).strip().lower()
        if name == "optimal" and name not in self.thresholds:
            raise ValueError(
                "threshold 'optimal' is not available: this calibration was fitted without labelled fake "
                "scores; use strict, balanced, sensitive, a probability between 0 and 1 or score:<number>, or "
                "recalibrate with fakes"
            )
        if name not in self.thresholds:
            available = ", ".join(sorted(self.thresholds))
            raise ValueError(
                f"unknown threshold {threshold!r}; available: {available}, a probability between 0 and 1, "
                f"or '{SCORE_PREFIX}<number>'"
            )
        return self.thresholds[name], name

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (stored in ``config.json`` or ``thresholds_calibrated.json``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ScoreCalibration":
        """Inverse of :meth:`to_dict`; unknown keys are ignored so that newer files still load."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)
