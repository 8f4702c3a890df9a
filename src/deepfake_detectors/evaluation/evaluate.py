"""Evaluate a detector on a labelled dataset: metrics, per-member figures, plots, robustness, ``results.json``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
from PIL import Image, ImageFilter

from ..processing import ImageLoadError, load_image, mean_luma
from .data import load_labelled_images
from .metrics import detection_metrics, expected_calibration_error, group_metrics, member_metrics
from .plots import save_evaluation_plots
from .shortcuts import shortcut_baselines


def _jpeg(quality: int) -> Callable[[Image.Image], Image.Image]:
    def perturb(image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

    return perturb


def _downscale(image: Image.Image) -> Image.Image:
    return image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.BICUBIC)


def _blur(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius=1.0))


#: The perturbations of the robustness sweep, by name.
PERTURBATIONS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "jpeg_90": _jpeg(90),
    "jpeg_75": _jpeg(75),
    "jpeg_50": _jpeg(50),
    "downscale_2x": _downscale,
    "gaussian_blur_1": _blur,
}


def leave_one_out(
    detector: Any, labels: np.ndarray, member_scores: dict[str, np.ndarray], brightness: Optional[np.ndarray] = None
) -> dict[str, dict]:
    """AUROC of the weighted combination without each member, next to the full ensemble's.

    ``delta_auroc`` > 0 means the member helps (removing it lowers the AUROC). With ``brightness`` (the images'
    mean luma) the ensemble's brightness normalisation, if it has one, is applied to every combination, as in
    :meth:`~deepfake_detectors.EnsembleDeepfakeDetector.combine`.
    """
    from sklearn.metrics import roc_auc_score

    weights = {member["name"]: member["weight"] for member in detector.config.members}
    normalisation = None
    if brightness is not None and hasattr(detector.config, "get_brightness_normalisation"):
        normalisation = detector.config.get_brightness_normalisation()

    def combined_auroc(names: list[str]) -> float:
        total = sum(weights[name] for name in names)
        if total <= 0:
            return float("nan")
        scores = sum(weights[name] * member_scores[name] for name in names) / total
        if normalisation is not None:
            scores = normalisation.apply(scores, brightness)
        return float(roc_auc_score(labels, scores))

    everyone = list(member_scores)
    full = combined_auroc(everyone)
    table = {}
    for name in everyone:
        without = combined_auroc([other for other in everyone if other != name])
        table[name] = {"auroc_without": without, "delta_auroc": full - without}
    return table


def evaluate_detector(
    detector: Any,
    dataset: str,
    split: str = "test",
    limit: Optional[int] = None,
    output_dir: Optional[str] = None,
    batch_size: int = 64,
    model_name: Optional[str] = None,
    robustness: bool = False,
    progress: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Score a labelled dataset with a detector and compute every figure of ``results.json``.

    Args:
        detector: an :class:`~deepfake_detectors.EnsembleDeepfakeDetector` (its current threshold is used).
        dataset: a `datasets` directory or repo id with ``image`` / ``label`` columns, or a real/ fake/ folder.
        split: the split to evaluate.
        limit: at most this many images (stratified, deterministic).
        output_dir: where ``results.json`` and the PNG plots go (nothing is written when ``None``).
        batch_size: images per forward pass.
        model_name: recorded in the results (defaults to the detector's class name).
        robustness: also report accuracy / recall / AUROC after each perturbation in :data:`PERTURBATIONS`.
        progress: show progress bars.
        seed: seed of the ``limit`` subsample.

    Returns:
        The results dict (also written to ``output_dir/results.json``).

    Example:
        >>> results = evaluate_detector(detector, "../shared/data/cifake", "test", limit=200)
        >>> sorted(results)[:3]
        ['accuracy', 'auroc', 'average_precision']
    """
    data = load_labelled_images(dataset, split=split, limit=limit, seed=seed)
    images: list[Any] = []
    for image in data.images:  # decode once; a bad file is scored as an error, the rest go on
        try:
            images.append(load_image(image, min_size=getattr(detector, "decode_min_size", None)))
        except ImageLoadError:
            images.append(image)
    threshold, threshold_name = detector.threshold
    scores, members, errors, domain = detector.score_images(
        images, batch_size=batch_size, progress=progress, return_domain=True
    )
    ok = np.isfinite(scores)
    labels = data.labels[ok]
    results: dict[str, Any] = {
        "model": model_name or type(detector).__name__,
        "dataset": str(dataset),
        "split": split,
        "limit": limit,
        # float32 unless set_precision("bfloat16") was called: the published figures are float32.
        "inference_precision": getattr(detector, "precision", "float32"),
        "n_errors": int((~ok).sum()),
        "errors": [error for error in errors if error is not None][:20],
    }
    # Images out of the detector's domain take the threshold and P(fake) of its out-of-domain calibration, if any.
    thresholds, probabilities, recalibrated = detector.per_image_verdicts(scores, domain)
    flagged = scores >= thresholds
    routed = getattr(detector.config, "routed", False)  # a domain-routed ensemble: each image judged by one member
    outside = detector.applied_thresholds()[1]
    if outside is not None and ok.any() and recalibrated[ok].all():  # every image judged on the second calibration
        threshold, threshold_name = outside.value, outside.name
    results.update(detection_metrics(labels, scores[ok], threshold, threshold_name, predictions=flagged[ok]))
    results["expected_calibration_error"] = expected_calibration_error(labels, probabilities[ok])
    if recalibrated.any():
        results["out_of_domain_calibrated"] = float(recalibrated[ok].mean())
        results["out_of_domain_threshold"] = float(thresholds[recalibrated][0])
    results.update(out_of_domain_fractions(domain, data.groups))
    # What the size, JPEG quality, noise or smoothness of the images alone would score on this set.
    results["shortcut_baselines"] = shortcut_baselines(labels, [images[index] for index in np.flatnonzero(ok)],
                                                       scores[ok])
    for column, values in data.groups.items():
        kept = [value for value, good in zip(values, ok) if good]
        results[f"by_{column}"] = group_metrics(labels, scores[ok], flagged[ok], kept)
    if routed:
        results["by_judge"] = judge_metrics(detector.config.member_names, labels, scores[ok], flagged[ok],
                                            [check for check, good in zip(domain, ok) if good])
    elif len(members) > 1:
        member_scores = {name: values[ok] for name, values in members.items()}
        results["members"] = member_metrics(labels, member_scores)
        if len(members) > 2 and labels.min() != labels.max():
            brightness = None
            if getattr(detector.config, "brightness_normalisation", None):
                brightness = mean_luma([images[index] for index in np.flatnonzero(ok)])
            results["leave_one_out"] = leave_one_out(detector, labels, member_scores, brightness)
    if robustness:
        results["robustness"] = {}
        for name, perturb in PERTURBATIONS.items():
            perturbed = [perturb(image) for image, good in zip(images, ok) if good]
            perturbed_scores, _, _ = detector.score_images(perturbed, batch_size=batch_size, progress=progress)
            figures = detection_metrics(labels, perturbed_scores, threshold, threshold_name)
            results["robustness"][name] = {key: figures[key] for key in ("accuracy", "recall", "fpr", "auroc")}
    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        results["plots"] = {
            name: Path(path).name
            for name, path in save_evaluation_plots(
                labels, scores[ok], threshold, out, title=results["model"], predictions=flagged[ok]
            ).items()
        }
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        write_predictions(out / "predictions.jsonl", data, scores, probabilities, flagged, errors, domain,
                          recalibrated if recalibrated.any() or routed else None,
                          tuple(detector.config.member_names) if routed else ("in-domain", "out-of-domain"))
    return results


