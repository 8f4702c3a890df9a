"""``EnsembleDeepfakeDetector``: load detectors, score images, calibrate, threshold, save and publish.

One class serves every use: an ensemble repo (``config.json`` with ``model_type = "deepfake-ensemble"`` and
``members/<name>/`` subfolders) or a single detector repo, which is wrapped as a one-member ensemble so that the
CLI, the Space and notebooks all call the same ``predict``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm
from transformers import AutoConfig, AutoImageProcessor, AutoModel

from .calibration import (
    BrightnessNormalisation,
    SCORE_PREFIX,
    ScoreCalibration,
    ThresholdSpec,
    logit,
    parse_number_threshold,
    shown_probability,
)
from .configuration.ensemble import DeepfakeEnsembleConfig
from .features import FeatureCache
from .features.complexity import compressed_bits_per_dimension
from .nested import iter_leaves
from .processing import (
    DeepfakeImageProcessor,
    ImageInput,
    ImageLoadError,
    describe_source,
    load_image,
    mean_luma,
)
from .domain import DOMAIN_FILE, DomainDescription, image_statistics
from .processing_crops import NativeCropImageProcessor

CALIBRATION_FILE = "thresholds_calibrated.json"
PathLike = Union[str, os.PathLike]


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
        member_scores: each member's calibrated score (same scale as ``score``).
        error: why the image could not be scored, naming the file; ``None`` when it was.
        calibrated_probability: P(fake) whatever the threshold, Platt-scaled on labelled validation data when
            available (the number to average or to check calibration with); ``None`` on error.
        in_domain: whether the image looks like the detector's training images (``domain.safetensors``);
            ``None`` when the repo has no domain description or the image was not scored. When ``False`` the
            verdict is unreliable: every member of our ensembles shares one training set, so the whole verdict
            is marked, not single members.
        domain_note: why the image is out of domain, in words; ``None`` otherwise.
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


#: Decoded pixels held by one batch at most (bytes); a batch of large photos ends early instead of growing.
BATCH_BYTE_BUDGET = 128 * 2**20


def _load_batch(
    images: Sequence[ImageInput], start: int, batch_size: int, min_size: Optional[int] = None
) -> tuple[list[int], list[Image.Image], dict[int, str], int, int]:
    """Load from ``images[start]`` on: (indices loaded, RGB images, {index: error message}, next start, bytes).

    A batch ends after ``batch_size`` inputs or once its decoded images hold :data:`BATCH_BYTE_BUDGET` bytes
    (at least one image always), so peak memory does not grow with the content of a batch. ``min_size`` is passed
    to :func:`~deepfake_detectors.load_image` (reduced decoding).
    """
    indices, loaded, failures, held = [], [], {}, 0
    index = start
    while index < min(start + batch_size, len(images)) and (held < BATCH_BYTE_BUDGET or index == start):
        try:
            image = load_image(images[index], min_size=min_size)
            loaded.append(image)
            indices.append(index)
            held += image.width * image.height * 3
        except ImageLoadError as error:
            failures[index] = str(error)
        index += 1
    return indices, loaded, failures, index, held


def resolve_model_dir(
    name_or_path: PathLike,
    *,
    revision: Optional[str] = None,
    token: Optional[str] = None,
    cache_dir: Optional[PathLike] = None,
    local_files_only: Optional[bool] = None,
) -> Path:
    """Return a local directory for a model: the directory itself, or a Hub snapshot (cache first when offline).

    Args:
        name_or_path: a local directory or a Hub repo id such as ``"user/deepfake-ensemble-detector"``.
        revision: a branch, tag or commit of the Hub repo.
        token: a Hub token for private repos.
        cache_dir: the Hugging Face cache to use.
        local_files_only: only look in the cache (also implied by ``HF_HUB_OFFLINE=1``).
    """
    path = Path(name_or_path)
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(
            snapshot_download(
                repo_id=str(name_or_path),
                revision=revision,
                token=token,
                cache_dir=cache_dir,
                local_files_only=bool(local_files_only),
            )
        )
    except Exception as error:  # noqa: BLE001 - report any lookup failure the same way
        raise OSError(
            f"{str(name_or_path)!r} is neither a local model directory nor a Hub repo that could be found "
            f"({type(error).__name__}: {error})"
        ) from error


#: One model load at a time in this process: transformers switches a process-wide default dtype while it builds
#: a model, so two loads in parallel threads (a Space's cold start) could leave the wrong default behind. Our
#: models are always built in float32 (``DeepfakeDetectorPreTrainedModel.from_pretrained``); the lock also
#: keeps other loads in the process (a user's own model) from interleaving with ours.
LOADING_LOCK = threading.RLock()


@contextlib.contextmanager
def loading_progress(show: bool) -> Iterator[None]:
    """transformers' "Loading weights" progress bars only when ``show``; the previous setting is restored."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    (hf_logging.enable_progress_bar if show else hf_logging.disable_progress_bar)()
    try:
        yield
    finally:
        (hf_logging.enable_progress_bar if was_enabled else hf_logging.disable_progress_bar)()


