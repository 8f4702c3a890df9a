"""Calibration: fit each member's and the combined score's statistics and thresholds on validation images."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..calibration import BrightnessNormalisation, ScoreCalibration
from ..configuration.ensemble import DeepfakeEnsembleConfig
from ..processing import ImageInput, load_image, mean_luma


class EnsembleCalibration:
    """The calibration part of :class:`~deepfake_detectors.EnsembleDeepfakeDetector` (validation images only,
    never test images): member statistics, the combined score's thresholds, an optional brightness
    normalisation. Relies on the scoring part for ``raw_member_scores`` and ``weighted_mean``."""

    config: DeepfakeEnsembleConfig
    members: dict[str, torch.nn.Module]
    calibration: Optional[ScoreCalibration]

    def calibrate(
        self,
        real_images: Sequence[ImageInput],
        fake_images: Optional[Sequence[ImageInput]] = None,
        batch_size: int = 64,
        progress: bool = False,
        normalise_brightness: bool = False,
    ) -> ScoreCalibration:
        """Calibrate every member and the combined score on held-out validation images.

        Members get real-score statistics (and ``optimal`` when fakes are given); then the combined score's
        statistics give the ensemble's named thresholds. Never pass test images here.

        Args:
            real_images: held-out real images (not used in training).
            fake_images: labelled fake validation images, optional (adds ``optimal`` and Platt scaling).
            normalise_brightness: also fit a :class:`~deepfake_detectors.calibration.BrightnessNormalisation` of
                the combined score on the real images (see :meth:`calibrate_from_raw`).
        """
        images = list(real_images) + list(fake_images or [])
        is_real = np.r_[np.ones(len(real_images), bool), np.zeros(len(images) - len(real_images), bool)]
        raw_scores = self.raw_scores(images, batch_size=batch_size, progress=progress, description="calibrating")
        brightness = None
        if normalise_brightness:  # one image at a time, so memory stays bounded (raw_scores also decodes in batches)
            brightness = np.concatenate([mean_luma([load_image(image)]) for image in images])
        return self.calibrate_from_raw(raw_scores, is_real, brightness)

    def raw_scores(
        self, images: Sequence[ImageInput], batch_size: int = 64, progress: bool = False, description: str = "scoring"
    ) -> dict[str, np.ndarray]:
        """Each member's raw scores for readable images (raises :class:`ImageLoadError` on a bad one)."""
        raw: dict[str, list[np.ndarray]] = {name: [] for name in self.members}
        bar = tqdm(total=len(images), desc=description, unit="img", disable=not progress)
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            loaded = [load_image(image, min_size=self.decode_min_size) for image in chunk]
            for name, values in self.raw_member_scores(loaded).items():
                raw[name].append(values)
            bar.update(len(loaded))
        bar.close()
        return {name: np.concatenate(values) for name, values in raw.items()}

    def calibrate_from_raw(
        self, raw_scores: dict[str, np.ndarray], is_real: np.ndarray, brightness: Optional[np.ndarray] = None
    ) -> ScoreCalibration:
        """Calibrate members and the combined score from precomputed raw member scores.

        Args:
            raw_scores: ``{member: raw scores}`` of the validation images.
            is_real: boolean mask of the real images among them (the rest are labelled fakes).
            brightness: the images' :func:`~deepfake_detectors.processing.mean_luma`. When given, a
                :class:`~deepfake_detectors.calibration.BrightnessNormalisation` of the weighted mean is fitted on
                the real images and stored in the config, and the thresholds are set on the normalised score;
                when `None`, any earlier normalisation is removed.
        """
        is_real = np.asarray(is_real, bool)
        for name, values in raw_scores.items():
            fakes = values[~is_real] if (~is_real).any() else None
            self.members[name].calibrate(values[is_real], fakes)
        combined, _ = self.weighted_mean(raw_scores)
        self.config.brightness_normalisation = None
        if brightness is not None:
            brightness = np.asarray(brightness, dtype=np.float64)
            normalisation = BrightnessNormalisation.fit(combined[is_real], brightness[is_real])
            self.config.brightness_normalisation = normalisation.to_dict()
            combined = normalisation.apply(combined, brightness)
        fakes = combined[~is_real] if (~is_real).any() else None
        self.calibration = ScoreCalibration.fit(combined[is_real], fakes)
        return self.calibration
