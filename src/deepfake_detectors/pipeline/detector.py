"""``EnsembleDeepfakeDetector``: one class for every use, assembled from its four jobs.

An ensemble repo or a single detector repo (wrapped as a one-member ensemble), so that the CLI, the Space and
notebooks all call the same ``predict``. Loading and saving live in :mod:`.loading`, scoring in :mod:`.scoring`,
thresholds in :mod:`.thresholds`, calibration in :mod:`.calibrating`; this file holds the verdicts.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

import numpy as np
import torch

from ..calibration import ScoreCalibration, ThresholdSpec
from ..configuration.ensemble import DeepfakeEnsembleConfig
from ..domain import DomainDescription
from ..modeling.base import cpu_has_native_bfloat16
from ..processing import DeepfakeImageProcessor, ImageInput, describe_source, load_image
from .calibrating import EnsembleCalibration
from .loading import EnsembleIO
from .result import DetectionResult
from .scoring import EnsembleScoring
from .thresholds import AppliedThreshold, ThresholdPolicy, judged_out_of_domain


class EnsembleDeepfakeDetector(EnsembleIO, EnsembleScoring, ThresholdPolicy, EnsembleCalibration):
    """Score images with one or more detectors and return calibrated verdicts.

    Each member's raw score is calibrated against its own real-validation statistics; calibrated scores are
    combined by the configured weighted mean; the combined score is compared with a threshold that defaults to
    the 95th percentile of combined real-validation scores (``balanced``).

    Args:
        config: the ensemble configuration (member names, paths and weights).
        members: ``{name: model}``, each a detector whose ``score(pixel_values)`` returns raw scores.
        processors: ``{name: image processor}`` for the members.
        calibration: the statistics and named thresholds of the combined score (``None`` until calibrated).
        device: where the members run.

    Example:
        >>> detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-ensemble-detector")
        >>> score, is_fake = detector.predict("examples/fake_01.jpg")
        >>> detector.set_threshold("strict")
    """

    def __init__(
        self,
        config: DeepfakeEnsembleConfig,
        members: dict[str, torch.nn.Module],
        processors: dict[str, DeepfakeImageProcessor],
        calibration: Optional[ScoreCalibration] = None,
        device: Union[str, torch.device, None] = None,
    ) -> None:
        missing = [name for name in config.member_names if name not in members or name not in processors]
        if missing:
            raise ValueError(f"no model or processor given for members {missing}")
        self.config = config
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.members = {name: members[name].to(self.device).eval() for name in config.member_names}
        self.processors = {name: processors[name] for name in config.member_names}
        self.calibration = calibration
        #: Threshold and P(fake) for images the domain check rejects (see :meth:`calibrate_out_of_domain`).
        self.out_of_domain_calibration: Optional[ScoreCalibration] = None
        self._threshold: ThresholdSpec = config.default_threshold
        #: What the training images looked like (``domain.safetensors``); ``None``: no domain check.
        self.domain: Optional[DomainDescription] = None
        #: Each member's own domain description (``members/<name>/domain.safetensors``), where it has one.
        self.member_domains: dict[str, DomainDescription] = {}
        #: The folder each member was loaded from, when it was loaded from one.
        self.member_sources: dict[str, Path] = {}
        #: ``"float32"`` (as calibrated) or ``"bfloat16"`` (:meth:`set_precision`).
        self.precision = "float32"

    def __repr__(self) -> str:
        weights = [round(float(member.get("weight", 1.0)), 4) for member in self.config.members]
        try:
            value, name = self.threshold
            threshold = f"threshold={name!r} ({value:.3f})"
        except ValueError as error:  # e.g. a named default on an uncalibrated detector
            threshold = f"threshold unavailable ({error})"
        if self.calibration is None:
            calibrated = "not calibrated"
        else:
            fakes = f" + {self.calibration.n_fake} fake" if self.calibration.n_fake else ""
            calibrated = f"calibrated on {self.calibration.n_real} real{fakes} validation images"
        precision = "" if self.precision == "float32" else f", precision={self.precision!r}"
        if self.config.routed:
            first, second = self.config.member_names
            return (f"{type(self).__name__}(members={list(self.members)}, routed: {first!r} in its domain, "
                    f"{second!r} elsewhere, {threshold}, {calibrated}{precision})")
        return (f"{type(self).__name__}(members={list(self.members)}, weights={weights}, {threshold}, "
                f"{calibrated}{precision})")

    def set_precision(self, precision: str) -> list[str]:
        """Run the members' heaviest parts in ``"bfloat16"`` (faster) or in ``"float32"`` (the default).

        Only members that support it switch (today the reconstruction-error detector, the photo judge of the
        default ``deepfake-detector``: its autoencoder runs in bfloat16, everything else in float32); the
        thresholds stay those calibrated in float32. Measured on wild validation: 2.3x faster on a CPU with native
        bfloat16, AUROC 0.7152 -> 0.7143, 0.3% of verdicts changed at its default threshold
        (``docs/experiments/bfloat16_inference.py`` and its log). Published figures are float32.

        Args:
            precision: ``"float32"`` or ``"bfloat16"``.

        Returns:
            The names of the members that run in reduced precision now (empty for ``"float32"``, or when no member
            supports it).

        Raises:
            ValueError: for any other precision.

        Example:
            >>> detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-detector")  # doctest: +SKIP
            >>> detector.set_precision("bfloat16")  # doctest: +SKIP
            ['reconstruction_error']
        """
        if precision not in ("float32", "bfloat16"):
            raise ValueError(f"precision must be 'float32' or 'bfloat16', not {precision!r}")
        reduced = precision == "bfloat16"
        switched = [name for name, model in self.members.items() if model.set_reduced_precision(reduced)]
        if reduced and not switched:
            warnings.warn(f"no member of this detector ({', '.join(self.members)}) supports bfloat16; it runs in "
                          "float32", stacklevel=2)
        elif reduced and self.device.type == "cpu" and not cpu_has_native_bfloat16():
            warnings.warn("this CPU has no native bfloat16 instructions: bfloat16 is emulated and slower than "
                          "float32 here", stacklevel=2)
        self.precision = "bfloat16" if reduced and switched else "float32"
        return switched if reduced else []

    def predict_batches(
        self, images: Sequence[ImageInput], batch_size: int = 64, threshold: Optional[ThresholdSpec] = None
    ) -> Iterator[list[DetectionResult]]:
        """Verdicts batch by batch, each list as soon as its batch is scored (for scans that stream results).

        Args:
            images: paths, PIL images or arrays.
            batch_size: images per forward pass (and per yielded list).
            threshold: use this threshold instead of the current one.

        Example:
            >>> for results in detector.predict_batches(paths):  # doctest: +SKIP
            ...     write(results)
        """
        applied = self.applied_thresholds(threshold)
        for positions, combined, members, errors, domain in self.score_batches(images, batch_size):
            yield [
                self._result(images[index], combined[local],
                             {member: values[local] for member, values in members.items()}, errors[local], applied,
                             domain[local])
                for local, index in enumerate(positions)
            ]

    def _result(
        self,
        image: ImageInput,
        score: float,
        member_scores: dict[str, float],
        error: Optional[str],
        applied: tuple[AppliedThreshold, Optional[AppliedThreshold]],
        domain: Optional[tuple] = None,
    ) -> DetectionResult:
        """One image's result; ``applied`` is :meth:`applied_thresholds` (the second is used out of domain)."""
        source = describe_source(image)
        inside, outside = applied
        rule = outside if judged_out_of_domain(domain, outside) else inside
        if error is not None or not math.isfinite(score):
            return DetectionResult(source, None, None, inside.value, inside.name, error=error or "not scored")
        scores = np.array([score])
        return DetectionResult(
            source=source,
            score=float(score),
            is_fake=bool(score >= rule.value),
            threshold=rule.value,
            threshold_name=rule.name,
            probability=float(rule.shown_probability(scores)[0]),
            # A member that did not judge this image (domain-routed ensembles) has no score for it.
            member_scores={member: float(value) for member, value in member_scores.items() if math.isfinite(value)},
            calibrated_probability=float(rule.probability(scores)[0]),
            in_domain=None if domain is None else domain[0],
            domain_note=None if domain is None else domain[1],
            calibration_domain=rule.calibration_domain,
        )

    def predict(
        self,
        images: Union[ImageInput, Sequence[ImageInput]],
        batch_size: int = 64,
        threshold: Optional[ThresholdSpec] = None,
        progress: bool = False,
    ) -> Union[DetectionResult, list[DetectionResult]]:
        """Verdicts for one image or a list of images.

        Args:
            images: a path, PIL image or array, or a list of them.
            batch_size: images per forward pass.
            threshold: use this threshold for this call only (a name, a probability between 0 and 1, or
                ``"score:<number>"``).
            progress: show a tqdm progress bar on stderr.

        Returns:
            One :class:`DetectionResult` for a single input (``score, is_fake = result``), else a list with one
            result per input, in order. An unreadable file in a list gives a result with ``error`` set.

        Raises:
            ImageLoadError: when a single input cannot be read.
        """
        single = not isinstance(images, (list, tuple))
        batch = [images] if single else list(images)
        # A single input is decoded here, so that an unreadable one raises a clear error (and is decoded once).
        to_score = [load_image(batch[0], min_size=self.decode_min_size)] if single else batch
        applied = self.applied_thresholds(threshold)
        combined, members, errors, domain = self.score_images(
            to_score, batch_size=batch_size, progress=progress, return_domain=True
        )
        results = [
            self._result(image, combined[index], {member: values[index] for member, values in members.items()},
                         errors[index], applied, domain[index])
            for index, image in enumerate(batch)
        ]
        return results[0] if single else results

