"""Loading and saving: find a repo (local folder or Hub), load its detectors safely, write and publish it.

:class:`EnsembleIO` is the loading-and-saving part of :class:`~deepfake_detectors.EnsembleDeepfakeDetector`;
the functions here are also used on their own (``load_member`` loads one detector folder).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union

import torch
from transformers import AutoConfig, AutoImageProcessor, AutoModel

from ..calibration import ScoreCalibration
from ..configuration.ensemble import DeepfakeEnsembleConfig
from ..domain import DOMAIN_FILE, DomainDescription
from ..nested import iter_leaves
from ..processing import DeepfakeImageProcessor
from ..registry import REGISTRY

if TYPE_CHECKING:
    from .detector import EnsembleDeepfakeDetector

CALIBRATION_FILE = "thresholds_calibrated.json"
PathLike = Union[str, os.PathLike]


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
    fields = ("calibration", "out_of_domain_calibration", "complexity_adjustment")
    fitted = {field: getattr(config, field, None) for field in fields}
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


class EnsembleIO:
    """Loading and saving of :class:`~deepfake_detectors.EnsembleDeepfakeDetector` (Hub I/O).

    ``from_pretrained`` reads an ensemble repo (``config.json`` with ``model_type = "deepfake-ensemble"`` and
    ``members/<name>/``) or a single detector repo, wrapped as a one-member ensemble; ``save_pretrained`` writes a
    self-contained ensemble folder; ``push_to_hub`` uploads it.
    """

    config: DeepfakeEnsembleConfig
    members: dict[str, torch.nn.Module]
    processors: dict[str, DeepfakeImageProcessor]
    calibration: Optional[ScoreCalibration]
    out_of_domain_calibration: Optional[ScoreCalibration]
    domain: Optional[DomainDescription]
    member_domains: dict[str, DomainDescription]
    #: The folder each member was loaded from (a routed ensemble copies its weights files from there when saved).
    member_sources: dict[str, Path]

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
        members, processors, member_domains, sources = {}, {}, {}, {}
        for member in config.members:
            member_dir = member_directory(root, member["path"], hub)
            sources[member["name"]] = member_dir
            members[member["name"]], processors[member["name"]] = load_member(member_dir, progress=progress)
            if (own_domain := load_domain(member_dir)) is not None:
                member_domains[member["name"]] = own_domain
        calibration_path = root / CALIBRATION_FILE
        calibration, out_of_domain = None, None
        if calibration_path.exists():
            stored = json.loads(calibration_path.read_text())
            check_finite_numbers({key: stored.get(key) for key in ("ensemble", "out_of_domain")}, calibration_path)
            calibration = ScoreCalibration.from_dict(stored["ensemble"])
            if stored.get("out_of_domain") is not None:
                out_of_domain = ScoreCalibration.from_dict(stored["out_of_domain"])
        detector = cls(config, members, processors, calibration, device=device)
        detector.out_of_domain_calibration = out_of_domain
        detector.domain = load_domain(root)
        detector.member_domains = member_domains
        detector.member_sources = sources
        if config.routed and (detector.domain is None or out_of_domain is None):
            raise OSError(f"{root}: a domain-routed ensemble needs domain.safetensors and both members' calibrations "
                          f"in {CALIBRATION_FILE}; the repo is incomplete")
        return detector

    @classmethod
    def route_by_domain(
        cls, first: PathLike, second: PathLike, device: Union[str, torch.device, None] = None
    ) -> "EnsembleDeepfakeDetector":
        """Join two calibrated single-detector repos into a domain-routed ensemble: the first judges the images its
        domain description accepts, the second every other image, each with its own calibration and thresholds.

        Nothing is refitted: each image gets exactly the score, threshold and P(fake) the member that judged it
        would give on its own. Until a threshold is chosen each member keeps its own default threshold.

        Args:
            first: the repo of the detector for the images in its domain (needs ``domain.safetensors``).
            second: the repo of the detector for every other image (its own domain, if it has one, still marks the
                images unlike its training images).
            device: where the members run.

        Raises:
            ValueError: when a repo is an ensemble, is not calibrated, or the first has no domain description.

        Example:
            >>> detector = EnsembleDeepfakeDetector.route_by_domain(
            ...     "hub_repos/deepfake-efficientnet", "hub_repos/deepfake-npr-detector")  # doctest: +SKIP
        """
        judges = [cls.from_pretrained(path, device=device) for path in (first, second)]
        for path, judge in zip((first, second), judges):
            if len(judge.members) != 1 or judge.calibration is None:
                raise ValueError(f"{path}: route_by_domain joins two calibrated single-detector repos")
        if judges[0].domain is None:
            raise ValueError(f"{first}: the first detector needs a domain description (domain.safetensors)")
        names = [next(iter(judge.members)) for judge in judges]
        if names[0] == names[1]:
            raise ValueError(f"both repos hold a {names[0]!r} detector; a routed ensemble needs two different names")
        defaults = [judge.config.default_threshold for judge in judges]
        config = DeepfakeEnsembleConfig(
            members=[{"name": name, "path": f"members/{name}", "weight": 1.0, "default_threshold": default}
                     for name, default in zip(names, defaults)],
            combination="domain_routed",
            default_threshold=defaults[0],
            weighting=f"domain-routed: {names[0]} judges the images in its domain, {names[1]} all others",
        )
        members = {name: judge.members[name] for name, judge in zip(names, judges)}
        processors = {name: judge.processors[name] for name, judge in zip(names, judges)}
        detector = cls(config, members, processors, calibration=judges[0].calibration, device=device)
        detector.out_of_domain_calibration = dataclasses.replace(judges[1].calibration, applies_below=None)
        detector.domain = judges[0].domain
        detector.member_domains = {name: judge.domain for name, judge in zip(names, judges) if judge.domain is not None}
        detector.member_sources = {name: judge.member_sources[name] for name, judge in zip(names, judges)}
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
            >>> ensemble = EnsembleDeepfakeDetector.from_members({"residual_autoencoder": (model, processor)})
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
        calibration, out_of_domain = None, None
        if len(models) == 1:  # one member: its own stored calibrations are the ensemble's, on the normalised scale
            member_config = next(iter(models.values())).config
            member_calibration, member_out_of_domain = (
                member_config.get_calibration(), member_config.get_out_of_domain_calibration()
            )
            if member_calibration is not None:
                calibration = member_calibration.standardised()
                if member_out_of_domain is not None:
                    out_of_domain = member_out_of_domain.rescaled(member_calibration.mean, member_calibration.std)
        detector = cls(config, models, processors, calibration=calibration, device=device)
        detector.out_of_domain_calibration = out_of_domain
        return detector

    @classmethod
    def _from_single_detector(
        cls, root: Path, device: Union[str, torch.device, None], progress: bool = False
    ) -> "EnsembleDeepfakeDetector":
        model, processor = load_member(root, progress=progress)
        model_type = model.config.model_type
        name = REGISTRY[model_type].name if model_type in REGISTRY else model_type.removeprefix("deepfake-").replace("-", "_")
        detector = cls.from_members({name: (model, processor)}, device=device)
        detector.config.members[0]["path"] = "."
        detector.domain = load_domain(root)
        detector.member_sources = {name: root}
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
            source = self.member_sources.get(name) if self.config.routed else None
            if source is not None:  # a routed member never changes: its weights files as published (e.g. float16)
                model.config.save_pretrained(member_dir)
                for weights in [*source.glob("*.safetensors"), *source.glob("*.skops")]:
                    target = member_dir / weights.name
                    if weights.name != DOMAIN_FILE and weights.resolve() != target.resolve():  # saved where it was
                        shutil.copyfile(weights, target)
            else:
                model.save_pretrained(member_dir)
            self.processors[name].save_pretrained(member_dir)
            if name in self.member_domains:
                self.member_domains[name].save(member_dir / DOMAIN_FILE)
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
            **({} if self.out_of_domain_calibration is None else
               {"out_of_domain": self.out_of_domain_calibration.to_dict()}),
            "members": {name: model.config.calibration for name, model in self.members.items()},
            "score_scale": (
                "the calibrated score of the member that judged the image (ensemble: the first member's, for images "
                "in its domain; out_of_domain: the second member's, for all others), in standard deviations above "
                "that member's real-validation mean"
                if self.config.routed
                else "weighted mean of member scores in standard deviations above their real-validation mean"
            ),
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
                shutil.copytree(extra_files, staging, dirs_exist_ok=True)
            self.save_pretrained(staging)
            commit = api.upload_folder(repo_id=repo_id, folder_path=staging, commit_message=commit_message)
        return str(commit)