def load_member(
    directory: Path, device: Union[str, torch.device] = "cpu", progress: bool = False
) -> tuple[torch.nn.Module, Any]:
    """Load one detector and its image processor from a directory, refusing missing or unexpected weights.

    Never runs code from the repo (``trust_remote_code=False``: an unknown ``model_type`` is an error, never a
    prompt), and refuses non-finite fitted numbers (see :func:`check_finite_config`). Quiet unless ``progress``.
    """
    with LOADING_LOCK, loading_progress(progress):
        try:
            model, info = AutoModel.from_pretrained(directory, output_loading_info=True, trust_remote_code=False)
            processor = AutoImageProcessor.from_pretrained(directory, trust_remote_code=False)
        except (OSError, ValueError):
            raise
        except Exception as error:  # noqa: BLE001 - a damaged weights file can raise anything; name the folder
            raise OSError(f"cannot load the model in {directory}: {type(error).__name__}: {error}") from error
    problems = {key: sorted(info[key]) for key in ("missing_keys", "unexpected_keys", "mismatched_keys") if info[key]}
    if problems:
        raise OSError(f"weights in {directory} do not match the model: {problems}")
    check_finite_config(model.config, directory)
    for name, tensor in model.state_dict().items():  # fitted statistics (centres, means, covariances) too
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{directory}: {name} holds NaN or infinite values; the repo is damaged")
    return model.to(device).eval(), processor


def load_domain(root: Path) -> Optional[DomainDescription]:
    """The repo's ``domain.safetensors`` (see :mod:`deepfake_detectors.domain`), or ``None`` when it has none."""
    path = root / DOMAIN_FILE
    return DomainDescription.load(path) if path.is_file() else None


def check_finite_config(config: Any, where: Union[str, os.PathLike]) -> None:
    """Refuse a config whose fitted numbers (calibration, complexity or brightness correction) are not finite.

    A NaN threshold would call every image real without a word; this makes it a load error naming the repo.

    Raises:
        ValueError: naming the first non-finite value and the folder it came from.
    """
    fitted = {field: getattr(config, field, None) for field in ("calibration", "complexity_adjustment")}
    fitted["brightness_normalisation"] = getattr(config, "brightness_normalisation", None)
    fitted["members"] = [member.get("weight") for member in getattr(config, "members", None) or []]
    check_finite_numbers(fitted, where)


def check_finite_numbers(values: Any, where: Union[str, os.PathLike]) -> None:
    """Raise ``ValueError`` naming ``where`` and the key of the first NaN or infinite number in nested values."""
    for path, number in iter_leaves(values):
        if isinstance(number, (int, float)) and not isinstance(number, bool) and not math.isfinite(number):
            raise ValueError(f"{where}: {path.lstrip('.')} = {number} is not a finite number; the repo is damaged")