def judge_metrics(
    names: list[str], labels: np.ndarray, scores: np.ndarray, flagged: np.ndarray, domain: list
) -> dict[str, dict[str, Any]]:
    """A domain-routed ensemble's figures per member that judged the images: ``{member: {"n", "n_real", "n_fake",
    "share", "flagged", "accuracy", "auroc"}}`` (``share``: the fraction of the scored images it judged).

    Args:
        names: the ensemble's two member names, in order.
        labels, scores, flagged: per scored image.
        domain: per scored image, its routed domain check ``(in_domain, note, log-likelihood, by_second)``.

    Example:
        >>> judge_metrics(["a", "b"], np.array([0, 1]), np.array([0.1, 2.0]), np.array([False, True]),
        ...               [(True, None, 0.0, False), (True, None, 0.0, True)])["b"]["accuracy"]
        1.0
    """
    judges = [names[1] if check is not None and bool(check[3]) else names[0] for check in domain]
    table = group_metrics(labels, scores, flagged, judges)
    correct = np.asarray(flagged, bool) == (np.asarray(labels) == 1)
    for name, row in table.items():
        chosen = np.array([judge == name for judge in judges])
        row["share"] = float(chosen.mean())
        row["accuracy"] = float(correct[chosen].mean())
    return table


def out_of_domain_fractions(domain: list, groups: dict[str, list]) -> dict[str, Any]:
    """``out_of_domain``: the fraction of checked images the detector's domain description rejects, overall and
    per group (``out_of_domain_by_source``...); empty when the detector has no domain description.

    Example:
        >>> out_of_domain_fractions([(True, None), (False, "size"), None], {"source": ["a", "b", "b"]})
        {'out_of_domain': 0.5, 'out_of_domain_by_source': {'a': 0.0, 'b': 1.0}}
    """
    checked = [(index, check[0]) for index, check in enumerate(domain) if check is not None]
    if not checked:
        return {}
    fractions: dict[str, Any] = {"out_of_domain": float(np.mean([not inside for _, inside in checked]))}
    for column, values in groups.items():
        by_group: dict[str, list[bool]] = {}
        for index, inside in checked:
            by_group.setdefault(str(values[index]), []).append(not inside)
        fractions[f"out_of_domain_by_{column}"] = {name: float(np.mean(flags)) for name, flags in sorted(by_group.items())}
    return fractions


