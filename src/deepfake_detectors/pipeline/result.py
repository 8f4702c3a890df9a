"""``DetectionResult``: the verdict on one image, as every entry point (Python, CLI, Space) returns it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Optional


@dataclass
class DetectionResult:
    """The verdict on one image. Unpacks as ``score, is_fake = result``.

    Args:
        source: the file path or a short description of the input.
        score: the fake-ness score (higher = more likely fake), on the detector's calibrated scale: standard
            deviations above the mean score of real validation images. ``None`` if the image could not be read.
        is_fake: ``score >= threshold``; ``None`` on error.
        threshold: the threshold that was applied (score scale).
        threshold_name: ``strict``, ``balanced``, ``sensitive``, ``optimal`` or ``manual``.
        probability: the P(fake) shown with the verdict: ``sigmoid(slope * (score - threshold))`` (see
            :mod:`deepfake_detectors.calibration`), at least 0.5 exactly when ``is_fake``; ``None`` on error.
        member_scores: each member's calibrated score (same scale as ``score``); in a domain-routed ensemble only the
            member that judged the image.
        error: why the image could not be scored, naming the file; ``None`` when it was.
        calibrated_probability: P(fake) whatever the threshold, Platt-scaled on labelled validation data when
            available (the number to average or to check calibration with); ``None`` on error.
        in_domain: whether the image looks like the detector's training images (``domain.safetensors``);
            ``None`` when the repo has no domain description or the image was not scored. When ``False`` the
            verdict is unreliable: the members of a weighted ensemble share one training set, so the whole verdict
            is marked; a domain-routed ensemble leaves the member out of its domain out, and this is the domain
            check of the member that judged the image.
        domain_note: why the image is out of domain, in words; ``None`` otherwise.
        calibration_domain: which calibration gave ``threshold`` and the probabilities: ``"in-domain"`` (the
            detector's own validation data) or ``"out-of-domain"`` (validation images its domain check rejects,
            used for images out of its domain when the repo has such a calibration); in a domain-routed ensemble,
            the name of the member that judged the image; ``None`` on error.
    """

    source: str
    score: Optional[float]
    is_fake: Optional[bool]
    threshold: float
    threshold_name: str
    probability: Optional[float] = None
    member_scores: dict[str, float] = field(default_factory=dict)
    error: Optional[str] = None
    calibrated_probability: Optional[float] = None
    in_domain: Optional[bool] = None
    domain_note: Optional[str] = None
    calibration_domain: Optional[str] = None

    def __iter__(self) -> Iterator[Any]:
        yield self.score
        yield self.is_fake

    @property
    def label(self) -> str:
        """``"fake"``, ``"real"`` or ``"error"``."""
        if self.error is not None:
            return "error"
        return "fake" if self.is_fake else "real"

    @property
    def confidence(self) -> Optional[float]:
        """The shown probability of the verdict's own label (``probability`` for fakes, ``1 - probability`` for
        reals): always at least 0.5; ``None`` on error."""
        if self.probability is None:
            return None
        return self.probability if self.is_fake else 1.0 - self.probability

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-serialisable dict (one row of ``results.jsonl``)."""
        row = asdict(self)
        row["label"] = self.label
        row["confidence"] = self.confidence
        return row

    def as_pipeline_output(self) -> list[dict[str, Any]]:
        """``[{"label": ..., "score": ...}, ...]`` with the verdict first, then the other label.

        The same shape as the transformers image-classification pipeline (feeds ``gradio.Label``); the scores are
        the shown probabilities, so the top label is always the verdict.
        """
        if self.probability is None:
            raise ValueError(f"no prediction for {self.source}: {self.error}")
        fake = {"label": "fake", "score": self.probability}
        real = {"label": "real", "score": 1.0 - self.probability}
        return [fake, real] if self.is_fake else [real, fake]

