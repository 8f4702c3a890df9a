"""Thresholds and shown probabilities: which threshold is in use and what P(fake) a verdict shows."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..calibration import (
    SCORE_PREFIX,
    ScoreCalibration,
    ThresholdSpec,
    logit,
    parse_number_threshold,
    shown_probability,
)


class ThresholdPolicy:
    """The threshold part of :class:`~deepfake_detectors.EnsembleDeepfakeDetector`.

    A threshold is a name (``strict``, ``balanced``, ``sensitive``, ``optimal``) looked up in the calibration,
    a probability of fake in (0, 1), or ``"score:<number>"`` on the score scale (see
    :mod:`deepfake_detectors.calibration`).
    """

    calibration: Optional[ScoreCalibration]
    _threshold: ThresholdSpec

    def set_threshold(self, threshold: ThresholdSpec) -> tuple[float, str]:
        """Choose the threshold: ``"strict"``, ``"balanced"``, ``"sensitive"``, ``"optimal"``, a probability or a score.

        A number is a probability of fake between 0 and 1 (``0.8``: flag images whose calibrated P(fake) is at
        least 80%); ``"score:2.5"`` cuts on the score scale itself. Returns ``(value on the score scale, name)``.

        Raises:
            ValueError: for an unknown name, a number outside (0, 1), or a named threshold on an uncalibrated
                detector.

        Example:
            >>> detector.set_threshold(0.9)  # doctest: +SKIP
            (2.71..., 'manual')
        """
        value, name = self._resolve_threshold(threshold)
        self._threshold = f"{SCORE_PREFIX}{value!r}" if name == "manual" else name  # kept on the score scale
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

    def shown_probability(self, combined: np.ndarray, threshold: float) -> np.ndarray:
        """The P(fake) shown with a verdict at ``threshold``: 50% exactly at the threshold (see
        :func:`~deepfake_detectors.calibration.shown_probability`)."""
        slope = 1.0 if self.calibration is None else self.calibration.slope
        return shown_probability(combined, threshold, slope)

    def probability(self, combined: np.ndarray) -> np.ndarray:
        """P(fake) for combined scores (as :meth:`score_images` returns them); NaN stays NaN.

        Platt scaling fitted on labelled validation images when the calibration has it, else a logistic centred on
        the ``balanced`` threshold (see :meth:`~deepfake_detectors.calibration.ScoreCalibration.probability`).
        """
        combined = np.asarray(combined, dtype=np.float64)
        return np.where(np.isfinite(combined), self._finite_probability(combined), np.nan)

    def _finite_probability(self, combined: np.ndarray) -> np.ndarray:
        if self.calibration is None:
            return 1.0 / (1.0 + np.exp(-np.nan_to_num(combined)))
        return self.calibration.probability(np.nan_to_num(combined))

