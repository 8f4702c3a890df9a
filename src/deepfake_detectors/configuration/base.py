"""Shared configuration fields of every detector."""

from __future__ import annotations

from typing import Any, Optional

from transformers import PreTrainedConfig

from ..calibration import ScoreCalibration

ID2LABEL = {0: "real", 1: "fake"}
LABEL2ID = {"real": 0, "fake": 1}


class DeepfakeDetectorConfig(PreTrainedConfig):
    r"""Base of every detector config: labels (real = 0, fake = 1) and the stored score calibration.

    Args:
        image_size (`int`, defaults to 32): side of the square input the model expects.
        num_channels (`int`, defaults to 3): input channels.
        calibration (`dict`, *optional*): a :class:`~deepfake_detectors.calibration.ScoreCalibration` as a dict:
            statistics of the model's scores on held-out real images and its named thresholds. ``None`` until
            the model has been calibrated.
        kwargs: passed to :class:`~transformers.PreTrainedConfig`.
    """

    def __init__(
        self,
        image_size: int = 32,
        num_channels: int = 3,
        calibration: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        if int(image_size) < 8:
            raise ValueError(f"image_size must be at least 8, got {image_size}")
        self.image_size = int(image_size)
        self.num_channels = int(num_channels)
        self.calibration = calibration
        kwargs.setdefault("id2label", dict(ID2LABEL))
        kwargs.setdefault("label2id", dict(LABEL2ID))
        super().__init__(**kwargs)

    def get_calibration(self) -> Optional[ScoreCalibration]:
        """The stored calibration as an object, or ``None`` if the model is uncalibrated."""
        return None if self.calibration is None else ScoreCalibration.from_dict(self.calibration)
