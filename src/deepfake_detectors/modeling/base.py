"""Shared pieces of every detector model: the output type and the pretrained base class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ..calibration import ScoreCalibration
from ..configuration.base import DeepfakeDetectorConfig


@dataclass
class DetectorOutput(ModelOutput):
    """Output of a detector's ``forward``.

    Args:
        loss: the training objective (only when computed; one-class models compute it on every call).
        scores: raw fake-ness score per image, ``[batch]``, higher = more likely fake.
        reconstruction: the reconstructed image, for autoencoders.
        embeddings: the embedding whose distance to a centre is the score, for Deep SVDD.
    """

    loss: Optional[torch.FloatTensor] = None
    scores: Optional[torch.FloatTensor] = None
    reconstruction: Optional[torch.FloatTensor] = None
    embeddings: Optional[torch.FloatTensor] = None


class DeepfakeDetectorPreTrainedModel(PreTrainedModel):
    """Base class of every detector: ``forward(pixel_values) -> DetectorOutput`` with raw ``scores``.

    Subclasses implement :meth:`forward`; :meth:`score` and :meth:`calibration` are shared.
    """

    config_class = DeepfakeDetectorConfig
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    #: Whether ``forward`` takes a shared ``feature_cache`` (members on hand-made features).
    accepts_feature_cache = False

    @torch.no_grad()
    def score(self, pixel_values: torch.Tensor, **kwargs) -> torch.Tensor:
        """Raw fake-ness scores (higher = more likely fake) for a preprocessed batch, in eval mode.

        Args:
            pixel_values: the batch as the member's image processor makes it.
            kwargs: passed to ``forward`` (e.g. ``feature_cache``).
        """
        was_training = self.training
        self.eval()
        try:
            return self(pixel_values=pixel_values, **kwargs).scores.float()
        finally:
            self.train(was_training)

    @property
    def calibration(self) -> Optional[ScoreCalibration]:
        """The stored real-score calibration, or ``None`` before :meth:`calibrate` has been called."""
        return self.config.get_calibration()

    def calibrate(self, real_scores: np.ndarray, fake_scores: Optional[np.ndarray] = None) -> ScoreCalibration:
        """Fit and store the calibration from validation scores (real only, or real and labelled fakes).

        Args:
            real_scores: raw scores of held-out real images.
            fake_scores: raw scores of labelled fake validation images, if available (adds ``optimal``).
        """
        calibration = ScoreCalibration.fit(real_scores, fake_scores)
        self.config.calibration = calibration.to_dict()
        return calibration
