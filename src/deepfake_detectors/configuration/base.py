"""Shared configuration fields of every detector."""

from __future__ import annotations

from typing import Any, Optional

from transformers import PreTrainedConfig

from ..calibration import ScoreCalibration
from ..features.complexity import ComplexityAdjustment

ID2LABEL = {0: "real", 1: "fake"}
LABEL2ID = {"real": 0, "fake": 1}

#: How the fake logits of an image's native-resolution crops become the image's logit (detectors on crops).
CROP_AGGREGATIONS = ("mean_logit", "max_logit", "top2_mean_logit")


def checked_crop_settings(crops_per_side: Any, crop_aggregation: str) -> tuple[Optional[int], str]:
    """Validate a config's native-crop settings: ``crops_per_side`` ``None`` (resized input) or 1-16, and a
    ``crop_aggregation`` from :data:`CROP_AGGREGATIONS`.

    Raises:
        ValueError: naming the bad setting.

    Example:
        >>> checked_crop_settings("2", "mean_logit")
        (2, 'mean_logit')
    """
    if crops_per_side is not None and not 1 <= int(crops_per_side) <= 16:
        raise ValueError(f"crops_per_side must be between 1 and 16 (or None), got {crops_per_side}")
    if crop_aggregation not in CROP_AGGREGATIONS:
        raise ValueError(f"crop_aggregation must be one of {CROP_AGGREGATIONS}, got {crop_aggregation!r}")
    return (None if crops_per_side is None else int(crops_per_side)), crop_aggregation


class DeepfakeDetectorConfig(PreTrainedConfig):
    r"""Base of every detector config: labels (real = 0, fake = 1) and the stored score calibration.

    Args:
        image_size (`int`, defaults to 32): side of the square input the model expects.
        num_channels (`int`, defaults to 3): input channels.
        calibration (`dict`, *optional*): a :class:`~deepfake_detectors.calibration.ScoreCalibration` as a dict:
            statistics of the model's scores on held-out real images and its named thresholds. ``None`` until
            the model has been calibrated.
        out_of_domain_calibration (`dict`, *optional*): a second
            :class:`~deepfake_detectors.calibration.ScoreCalibration` (same score scale), fitted on labelled
            validation images that the repo's domain description marks out of domain. Images out of domain then get
            their threshold and P(fake) from it, so that a detector trained on other images still says what its
            score means on them. ``None``: one calibration for every image.
        complexity_adjustment (`dict`, *optional*): a
            :class:`~deepfake_detectors.features.complexity.ComplexityAdjustment` as a dict. When set, the model's
            :meth:`score` is corrected for input complexity (fitted on real images only). ``None`` = raw scores.
        default_threshold (`str`, *optional*): the named threshold every entry point (Python, CLI, Space) uses
            unless told otherwise; defaults to the class's ``default_threshold_name`` (``"balanced"``, or
            ``"optimal"`` for the supervised classifiers, whose cards report it).
        kwargs: passed to :class:`~transformers.PreTrainedConfig`.
    """

    #: The default of ``default_threshold`` for this kind of detector.
    default_threshold_name = "balanced"

    def __init__(
        self,
        image_size: int = 32,
        num_channels: int = 3,
        calibration: Optional[dict[str, Any]] = None,
        complexity_adjustment: Optional[dict[str, Any]] = None,
        default_threshold: Optional[str] = None,
        out_of_domain_calibration: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        if int(image_size) < 8:
            raise ValueError(f"image_size must be at least 8, got {image_size}")
        self.image_size = int(image_size)
        self.num_channels = int(num_channels)
        self.calibration = calibration
        self.out_of_domain_calibration = out_of_domain_calibration
        self.complexity_adjustment = complexity_adjustment
        self.default_threshold = str(default_threshold or self.default_threshold_name)
        kwargs.setdefault("id2label", dict(ID2LABEL))
        kwargs.setdefault("label2id", dict(LABEL2ID))
        super().__init__(**kwargs)

    def get_calibration(self) -> Optional[ScoreCalibration]:
        """The stored calibration as an object, or ``None`` if the model is uncalibrated."""
        return None if self.calibration is None else ScoreCalibration.from_dict(self.calibration)

    def get_out_of_domain_calibration(self) -> Optional[ScoreCalibration]:
        """The calibration for images out of the repo's domain, or ``None`` (see ``out_of_domain_calibration``)."""
        if self.out_of_domain_calibration is None:
            return None
        return ScoreCalibration.from_dict(self.out_of_domain_calibration)

    def get_complexity_adjustment(self) -> Optional[ComplexityAdjustment]:
        """The stored input-complexity correction of the scores, or ``None`` (raw scores)."""
        if self.complexity_adjustment is None:
            return None
        return ComplexityAdjustment.from_dict(self.complexity_adjustment)
