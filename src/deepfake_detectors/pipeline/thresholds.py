"""Thresholds and shown probabilities: which threshold is in use and what P(fake) a verdict shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..configuration.ensemble import DeepfakeEnsembleConfig
from ..calibration import (
    DEFAULT_THRESHOLD,
    SCORE_PREFIX,
    ScoreCalibration,
    ThresholdSpec,
    logit,
    parse_number_threshold,
    shown_probability,
)


@dataclass(frozen=True)
class AppliedThreshold:
    """A threshold resolved on one calibration: where the verdict cuts and how its P(fake) is read.

    Args:
        value: the threshold on the score scale.
        name: ``strict``, ``balanced``, ``sensitive``, ``optimal`` or ``manual``.
        calibration: the calibration it was resolved on (``None``: an uncalibrated detector).
        calibration_domain: ``"in-domain"`` (the detector's own validation data) or ``"out-of-domain"`` (validation
            images its domain check rejects); in a domain-routed ensemble, the name of the member whose own
            calibration it is.

    Example:
        >>> applied = AppliedThreshold(2.0, "manual", None, "in-domain")
        >>> applied.shown_probability(np.array([2.0])).tolist()
        [0.5]
    """

    value: float
    name: str
    calibration: Optional[ScoreCalibration]
    calibration_domain: str = "in-domain"

    def shown_probability(self, scores: np.ndarray) -> np.ndarray:
        """The P(fake) shown with a verdict: 50% exactly at :attr:`value` (see
        :func:`~deepfake_detectors.calibration.shown_probability`)."""
        slope = 1.0 if self.calibration is None else self.calibration.slope
        return shown_probability(scores, self.value, slope)

    def probability(self, scores: np.ndarray) -> np.ndarray:
        """The threshold-free calibrated P(fake) of this calibration; NaN stays NaN."""
        return calibrated_probability(self.calibration, scores)


def judged_out_of_domain(check: Optional[tuple], outside: Optional[AppliedThreshold]) -> bool:
    """Whether an image is judged on the out-of-domain calibration: there is one, the domain check rejected the
    image, and its domain log-likelihood is at most the calibration's ``applies_below`` (when recorded).

    In a domain-routed ensemble the check has a fourth item, whether the second member judged the image; the
    second threshold (that member's own calibration) applies exactly to those images.

    Args:
        check: the image's ``(in_domain, note, log-likelihood)`` (or ``None``: not checked).
        outside: the out-of-domain threshold of :meth:`ThresholdPolicy.applied_thresholds`, or ``None``.

    Example:
        >>> rule = AppliedThreshold(1.0, "balanced", ScoreCalibration(0.0, 1.0, 10, applies_below=-100.0))
        >>> checks = [(True, None, 0.0), (False, "tail", -5.0), (False, "far", -500.0)]
        >>> [judged_out_of_domain(check, rule) for check in checks]
        [False, False, True]
    """
    if outside is None or check is None:
        return False
    if len(check) >= 4:  # domain-routed: the route decides, not the judging member's own domain check
        return bool(check[3])
    if check[0]:
        return False
    limit = None if outside.calibration is None else outside.calibration.applies_below
    return limit is None or len(check) < 3 or check[2] <= limit


def calibrated_probability(calibration: Optional[ScoreCalibration], scores: np.ndarray) -> np.ndarray:
    """P(fake) of scores under a calibration (Platt scaling, or its fallback; a plain logistic without one); NaN
    stays NaN."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.nan_to_num(scores)
    values = 1.0 / (1.0 + np.exp(-finite)) if calibration is None else calibration.probability(finite)
    return np.where(np.isfinite(scores), values, np.nan)


#: The threshold images judged on an out-of-domain calibration get unless one was chosen (``set_threshold`` or a
#: ``threshold=`` argument): out of its domain a detector keeps its false alarms near 5% of the photos it was
#: calibrated on, rather than using its own default (``optimal``, best F1, flags most photos when it cannot tell).
OUT_OF_DOMAIN_DEFAULT_THRESHOLD = "balanced"


class ThresholdPolicy:
    """The threshold part of :class:`~deepfake_detectors.EnsembleDeepfakeDetector`.

    A threshold is a name (``strict``, ``balanced``, ``sensitive``, ``optimal``) looked up in the calibration,
    a probability of fake in (0, 1), or ``"score:<number>"`` on the score scale (see
    :mod:`deepfake_detectors.calibration`).
    """

    #: Whether a threshold was chosen with :meth:`set_threshold` (else the repo's default is in use).
    _threshold_chosen = False

    config: DeepfakeEnsembleConfig
    calibration: Optional[ScoreCalibration]
    out_of_domain_calibration: Optional[ScoreCalibration]
    _threshold: ThresholdSpec

    def set_threshold(self, threshold: ThresholdSpec) -> tuple[float, str]:
        """Choose the threshold: ``"strict"``, ``"balanced"``, ``"sensitive"``, ``"optimal"``, a probability or a score.

        A number is a probability of fake between 0 and 1 (``0.8``: flag images whose calibrated P(fake) is at
        least 80%); ``"score:2.5"`` cuts on the score scale itself.

        Args:
            threshold: a threshold name, a probability of fake in (0, 1), or ``"score:<x>"``.

        Returns:
            ``(value on the score scale, name)``; the name is ``"manual"`` for a number.

        Raises:
            ValueError: for an unknown name, a number outside (0, 1), or a named threshold on an uncalibrated
                detector.

        Example:
            >>> detector.set_threshold(0.9)  # doctest: +SKIP
            (2.71..., 'manual')
        """
        value, name = self._resolve_threshold(threshold)
        self._threshold_chosen = True
        number = parse_number_threshold(threshold)
        if number is not None and number[1] == "probability":  # a probability stays one for either calibration
            self._threshold = repr(number[0])
        else:
            self._threshold = f"{SCORE_PREFIX}{value!r}" if name == "manual" else name
        return value, name

    @property
    def threshold(self) -> tuple[float, str]:
        """The threshold in use, as ``(value, name)``."""
        return self._resolve_threshold(self._threshold)

    def _resolve_threshold(self, threshold: ThresholdSpec) -> tuple[float, str]:
        if self.calibration is not None:
            return self.calibration.resolve_threshold(threshold)
        number = parse_number_threshold(threshold)  # an uncalibrated detector only takes numbers
        if number is None:
            raise ValueError(
                f"this detector is not calibrated, so the named threshold {threshold!r} is unknown; "
                "calibrate it or pass a number"
            )
        value, scale = number
        return (logit(value) if scale == "probability" else value), "manual"

    def applied_thresholds(
        self, threshold: Optional[ThresholdSpec] = None
    ) -> tuple[AppliedThreshold, Optional[AppliedThreshold]]:
        """The threshold (default: the current one) resolved for images in and out of the detector's domain.

        The second is ``None`` unless the detector has an out-of-domain calibration; a name or a probability then
        means the same thing on that calibration (``balanced`` = 95th percentile of its real scores), and a
        ``"score:<x>"`` cut stays the same number. While no threshold was chosen, that second one is
        :data:`OUT_OF_DOMAIN_DEFAULT_THRESHOLD`. In a domain-routed ensemble the two are its members' own
        calibrations (the first for the images in its domain, the second for the others), and the second one's
        default is that member's own default threshold.

        Args:
            threshold: as for :meth:`set_threshold`; ``None`` resolves the current threshold.

        Example:
            >>> inside, outside = detector.applied_thresholds("balanced")  # doctest: +SKIP
        """
        spec = self._threshold if threshold is None else threshold
        value, name = self._resolve_threshold(spec)
        routed = self.config.routed
        first, second = self.config.members[0], self.config.members[-1]
        inside = AppliedThreshold(value, name, self.calibration, first["name"] if routed else "in-domain")
        other = self.out_of_domain_calibration
        if other is None:
            return inside, None
        if threshold is None and not self._threshold_chosen:
            # Out of its domain a detector keeps a cautious default; a routed ensemble's second member, its own.
            spec = second.get("default_threshold", DEFAULT_THRESHOLD) if routed else OUT_OF_DOMAIN_DEFAULT_THRESHOLD
        return inside, AppliedThreshold(*other.resolve_threshold(spec), other,
                                        second["name"] if routed else "out-of-domain")

    def probability(self, combined: np.ndarray) -> np.ndarray:
        """P(fake) for combined scores (as :meth:`score_images` returns them) on the in-domain calibration; NaN
        stays NaN (:meth:`per_image_verdicts` uses the out-of-domain calibration where it applies).

        Platt scaling fitted on labelled validation images when the calibration has it, else a logistic centred on
        the ``balanced`` threshold (see :meth:`~deepfake_detectors.calibration.ScoreCalibration.probability`).
        """
        return calibrated_probability(self.calibration, combined)

    def per_image_verdicts(
        self, combined: np.ndarray, domain: list, threshold: Optional[ThresholdSpec] = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each image's threshold and calibrated P(fake), and whether its out-of-domain calibration gave them.

        Args:
            combined: combined scores (NaN for images that failed).
            domain: ``(in_domain, note, log-likelihood)`` or ``None`` per image, as :meth:`score_images` returns it.
            threshold: the threshold (default: the current one).

        Returns:
            ``(thresholds, probabilities, out_of_domain_calibrated)``, one entry per image.
        """
        inside, outside = self.applied_thresholds(threshold)
        uses_outside = np.array([judged_out_of_domain(check, outside) for check in domain], dtype=bool).reshape(-1)
        thresholds = np.full(len(uses_outside), inside.value)
        probabilities = inside.probability(combined)
        if outside is not None:
            thresholds[uses_outside] = outside.value
            probabilities = np.where(uses_outside, outside.probability(combined), probabilities)
        return thresholds, probabilities, uses_outside
