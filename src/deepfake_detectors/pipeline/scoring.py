"""Scoring: decode images in bounded batches, run the voting members, calibrate and combine their scores.

:class:`EnsembleScoring` is the scoring part of :class:`~deepfake_detectors.EnsembleDeepfakeDetector`. Images are
decoded one batch ahead in a background thread; a batch never holds more than :data:`BATCH_BYTE_BUDGET` bytes of
pixels; an image that cannot be read or scored gets an error naming it and the others are scored.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from ..configuration.ensemble import DeepfakeEnsembleConfig
from ..domain import DomainDescription, image_statistics
from ..features import FeatureCache
from ..features.complexity import compressed_bits_per_dimension
from ..processing import DeepfakeImageProcessor, ImageInput, ImageLoadError, describe_source, load_image, mean_luma
from ..processing_crops import NativeCropImageProcessor

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


class EnsembleScoring:
    """The scoring part of :class:`~deepfake_detectors.EnsembleDeepfakeDetector`: raw member scores, their
    calibrated weighted mean, and batched scoring of many images with per-image errors and domain checks."""

    config: DeepfakeEnsembleConfig
    members: dict[str, torch.nn.Module]
    processors: dict[str, DeepfakeImageProcessor]
    device: torch.device
    domain: Optional[DomainDescription]
    #: Each member's own domain description (read from its folder); a domain-routed ensemble uses the second's.
    member_domains: dict[str, DomainDescription]

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
        feature_caches: dict[tuple, FeatureCache] = {}
        bits_cache: dict[tuple[int, str, str], torch.Tensor] = {}
        crop_cache: dict[tuple, list] = {}
        scores = {}
        for name in self.members if members is None else members:
            model, processor = self.members[name], self.processors[name]
            if isinstance(processor, NativeCropImageProcessor):
                if processor.cache_key not in crop_cache:
                    crop_cache[processor.cache_key] = processor.crop_groups(images)
                scores[name] = self._native_crop_scores(
                    model, processor, crop_cache[processor.cache_key], feature_caches, len(images)
                )
                continue
            key = (processor.size, processor.resample)
            if key not in unit_cache:
                unit_cache[key] = processor.resize_to_unit_tensors(images)
            pixel_values = processor.normalise_tensor(unit_cache[key]).to(self.device)
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
        self,
        model: torch.nn.Module,
        processor: NativeCropImageProcessor,
        groups: list,
        feature_caches: dict[tuple, FeatureCache],
        count: int,
    ) -> np.ndarray:
        """Raw scores of a member on native-resolution crops: one forward pass per group of equal crop shapes.

        A model that combines crops itself (``takes_crops``: NPR, the photo autoencoder, ...) gets ``[n, K, 3, h, w]``;
        any other member scores every crop as an image of its own, and an image's score is the mean of its crops'
        scores. Members on hand-made features share one feature computation per group of crops.
        """
        scores = np.empty(count, dtype=np.float64)
        for group, (indices, crops) in enumerate(groups):
            if getattr(model, "takes_crops", False):
                pixel_values = processor.normalise_tensor(crops).to(self.device)
                scores[indices] = model.score(pixel_values).cpu().numpy()
                continue
            images, per_image = crops.flatten(0, 1), crops.shape[1]
            extra = {}
            if getattr(model, "accepts_feature_cache", False) and processor.is_identity_normalisation:
                key = (processor.cache_key, group)
                if key not in feature_caches:
                    feature_caches[key] = FeatureCache(images.to(self.device))
                extra["feature_cache"] = feature_caches[key]
            crop_scores = model.score(processor.normalise_tensor(images).to(self.device), **extra)
            scores[indices] = crop_scores.view(len(indices), per_image).mean(dim=1).cpu().numpy()
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
            calibrated[name] = member_calibration.standardise(raw_scores[name])
            total = total + member["weight"] * calibrated[name]
            weight_sum += member["weight"]
        if weight_sum <= 0:
            raise ValueError("the member weights sum to zero")
        return np.asarray(total / weight_sum, dtype=np.float64), calibrated

    def score_batches(
        self, images: Sequence[ImageInput], batch_size: int = 64
    ) -> Iterator[tuple[range, np.ndarray, dict[str, np.ndarray], list[Optional[str]], list[Optional[tuple]]]]:
        """Score images batch by batch, as each batch is done: ``(positions, combined, members, errors, domain)``.

        ``positions`` are the batch's indices into ``images``; the arrays hold NaN where an image failed (and, in a
        domain-routed ensemble, where a member did not judge the image) and ``errors`` the message naming it (else
        ``None``); ``domain`` holds ``(in_domain, note, log-likelihood)`` per image (domain-routed: a fourth item,
        whether the second member judged it), or ``None`` (no domain description, or the image failed). One
        background thread decodes the next batch while this one is scored (Pillow releases the GIL).
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
                domain = self._domain_checks(positions, indices, loaded)
                routes = [domain[index - positions.start] for index in indices] if self.config.routed else None
                scored = self._score_loaded(indices, loaded, failures, names, routes)
                for kept, batch_combined, batch_members in scored:
                    local = [index - positions.start for index in kept]
                    combined[local] = batch_combined
                    for name, values in batch_members.items():
                        members[name][local] = values
                errors = [failures.get(index) for index in positions]
                domain = [None if errors[local] else check for local, check in enumerate(domain)]
                del loaded  # this batch's pixels go before the next batch is waited for
                if not overlap and end < len(images):
                    pending = loader.submit(_load_batch, images, end, batch_size, min_size)
                yield positions, combined, members, errors, domain

    def judging_members(self, image: Image.Image) -> list[str]:
        """The members whose scores make up a loaded image's verdict: all voting members, or in a domain-routed
        ensemble the one that judges this image.

        Example:
            >>> detector.judging_members(load_image("examples/photo_real_01.jpg"))  # doctest: +SKIP
            ['npr']
        """
        if not self.config.routed:
            return self.voting_members
        check = self._domain_checks(range(1), [0], [image])[0]
        return [self.config.member_names[1 if check[3] else 0]]

    def _domain_checks(self, positions: range, indices: list[int], loaded: list[Image.Image]) -> list[Optional[tuple]]:
        """Each loaded image's ``(in_domain, note, log-likelihood)``; a domain-routed ensemble adds whether its second
        member judges the image (outside the first member's domain), and the check is that member's own."""
        checks: list[Optional[tuple]] = [None] * len(positions)
        if self.config.routed and self.domain is None:
            raise ValueError("a domain-routed ensemble needs the domain description of its first member "
                             "(domain.safetensors in the repo folder)")
        too_small = self._enlarged_beyond_judgement(loaded)
        if (self.domain is None and not any(too_small)) or not indices:
            return checks
        if self.domain is None:  # no description: only the images too small to judge get a check
            rows = [None] * len(loaded)
        else:
            statistics = image_statistics(loaded)
            inside, notes, likelihoods = self.domain.assess(statistics)
            rows = [(bool(ok), note, float(likelihood)) for ok, note, likelihood in zip(inside, notes, likelihoods)]
        rows = [(False, note, row[2] if row else float("nan")) if note else row for row, note in zip(rows, too_small)]
        if self.config.routed:
            second = self.member_domains.get(self.config.member_names[1])
            judged_by_second = ~np.asarray(inside, bool)
            rows = [(True, None, row[2], False) for row in rows]
            if judged_by_second.any():
                picked = np.flatnonzero(judged_by_second)
                if second is None:  # the second member knows no domain: every image it judges is "in" it
                    for position in picked:
                        rows[position] = (True, None, float("nan"), True)
                else:
                    ok, notes, likelihoods = second.assess(statistics[picked])
                    for position, own_ok, note, likelihood in zip(picked, ok, notes, likelihoods):
                        rows[position] = (bool(own_ok), note, float(likelihood), True)
        for index, row in zip(indices, rows):
            checks[index - positions.start] = row
        return checks

    @property
    def min_judged_side(self) -> int:
        """The shortest image side this detector can judge: the crop of a voting member that cannot judge enlarged
        images (``judges_enlarged_images = False``, its processor upscaling smaller images), else 0 (any size).
        Always 0 for routed ensembles (their members' own checks route the images)."""
        if self.config.routed:
            return 0
        crop = 0
        for name in self.voting_members:
            processor = self.processors.get(name)
            if not getattr(self.members[name], "judges_enlarged_images", True) and getattr(processor, "upscale_small", False):
                crop = max(crop, int(processor.crop_size))
        return crop

    def _enlarged_beyond_judgement(self, loaded: list[Image.Image]) -> list[Optional[str]]:
        """For each loaded image, why it is out of domain because it is smaller than the crop of a voting member
        that cannot judge enlarged images (``judges_enlarged_images = False``: its processor would upscale it, and
        enlarged pixels are what that detector reads as generated), else ``None``. Not for routed ensembles."""
        crop = self.min_judged_side
        return [
            f"smaller than the {crop} px crop this detector scores (it would be enlarged, and enlarged pixels look "
            f"generated to it): {image.width} x {image.height} px"
            if crop and min(image.size) < crop else None
            for image in loaded
        ]

    def _score_loaded(
        self,
        indices: list[int],
        loaded: list[Image.Image],
        failures: dict[int, str],
        names: Sequence[str],
        routes: Optional[list[tuple]] = None,
    ) -> Iterator[tuple[list[int], np.ndarray, dict[str, np.ndarray]]]:
        """Combined and member scores of loaded images: each group at once (the whole batch; in a domain-routed
        ensemble, the images of each member), or (if a member cannot score one of them, e.g. a 5000 x 1 strip)
        image by image, the ones that fail recorded in ``failures``."""
        if not loaded:
            return
        if routes is None:
            groups = [(self.voting_members, indices, loaded)]
        else:
            groups = []
            for position, name in enumerate(self.config.member_names):
                chosen = [slot for slot, route in enumerate(routes) if bool(route[3]) == bool(position)]
                if chosen:
                    groups.append(([name], [indices[slot] for slot in chosen], [loaded[slot] for slot in chosen]))
        for member_names, group_indices, group_images in groups:
            try:
                yield (group_indices, *self._combine_loaded(group_images, member_names))
                continue
            except (ValueError, RuntimeError, IndexError):
                pass  # find the image(s) that cannot be scored; the others are scored one by one
            for index, image in zip(group_indices, group_images):
                try:
                    yield ([index], *self._combine_loaded([image], member_names))
                except (ValueError, RuntimeError, IndexError) as error:
                    failures[index] = f"cannot score image {names[index]!r}: {error}"

    def _combine_loaded(
        self, images: list[Image.Image], member_names: list[str]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(combined, calibrated member scores)`` of loaded images; a routed group has one member, whose
        calibrated score is the combined one."""
        raw = self.raw_member_scores(images, member_names)
        if self.config.routed:
            (name,) = member_names
            calibration = self.members[name].config.get_calibration()
            if calibration is None:
                raise ValueError(f"member {name!r} is not calibrated")
            standardised = np.asarray(calibration.standardise(raw[name]), dtype=np.float64)
            return standardised, {name: standardised}
        brightness = mean_luma(images) if self.config.brightness_normalisation else None
        return self.combine(raw, brightness)

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
            ``(in_domain, note, log-likelihood)`` or ``None`` per image.
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

