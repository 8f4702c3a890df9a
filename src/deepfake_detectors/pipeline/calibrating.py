"""Calibration: fit each member's and the combined score's statistics and thresholds on validation images."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..calibration import BrightnessNormalisation, ScoreCalibration
from ..configuration.ensemble import DeepfakeEnsembleConfig
from ..domain import DomainDescription
from ..processing import ImageInput, load_image, mean_luma

#: Fewest real and fewest fake out-of-domain validation images an out-of-domain calibration is fitted on.
MIN_OUT_OF_DOMAIN_IMAGES = 50


class EnsembleCalibration:
    """The calibration part of :class:`~deepfake_detectors.EnsembleDeepfakeDetector` (validation images only,
    never test images): member statistics, the combined score's thresholds, an optional brightness
    normalisation. Relies on the scoring part for ``raw_member_scores`` and ``weighted_mean``."""

    config: DeepfakeEnsembleConfig
    members: dict[str, torch.nn.Module]
    calibration: Optional[ScoreCalibration]
    out_of_domain_calibration: Optional[ScoreCalibration]
    domain: Optional[DomainDescription]

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
        self._refuse_if_routed()
        images = list(real_images) + list(fake_images or [])
        is_real = np.r_[np.ones(len(real_images), bool), np.zeros(len(images) - len(real_images), bool)]
        raw_scores = self.raw_scores(images, batch_size=batch_size, progress=progress, description="calibrating")
        brightness = None
        if normalise_brightness:  # one image at a time, so memory stays bounded (raw_scores also decodes in batches)
            brightness = np.concatenate([mean_luma([load_image(image)]) for image in images])
        return self.calibrate_from_raw(raw_scores, is_real, brightness)

    def _refuse_if_routed(self) -> None:
        if self.config.routed:
            raise ValueError("a domain-routed ensemble judges each image with one member's own calibration; calibrate "
                             "the member repos and join them again (EnsembleDeepfakeDetector.route_by_domain)")

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
        self._refuse_if_routed()
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

    def calibrate_out_of_domain(
        self,
        real_images: Sequence[ImageInput],
        fake_images: Sequence[ImageInput],
        batch_size: int = 32,
        progress: bool = False,
    ) -> ScoreCalibration:
        """Fit the threshold and P(fake) used for images outside the detector's domain.

        Only the labelled validation images that the detector's domain description rejects are used, so images
        like the training ones keep the calibration they have; so do images just outside the domain (a
        log-likelihood above ``applies_below``, halfway between the domain's limit and the highest log-likelihood
        among the images it is fitted on). A detector trained on 32 px images then says, for a
        photo, what its score means on photos: a weak score gets a P(fake) near the base rate instead of 1.0.
        A single detector keeps it in its ``config.json`` (``out_of_domain_calibration``, raw score scale); an
        ensemble in ``thresholds_calibrated.json``. Never pass test images here.

        Args:
            real_images: held-out real images (not used in training).
            fake_images: labelled fake validation images.
            batch_size: images per forward pass.
            progress: show a progress bar.

        Raises:
            ValueError: without a domain description or an in-domain calibration, or when fewer than
                :data:`MIN_OUT_OF_DOMAIN_IMAGES` real or fake images are out of domain.

        Example:
            >>> detector.calibrate_out_of_domain(wild_validation_reals, wild_validation_fakes)  # doctest: +SKIP
        """
        self._refuse_if_routed()
        if self.domain is None or self.calibration is None:
            raise ValueError("an out-of-domain calibration needs a calibrated detector with a domain description "
                             "(domain.safetensors; scripts/fit_domain.py fits one)")
        images = list(real_images) + list(fake_images)
        is_real = np.r_[np.ones(len(real_images), bool), np.zeros(len(fake_images), bool)]
        combined, _, _, domain = self.score_images(images, batch_size=batch_size, progress=progress,
                                                   return_domain=True)
        outside = np.array([check is not None and not check[0] for check in domain], bool) & np.isfinite(combined)
        real, fake = combined[outside & is_real], combined[outside & ~is_real]
        likelihoods = np.array([check[2] for check, out in zip(domain, outside) if out], dtype=np.float64)
        if min(len(real), len(fake)) < MIN_OUT_OF_DOMAIN_IMAGES:
            raise ValueError(
                f"only {len(real)} real and {len(fake)} fake validation images are out of this detector's domain; "
                f"an out-of-domain calibration needs at least {MIN_OUT_OF_DOMAIN_IMAGES} of each"
            )
        self.out_of_domain_calibration = ScoreCalibration.fit(real, fake)
        # Images just outside the domain (the tail of the training data) keep the in-domain calibration.
        self.out_of_domain_calibration.applies_below = float((self.domain.limit + likelihoods.max()) / 2)
        if len(self.members) == 1:  # a single detector stores it with its own calibration, on its raw scale
            member_config = next(iter(self.members.values())).config
            own = member_config.get_calibration()
            raw = self.out_of_domain_calibration.rescaled(-own.mean / own.std, 1.0 / own.std)
            member_config.out_of_domain_calibration = raw.to_dict()
        return self.out_of_domain_calibration


def calibrate_repo_out_of_domain(
    repo: str, dataset: str, split: str = "validation", batch_size: int = 32, progress: bool = False
) -> ScoreCalibration:
    """Fit a repo's out-of-domain calibration (:meth:`EnsembleCalibration.calibrate_out_of_domain`) on a labelled
    split and write it into the repo folder, in place; the data it came from goes into the ``training`` record.

    Args:
        repo: a ``hub_repos/<name>`` folder with ``domain.safetensors``.
        dataset: a labelled source :func:`~deepfake_detectors.evaluation.data.load_labelled_images` reads.
        split: its validation split (never a test split).
        batch_size: images per forward pass.
        progress: show a progress bar.

    Example:
        >>> calibrate_repo_out_of_domain("hub_repos/deepfake-efficientnet", "../shared/data/wild")  # doctest: +SKIP
    """
    from ..evaluation.data import load_labelled_images
    from .detector import EnsembleDeepfakeDetector

    if "test" in split.lower():
        raise ValueError(f"refusing to calibrate on the split {split!r}: calibrate on validation data only")
    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
    data = load_labelled_images(dataset, split=split)
    real = [image for image, label in zip(data.images, data.labels) if label == 0]
    fake = [image for image, label in zip(data.images, data.labels) if label == 1]
    calibration = detector.calibrate_out_of_domain(real, fake, batch_size=batch_size, progress=progress)
    if detector.config.members[0]["path"] == ".":  # a single detector repo: its config.json holds it
        member_config = next(iter(detector.members.values())).config
        training = dict(getattr(member_config, "training", None) or {})
        training["out_of_domain_calibration"] = {
            "dataset": str(dataset), "split": split, "n_real": calibration.n_real, "n_fake": calibration.n_fake,
        }
        member_config.training = training
        member_config.save_pretrained(repo)
    detector.save_thresholds(repo)
    return calibration