def write_predictions(
    path: Path,
    data: Any,
    scores: np.ndarray,
    probabilities: np.ndarray,
    flagged: np.ndarray,
    errors: list,
    domain: Optional[list] = None,
    out_of_domain_calibrated: Optional[np.ndarray] = None,
    calibration_names: tuple[str, str] = ("in-domain", "out-of-domain"),
) -> None:
    """One JSON line per image: index, name, label, score, probability, is_fake, source / generator, error.

    Args:
        path: the ``predictions.jsonl`` file to write.
        data: the :class:`~deepfake_detectors.evaluation.data.LabelledImages` that was scored.
        scores, probabilities, flagged: per image, NaN / anything for images that failed.
        errors: per image, ``None`` or the error message.
        domain: per image, ``(in_domain, note, log-likelihood)`` or ``None`` (written as ``in_domain`` /
            ``domain_note``).
        out_of_domain_calibrated: per image, whether its out-of-domain calibration judged it (written as
            ``calibration_domain``); ``None`` when no image was.
        calibration_names: what ``calibration_domain`` says for the two calibrations (a domain-routed ensemble:
            its members' names).
    """
    with path.open("w") as handle:
        for index, name in enumerate(data.names):
            failed = errors[index] is not None or not np.isfinite(scores[index])
            row: dict[str, Any] = {
                "index": index,
                "name": name,
                "label": int(data.labels[index]),
                "score": None if failed else float(scores[index]),
                "probability": None if failed else float(probabilities[index]),
                "is_fake": None if failed else bool(flagged[index]),
            }
            row.update({column: values[index] for column, values in data.groups.items()})
            if domain is not None and domain[index] is not None:
                row["in_domain"], row["domain_note"] = domain[index][:2]
            if out_of_domain_calibrated is not None and not failed:
                row["calibration_domain"] = calibration_names[int(bool(out_of_domain_calibrated[index]))]
            if failed:
                row["error"] = errors[index] or "not scored"
            handle.write(json.dumps(row) + "\n")
