"""Configuration of an ensemble of detectors (:class:`~deepfake_detectors.EnsembleDeepfakeDetector`)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from transformers import PreTrainedConfig

from ..calibration import DEFAULT_THRESHOLD, BrightnessNormalisation
from .base import ID2LABEL, LABEL2ID


#: How an ensemble turns member scores into one score per image (see :class:`DeepfakeEnsembleConfig`).
COMBINATIONS = ("weighted_mean", "domain_routed")


class DeepfakeEnsembleConfig(PreTrainedConfig):
    r"""Which members an ensemble has, where they live and how their scores are combined.

    Each member's raw score is calibrated against that member's real-validation statistics (expressed in
    standard deviations above the real mean), then the calibrated scores are combined by a weighted mean.

    Args:
        members (`list[dict]`): one entry per member with keys ``name``, ``path`` (a subfolder of the ensemble
            repo such as ``"members/residual_autoencoder"``, a local directory, or a Hub repo id) and ``weight``.
        combination (`str`, defaults to `"weighted_mean"`): how calibrated member scores are combined:
            ``"weighted_mean"`` (every member scores every image), or ``"domain_routed"`` (exactly two members:
            the first judges the images its own domain description accepts, the second every other image; each
            image's score, threshold and P(fake) are those of the member that judged it, so weights are unused).
        default_threshold (`str`, defaults to `"balanced"`): the named threshold used until ``set_threshold``.
        weighting (`str`, *optional*): how the weights were chosen, in words (shown in the model card).
        brightness_normalisation (`dict`, *optional*): a fitted
            :class:`~deepfake_detectors.calibration.BrightnessNormalisation` (as its ``to_dict``): the combined
            score is then expressed relative to real validation images of the same mean luma, before the named
            thresholds. `None` leaves the weighted mean as it is.

    Example:
        >>> member = {"name": "residual_autoencoder", "path": "members/residual_autoencoder", "weight": 0.5}
        >>> DeepfakeEnsembleConfig(members=[member]).member_names
        ['residual_autoencoder']
    """

    model_type = "deepfake-ensemble"

    def __init__(
        self,
        members: Optional[Sequence[dict[str, Any]]] = None,
        combination: str = "weighted_mean",
        default_threshold: str = DEFAULT_THRESHOLD,
        weighting: Optional[str] = None,
        brightness_normalisation: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        members = [dict(member) for member in (members or [])]
        seen: set[str] = set()
        for member in members:
            if "name" not in member or "path" not in member:
                raise ValueError(f"each member needs a 'name' and a 'path', got {member}")
            if member["name"] in seen:
                raise ValueError(f"duplicate member name {member['name']!r}")
            seen.add(member["name"])
            member["weight"] = float(member.get("weight", 1.0))
            if member["weight"] < 0:
                raise ValueError(f"member weights must be >= 0, got {member['weight']} for {member['name']!r}")
        if combination not in COMBINATIONS:
            raise ValueError(f"unsupported combination {combination!r}; choose one of {COMBINATIONS}")
        if combination == "domain_routed" and len(members) != 2:
            raise ValueError(f"a 'domain_routed' ensemble has exactly two members, got {len(members)}")
        if combination == "domain_routed" and brightness_normalisation is not None:
            raise ValueError("a 'domain_routed' ensemble uses its members' own calibrations: no brightness normalisation")
        self.members = members
        self.combination = combination
        self.default_threshold = default_threshold
        self.weighting = weighting
        if brightness_normalisation is not None:
            brightness_normalisation = BrightnessNormalisation.from_dict(brightness_normalisation).to_dict()
        self.brightness_normalisation = brightness_normalisation
        kwargs.setdefault("id2label", dict(ID2LABEL))
        kwargs.setdefault("label2id", dict(LABEL2ID))
        super().__init__(**kwargs)

    @property
    def member_names(self) -> list[str]:
        """Names of the members, in order."""
        return [member["name"] for member in self.members]

    @property
    def routed(self) -> bool:
        """Whether each image is judged by one member chosen by domain (``combination == "domain_routed"``)."""
        return self.combination == "domain_routed"

    def get_brightness_normalisation(self) -> Optional[BrightnessNormalisation]:
        """The fitted brightness normalisation of the combined score, or `None`."""
        if self.brightness_normalisation is None:
            return None
        return BrightnessNormalisation.from_dict(self.brightness_normalisation)