def member_directory(root: Path, member_path: str, hub: dict[str, Any]) -> Path:
    """Where an ensemble member lives: a folder inside the ensemble repo, or a Hub repo id ``owner/name``.

    Absolute paths and paths that climb out of the repo (``..``) are refused, so a downloaded repo cannot load
    models from elsewhere on this machine.

    Raises:
        ValueError: for a path outside the repo.
    """
    relative = Path(member_path)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"{root}: member path {member_path!r} points outside the repo; only paths inside it load")
    local = (root / relative).resolve()
    if local.is_dir():
        if root.resolve() not in (local, *local.parents):
            raise ValueError(f"{root}: member path {member_path!r} leads outside the repo (through a link)")
        return local
    return resolve_model_dir(member_path, **hub)


class EnsembleDeepfakeDetector:
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
        self._threshold: ThresholdSpec = config.default_threshold
        #: What the training images looked like (``domain.safetensors``); ``None``: no domain check.
        self.domain: Optional[DomainDescription] = None

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
        return f"{type(self).__name__}(members={list(self.members)}, weights={weights}, {threshold}, {calibrated})"

    # ------------------------------------------------------------------ loading and saving
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: PathLike,
        *,
        revision: Optional[str] = None,
        token: Optional[str] = None,
        cache_dir: Optional[PathLike] = None,
        local_files_only: Optional[bool] = None,
        device: Union[str, torch.device, None] = None,
        progress: bool = False,
    ) -> "EnsembleDeepfakeDetector":
        """Load an ensemble repo, or a single detector repo as a one-member ensemble.

        Args:
            pretrained_model_name_or_path: a local directory or a Hub repo id.
            revision: Hub revision; token: Hub token; cache_dir: Hugging Face cache.
            local_files_only: never use the network (``HF_HUB_OFFLINE=1`` does the same).
            device: ``"cpu"``, ``"cuda"``...; defaults to CUDA when available.
            progress: show transformers' weight-loading progress bars (quiet by default).

        Example:
            >>> detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-npr-detector")
            >>> detector
            EnsembleDeepfakeDetector(members=['npr'], weights=[1.0], threshold='balanced' (1.559), calibrated on 302 real + 369 fake validation images)
        """
        hub = dict(revision=revision, token=token, cache_dir=cache_dir, local_files_only=local_files_only)
        root = resolve_model_dir(pretrained_model_name_or_path, **hub)
        with LOADING_LOCK:
            config = AutoConfig.from_pretrained(root, trust_remote_code=False)
        if not isinstance(config, DeepfakeEnsembleConfig):
            return cls._from_single_detector(root, device, progress)
        check_finite_config(config, root)
        members, processors = {}, {}
        for member in config.members:
            member_dir = member_directory(root, member["path"], hub)
            members[member["name"]], processors[member["name"]] = load_member(member_dir, progress=progress)
        calibration_path = root / CALIBRATION_FILE
        calibration = None
        if calibration_path.exists():
            stored = json.loads(calibration_path.read_text())["ensemble"]
            check_finite_numbers({"ensemble": stored}, calibration_path)
            calibration = ScoreCalibration.from_dict(stored)
        detector = cls(config, members, processors, calibration, device=device)
        detector.domain = load_domain(root)
        return detector

    @classmethod
    def from_members(
        cls,
        members: dict[str, tuple[torch.nn.Module, DeepfakeImageProcessor]],
        weights: Optional[dict[str, float]] = None,
        weighting: Optional[str] = None,
        device: Union[str, torch.device, None] = None,
    ) -> "EnsembleDeepfakeDetector":
        """Build an (uncalibrated) ensemble from loaded detectors; call :meth:`calibrate` next.

        Args:
            members: ``{name: (model, image processor)}``.
            weights: ``{name: weight}``; equal weights when omitted.
            weighting: how the weights were chosen, in words (recorded in the config).
            device: where the members run.

        Example:
            >>> ensemble = EnsembleDeepfakeDetector.from_members({"autoencoder": (model, processor)})
        """
        weights = weights or {name: 1.0 for name in members}
        settings = {}
        if len(members) == 1:  # a single detector names its own default threshold (e.g. "optimal") in its config
            own_default = getattr(next(iter(members.values()))[0].config, "default_threshold", None)
            if own_default:
                settings["default_threshold"] = own_default
        config = DeepfakeEnsembleConfig(
            members=[{"name": name, "path": f"members/{name}", "weight": weights[name]} for name in members],
            weighting=weighting,
            **settings,
        )
        models = {name: model for name, (model, _) in members.items()}
        processors = {name: processor for name, (_, processor) in members.items()}
        calibration = None
        if len(models) == 1:  # one member: its own stored calibration is the ensemble's, on the normalised scale
            member_calibration = next(iter(models.values())).config.get_calibration()
            calibration = None if member_calibration is None else member_calibration.normalized()
        return cls(config, models, processors, calibration=calibration, device=device)

    @classmethod
    def _from_single_detector(
        cls, root: Path, device: Union[str, torch.device, None], progress: bool = False
    ) -> "EnsembleDeepfakeDetector":
        model, processor = load_member(root, progress=progress)
        name = model.config.model_type.removeprefix("deepfake-").replace("-", "_")
        detector = cls.from_members({name: (model, processor)}, device=device)
        detector.config.members[0]["path"] = "."
        detector.domain = load_domain(root)
        return detector

    def save_pretrained(self, save_directory: PathLike) -> Path:
        """Write ``config.json``, ``thresholds_calibrated.json`` and ``members/<name>/`` (safetensors + configs).

        Members are always written inside the ensemble folder, so the result is self-contained.
        """
        root = Path(save_directory)
        root.mkdir(parents=True, exist_ok=True)
        # Every setting is kept as it is; only the member paths change, to the subfolders written below.
        config = copy.deepcopy(self.config)
        config.members = [{**member, "path": f"members/{member['name']}"} for member in self.config.members]
        config.save_pretrained(root)
        for name, model in self.members.items():
            member_dir = root / "members" / name
            model.save_pretrained(member_dir)
            self.processors[name].save_pretrained(member_dir)
        self.save_thresholds(root)
        if self.domain is not None:
            self.domain.save(root / DOMAIN_FILE)
        self.config = config
        return root

    def save_thresholds(self, save_directory: PathLike) -> Optional[Path]:
        """Write ``thresholds_calibrated.json``: the named thresholds and statistics of the combined score and of
        each member (nothing when uncalibrated). :meth:`save_pretrained` calls it; a single-detector repo, whose
        calibration lives in its ``config.json``, gets the same file for readers of the repo.

        Returns:
            The path written, or ``None``.
        """
        if self.calibration is None:
            return None
        payload = {
            "ensemble": self.calibration.to_dict(),
            "members": {name: model.config.calibration for name, model in self.members.items()},
            "score_scale": "weighted mean of member scores in standard deviations above their real-validation mean",
        }
        path = Path(save_directory) / CALIBRATION_FILE
        path.write_text(json.dumps(payload, indent=2) + "\n")
        return path

    def push_to_hub(
        self,
        repo_id: str,
        *,
        token: Optional[str] = None,
        private: Optional[bool] = None,
        commit_message: str = "Upload deepfake detector",
        extra_files: Optional[PathLike] = None,
    ) -> str:
        """Upload the files :meth:`save_pretrained` writes (plus an optional folder of card and plots).

        Args:
            repo_id: ``"user/name"``; created if missing.
            token: a Hub token (defaults to ``HF_TOKEN`` / the saved login).
            private: create the repo as private.
            extra_files: a folder whose files are uploaded too (e.g. the model card and plots of ``hub_repos/``).

        Returns:
            The URL of the commit.
        """
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo_id, private=private, exist_ok=True)
        with tempfile.TemporaryDirectory() as staging:
            if extra_files is not None:
                import shutil

                shutil.copytree(extra_files, staging, dirs_exist_ok=True)
            self.save_pretrained(staging)
            commit = api.upload_folder(repo_id=repo_id, folder_path=staging, commit_message=commit_message)
        return str(commit)

    # ------------------------------------------------------------------ thresholds
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

    # ------------------------------------------------------------------ scoring
    @property
    def decode_min_size(self) -> Optional[int]:
        """How small a JPEG may be decoded (see :func:`~deepfake_detectors.load_image`): twice the largest input
        side of the members when every member resizes its input, ``None`` (every pixel) when one needs the
        native-resolution pixels."""
        sizes = [getattr(processor, "size", None) for processor in self.processors.values()]
        if any(size is None for size in sizes) or any(
            isinstance(processor, NativeCropImageProcessor) for processor in self.processors.values()
        ):
            return None
        return 2 * max(sizes)

    @property
    def voting_members(self) -> list[str]:
        """The members whose weight is above 0: the only ones run when scoring (a weight-0 member adds nothing)."""
        return [member["name"] for member in self.config.members if member.get("weight", 1.0) > 0]

    @torch.no_grad()
    def raw_member_scores(
        self, images: Sequence[Image.Image], members: Optional[Sequence[str]] = None
    ) -> dict[str, np.ndarray]:
        """Each member's raw score for already-loaded RGB images (one batch).

        Each image is resized once per distinct input size and shared by the members that use that size, and so
        are its hand-made features and its compressed size (for members with a complexity correction).

        Args:
            images: loaded RGB images.
            members: the members to run (default: all of them, as calibration and weighting need).
        """
        unit_cache: dict[tuple[int, str], torch.Tensor] = {}
        feature_caches: dict[tuple[int, str], FeatureCache] = {}
        bits_cache: dict[tuple[int, str, str], torch.Tensor] = {}
        scores = {}
        for name in self.members if members is None else members:
            model, processor = self.members[name], self.processors[name]
            if isinstance(processor, NativeCropImageProcessor):
                scores[name] = self._native_crop_scores(model, processor, images)
                continue
            key = (processor.size, processor.resample)
            if key not in unit_cache:
                unit_cache[key] = processor.unit_tensors(images)
            pixel_values = processor.normalize_tensor(unit_cache[key]).to(self.device)
            extra = {}
            if getattr(model, "accepts_feature_cache", False) and processor.is_identity_normalisation:
                # Members on hand-made features share one computation of each feature per input size.
                if key not in feature_caches:
                    feature_caches[key] = FeatureCache(unit_cache[key].to(self.device))
                extra["feature_cache"] = feature_caches[key]
            adjustment = model.config.get_complexity_adjustment()
            if adjustment is not None:
                bits_key = (*key, adjustment.compressor)
                if bits_key not in bits_cache:
                    bits_cache[bits_key] = compressed_bits_per_dimension(unit_cache[key], adjustment.compressor)
                extra["complexity_bits"] = bits_cache[bits_key]
            scores[name] = model.score(pixel_values, **extra).cpu().numpy().astype(np.float64)
        return scores

    def _native_crop_scores(
        self, model: torch.nn.Module, processor: NativeCropImageProcessor, images: Sequence[Image.Image]
    ) -> np.ndarray:
        """Raw scores of a member on native-resolution crops: one forward pass per group of equal crop shapes."""
        scores = np.empty(len(images), dtype=np.float64)
        for indices, crops in processor.crop_groups(images):
            pixel_values = processor.normalize_tensor(crops).to(self.device)
            scores[indices] = model.score(pixel_values).cpu().numpy()
        return scores

    def combine(
        self, raw_scores: dict[str, np.ndarray], brightness: Optional[np.ndarray] = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Calibrate each member's raw scores, take the weighted mean and, when the ensemble has a brightness
        normalisation, express it relative to real images of the same brightness.

        Args:
            raw_scores: ``{member: raw scores}``.
            brightness: the images' :func:`~deepfake_detectors.processing.mean_luma`; needed only with a
                brightness normalisation.

        Returns:
            ``(combined, calibrated)``: the combined scores and each member's calibrated scores.
        """
        combined, calibrated = self.weighted_mean(raw_scores)
        normalisation = self.config.get_brightness_normalisation()
        if normalisation is None:
            return combined, calibrated
        if brightness is None:
            raise ValueError("this ensemble normalises its score by brightness: pass the images' mean_luma")
        return normalisation.apply(combined, brightness), calibrated

    def weighted_mean(self, raw_scores: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Each member's calibrated scores and their weighted mean: ``(weighted mean, calibrated)``."""
        calibrated, total, weight_sum = {}, 0.0, 0.0
        for member in self.config.members:
            name = member["name"]
            if member["weight"] <= 0 and name not in raw_scores:  # not run: it has no say in the vote
                continue
            member_calibration = self.members[name].config.get_calibration()
            if member_calibration is None:
                raise ValueError(f"member {name!r} is not calibrated; run calibrate() first")
            calibrated[name] = member_calibration.normalize(raw_scores[name])
            total = total + member["weight"] * calibrated[name]
            weight_sum += member["weight"]
        if weight_sum <= 0:
            raise ValueError("the member weights sum to zero")
        return np.asarray(total / weight_sum, dtype=np.float64), calibrated

    def score_batches(
        self, images: Sequence[ImageInput], batch_size: int = 64
    ) -> Iterator[tuple[range, np.ndarray, dict[str, np.ndarray], list[Optional[str]], list[Optional[tuple]]]]:
        """Score images batch by batch, as each batch is done: ``(positions, combined, members, errors, domain)``.

        ``positions`` are the batch's indices into ``images``; the arrays hold NaN where an image failed and
        ``errors`` the message naming it (else ``None``); ``domain`` holds ``(in_domain, note)`` per image, or
        ``None`` (no domain description, or the image failed). One background thread decodes the next batch while
        this one is scored (Pillow releases the GIL).
        """
        min_size = self.decode_min_size
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepfake-load") as loader:
            start = 0
            pending = loader.submit(_load_batch, images, 0, batch_size, min_size) if len(images) else None
            while pending is not None:
                indices, loaded, failures, end, held = pending.result()
                pending = None
                # Decode the next batch during this one's scoring, unless this one alone fills the byte budget
                # (huge images): then one at a time, so two of them are never in memory together.
                overlap = end < len(images) and held < BATCH_BYTE_BUDGET
                if overlap:
                    pending = loader.submit(_load_batch, images, end, batch_size, min_size)
                positions = range(start, end)
                start = end
                combined = np.full(len(positions), np.nan)
                members = {name: np.full(len(positions), np.nan) for name in self.voting_members}
                names = {index: describe_source(images[index]) for index in indices}
                for kept, batch_combined, batch_members in self._score_loaded(indices, loaded, failures, names):
                    local = [index - positions.start for index in kept]
                    combined[local] = batch_combined
                    for name, values in batch_members.items():
                        members[name][local] = values
                errors = [failures.get(index) for index in positions]
                domain = self._domain_checks(positions, indices, loaded)
                del loaded  # this batch's pixels go before the next batch is waited for
                if not overlap and end < len(images):
                    pending = loader.submit(_load_batch, images, end, batch_size, min_size)
                yield positions, combined, members, errors, domain

    def _domain_checks(self, positions: range, indices: list[int], loaded: list[Image.Image]) -> list[Optional[tuple]]:
        checks: list[Optional[tuple]] = [None] * len(positions)
        if self.domain is None or not indices:
            return checks
        inside, notes = self.domain.check(image_statistics(loaded))
        for index, ok, note in zip(indices, inside, notes):
            checks[index - positions.start] = (bool(ok), note)
        return checks

    def _score_loaded(
        self, indices: list[int], loaded: list[Image.Image], failures: dict[int, str], names: Sequence[str]
    ) -> Iterator[tuple[list[int], np.ndarray, dict[str, np.ndarray]]]:
        """Combined and member scores of loaded images: the batch at once, or (if a member cannot score one of
        them, e.g. a 5000 x 1 strip) image by image, the ones that fail recorded in ``failures``."""
        if not loaded:
            return
        try:
            brightness = mean_luma(loaded) if self.config.brightness_normalisation else None
            yield (indices, *self.combine(self.raw_member_scores(loaded, self.voting_members), brightness))
            return
        except (ValueError, RuntimeError, IndexError):
            pass  # find the image(s) that cannot be scored; the others are scored one by one
        for index, image in zip(indices, loaded):
            try:
                brightness = mean_luma([image]) if self.config.brightness_normalisation else None
                yield ([index], *self.combine(self.raw_member_scores([image], self.voting_members), brightness))
            except (ValueError, RuntimeError, IndexError) as error:
                failures[index] = f"cannot score image {names[index]!r}: {error}"

    def score_images(
        self,
        images: Sequence[ImageInput],
        batch_size: int = 64,
        progress: bool = False,
        return_domain: bool = False,
    ) -> tuple:
        """Score many images, skipping unreadable ones.

        Args:
            images: paths, PIL images or arrays.
            batch_size: images per forward pass.
            progress: show a progress bar.
            return_domain: also return the domain check of each image.

        Returns:
            ``(combined, calibrated_members, errors)``: arrays with NaN where an image failed, and per image
            ``None`` or the error message naming the file; with ``return_domain``, a fourth list of
            ``(in_domain, note)`` or ``None`` per image.
        """
        count = len(images)
        combined = np.full(count, np.nan)
        members = {name: np.full(count, np.nan) for name in self.voting_members}
        errors: list[Optional[str]] = [None] * count
        domain: list[Optional[tuple]] = [None] * count
        with tqdm(total=count, desc="scoring", unit="img", disable=not progress) as bar:
            for positions, batch_combined, batch_members, batch_errors, batch_domain in self.score_batches(
                images, batch_size
            ):
                combined[positions.start : positions.stop] = batch_combined
                for name, values in batch_members.items():
                    members[name][positions.start : positions.stop] = values
                errors[positions.start : positions.stop] = batch_errors
                domain[positions.start : positions.stop] = batch_domain
                bar.update(len(positions))
        return (combined, members, errors, domain) if return_domain else (combined, members, errors)

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
        value, name = self.threshold if threshold is None else self._resolve_threshold(threshold)
        for positions, combined, members, errors, domain in self.score_batches(images, batch_size):
            probabilities = self.probability(combined)
            yield [
                self._result(images[index], combined[local], probabilities[local],
                             {member: values[local] for member, values in members.items()}, errors[local], value, name,
                             domain[local])
                for local, index in enumerate(positions)
            ]

    def shown_probability(self, combined: np.ndarray, threshold: float) -> np.ndarray:
        """The P(fake) shown with a verdict at ``threshold``: 50% exactly at the threshold (see
        :func:`~deepfake_detectors.calibration.shown_probability`)."""
        slope = 1.0 if self.calibration is None else self.calibration.slope
        return shown_probability(combined, threshold, slope)

    def _result(
        self,
        image: ImageInput,
        score: float,
        calibrated_probability: float,
        member_scores: dict[str, float],
        error: Optional[str],
        threshold: float,
        threshold_name: str,
        domain: Optional[tuple] = None,
    ) -> DetectionResult:
        source = describe_source(image)
        if error is not None or not math.isfinite(score):
            return DetectionResult(source, None, None, threshold, threshold_name, error=error or "not scored")
        return DetectionResult(
            source=source,
            score=float(score),
            is_fake=bool(score >= threshold),
            threshold=threshold,
            threshold_name=threshold_name,
            probability=float(self.shown_probability(np.array([score]), threshold)[0]),
            member_scores={member: float(value) for member, value in member_scores.items()},
            calibrated_probability=float(calibrated_probability),
            in_domain=None if domain is None else domain[0],
            domain_note=None if domain is None else domain[1],
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
        value, name = self.threshold if threshold is None else self._resolve_threshold(threshold)
        combined, members, errors, domain = self.score_images(
            to_score, batch_size=batch_size, progress=progress, return_domain=True
        )
        probabilities = self.probability(combined)
        results = [
            self._result(image, combined[index], probabilities[index],
                         {member: values[index] for member, values in members.items()}, errors[index], value, name,
                         domain[index])
            for index, image in enumerate(batch)
        ]
        return results[0] if single else results

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

    # ------------------------------------------------------------------ calibration
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
