"""Detection metrics for fake-ness scores (higher = more likely fake; labels real = 0, fake = 1).

Every figure that cannot be computed from the data given (for example an AUROC on a set of fake images only) is
``None`` (JSON ``null``), never a made-up number.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score, roc_curve


def _validate(labels: Any, scores: Any, what: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    """Return ``labels`` as an int array of 0/1 and ``scores`` as a float array, or raise ``ValueError``."""
    labels_array = np.asarray(labels)
    scores_array = np.asarray(scores, dtype=np.float64)
    if labels_array.ndim != 1 or scores_array.ndim != 1:
        raise ValueError(
            f"labels and {what} must be 1-D, got shapes {labels_array.shape} and {scores_array.shape}"
        )
    if labels_array.shape != scores_array.shape:
        raise ValueError(f"labels ({labels_array.shape[0]}) and {what} ({scores_array.shape[0]}) differ in length")
    if labels_array.size == 0:
        raise ValueError("no images to evaluate: labels is empty")
    if not np.isin(labels_array, (0, 1)).all():
        found = sorted({str(value) for value in np.unique(labels_array)})
        raise ValueError(f"labels must be 0 (real) or 1 (fake), found {found}")
    bad = ~np.isfinite(scores_array)
    if bad.any():
        raise ValueError(
            f"{what} contain {int(bad.sum())} non-finite value(s) (NaN or infinity), first at index "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    return labels_array.astype(np.int64), scores_array


def _ratio(numerator: int, denominator: int) -> Optional[float]:
    return float(numerator) / float(denominator) if denominator > 0 else None


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float) -> Optional[float]:
    """Highest true-positive rate reachable with a false-positive rate of at most ``max_fpr``.

    Args:
        labels: 0 (real) / 1 (fake) per image.
        scores: fake-ness score per image (higher = more likely fake).
        max_fpr: the largest acceptable false-positive rate, for example ``0.01``.

    Returns:
        The TPR, or ``None`` when the labels do not contain both classes.

    Example:
        >>> tpr_at_fpr(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), 0.01)
        0.5
    """
    labels, scores = _validate(labels, scores)
    if labels.min() == labels.max():
        return None
    # drop_intermediate=False keeps every reachable operating point, so none is lost below the FPR limit.
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    return float(tpr[fpr <= max_fpr + 1e-12].max())


def detection_metrics(
    labels: Any, scores: Any, threshold: float, threshold_name: str, predictions: Optional[Any] = None
) -> dict[str, Any]:
    """Compute detection metrics for fake-ness scores at one threshold.

    An image counts as detected fake when ``score >= threshold``. Figures that need both classes (``auroc``,
    ``average_precision``, ``tpr_at_fpr_1``, ``tpr_at_fpr_5``, ``precision``, ``f1``) are ``None`` when only one
    class is present; ``recall`` needs fakes, ``fpr`` (the false-alarm rate on real images) needs reals;
    ``accuracy`` and the confusion matrix are always reported. A 0/0 figure (for example the precision when
    nothing is flagged) is also ``None``.

    Args:
        labels: 0 (real) / 1 (fake) per image.
        scores: fake-ness score per image, higher = more likely fake. Must be finite.
        threshold: the decision threshold (finite).
        threshold_name: a name for it, for example ``"balanced"`` or ``"manual"``.
        predictions: the verdicts (1 = flagged fake) when they do not all come from ``threshold`` (images out of
            a detector's domain judged on its out-of-domain calibration); default ``scores >= threshold``.

    Returns:
        A JSON-serialisable dict with ``n_images, n_real, n_fake, auroc, average_precision, accuracy, precision,
        recall, f1, tpr_at_fpr_1, tpr_at_fpr_5, fpr, threshold, threshold_name, confusion_matrix``
        (``[[tn, fp], [fn, tp]]``).

    Raises:
        ValueError: if the inputs differ in length, are empty, labels are not 0/1, or a score or the threshold
            is not finite.

    Example:
        >>> m = detection_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.7, 0.9]), 0.5, "balanced")
        >>> m["auroc"], m["confusion_matrix"]
        (1.0, [[1, 1], [0, 2]])
    """
    labels, scores = _validate(labels, scores)
    threshold = float(threshold)
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")

    if predictions is None:
        predictions = scores >= threshold
    predictions = np.asarray(predictions).astype(np.int64).reshape(-1)
    if predictions.shape != scores.shape:
        raise ValueError(f"{predictions.size} predictions for {scores.size} scores")
    (tn, fp), (fn, tp) = confusion_matrix(labels, predictions, labels=[0, 1]).tolist()
    n_real, n_fake = int(tn + fp), int(fn + tp)
    both_classes = n_real > 0 and n_fake > 0

    auroc = average_precision = tpr_1 = tpr_5 = precision = f1 = None
    if both_classes:
        auroc = float(roc_auc_score(labels, scores))
        average_precision = float(average_precision_score(labels, scores))
        tpr_1 = tpr_at_fpr(labels, scores, 0.01)
        tpr_5 = tpr_at_fpr(labels, scores, 0.05)
        precision = _ratio(tp, tp + fp)
        f1 = _ratio(2 * tp, 2 * tp + fp + fn)

    return {
        "n_images": int(labels.size),
        "n_real": n_real,
        "n_fake": n_fake,
        "auroc": auroc,
        "average_precision": average_precision,
        "accuracy": float(tp + tn) / float(labels.size),
        "precision": precision,
        "recall": _ratio(tp, n_fake),
        "f1": f1,
        "tpr_at_fpr_1": tpr_1,
        "tpr_at_fpr_5": tpr_5,
        "fpr": _ratio(fp, n_real),
        "threshold": threshold,
        "threshold_name": str(threshold_name),
        "confusion_matrix": [[int(tn), int(fp)], [int(fn), int(tp)]],
    }


def member_metrics(labels: Any, member_scores: Mapping[str, Any]) -> dict[str, dict[str, Optional[float]]]:
    """Threshold-free metrics for each ensemble member's scores.

    Args:
        labels: 0 (real) / 1 (fake) per image.
        member_scores: member name -> fake-ness score per image (same order as ``labels``).

    Returns:
        ``{name: {"auroc": ..., "average_precision": ...}}``; the values are ``None`` when only one class is
        present.

    Raises:
        ValueError: if a member's scores differ in length from the labels or are not finite.

    Example:
        >>> member_metrics(np.array([0, 1]), {"svdd": np.array([0.2, 0.9])})
        {'svdd': {'auroc': 1.0, 'average_precision': 1.0}}
    """
    results: dict[str, dict[str, Optional[float]]] = {}
    for name, scores in member_scores.items():
        member_labels, member_values = _validate(labels, scores, what=f"scores of member {name!r}")
        if member_labels.min() == member_labels.max():
            results[name] = {"auroc": None, "average_precision": None}
        else:
            results[name] = {
                "auroc": float(roc_auc_score(member_labels, member_values)),
                "average_precision": float(average_precision_score(member_labels, member_values)),
            }
    return results


def expected_calibration_error(labels: Any, probabilities: Any, bins: int = 15) -> float:
    """Expected calibration error of P(fake): the mean gap between confidence and accuracy over equal-width bins.

    Each image counts with the probability of the class it is assigned (``max(p, 1 - p)``); in each of ``bins``
    confidence bins the gap between the mean confidence and the fraction of correct verdicts is weighted by the
    bin's share of images (Guo et al., 2017).

    Args:
        labels: 0 (real) / 1 (fake) per image.
        probabilities: P(fake) per image, in [0, 1].
        bins: number of equal-width confidence bins on [0.5, 1].

    Example:
        >>> round(expected_calibration_error(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3])), 3)
        0.175
    """
    labels, probabilities = _validate(labels, probabilities, what="probabilities")
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError("probabilities must lie in [0, 1]")
    confidence = np.maximum(probabilities, 1.0 - probabilities)
    correct = (probabilities >= 0.5).astype(np.int64) == labels
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        members = which == index
        if members.any():
            error += members.mean() * abs(confidence[members].mean() - correct[members].mean())
    return float(error)


def group_metrics(labels: Any, scores: Any, flagged: Any, groups: Any) -> dict[str, dict[str, Any]]:
    """Per-group figures (for example per ``source`` or per ``generator`` of a dataset).

    Args:
        labels: 0 (real) / 1 (fake) per image.
        scores: fake-ness score per image (finite).
        flagged: the verdict per image (True = fake).
        groups: the group name per image; ``None`` or ``""`` rows are left out.

    Returns:
        ``{group: {"n", "n_real", "n_fake", "flagged", "auroc"}}``: ``flagged`` is the fraction of the group's
        images called fake (the false-alarm rate of an all-real group, the recall of an all-fake one); ``auroc``
        only where both classes occur (else ``None``).

    Example:
        >>> group_metrics(np.array([0, 1, 1]), np.array([0.1, 0.9, 0.2]), np.array([False, True, False]),
        ...               ["camera", "sdxl", "sdxl"])["sdxl"]["flagged"]
        0.5
    """
    labels, scores = _validate(labels, scores)
    flagged = np.asarray(flagged, dtype=bool)
    names = np.asarray([("" if group is None else str(group)) for group in groups], dtype=object)
    table: dict[str, dict[str, Any]] = {}
    for name in sorted({str(group) for group in names if group}):
        members = names == name
        group_labels = labels[members]
        n_real, n_fake = int((group_labels == 0).sum()), int((group_labels == 1).sum())
        table[name] = {
            "n": int(members.sum()),
            "n_real": n_real,
            "n_fake": n_fake,
            "flagged": float(flagged[members].mean()),
            "auroc": float(roc_auc_score(group_labels, scores[members])) if n_real and n_fake else None,
        }
    return table


def auroc_against_other_class(labels: Any, scores: Any, groups: Any) -> dict[str, float]:
    """AUROC of each single-class group against every image of the other class.

    A source of real photos is ranked against all the AI images, a generator's images against all the real photos:
    how well the score separates that one source from the rest of the opposite class (for per-source rows where each
    source holds one class, as in the wild and photo-source sets).

    Args:
        labels: 0 (real) / 1 (fake) per image.
        scores: fake-ness score per image (finite).
        groups: the group name per image; a group must hold one class.

    Returns:
        ``{group: auroc}``, groups in sorted order.

    Example:
        >>> auroc_against_other_class([0, 0, 1, 1], [0.1, 0.8, 0.6, 0.9], ["camera", "web", "sdxl", "sdxl"])
        {'camera': 1.0, 'sdxl': 0.75, 'web': 0.5}
    """
    labels, scores = _validate(labels, scores)
    names = np.asarray([str(group) for group in groups])
    table: dict[str, float] = {}
    for name in sorted(set(names.tolist())):
        members = names == name
        classes = set(labels[members].tolist())
        if len(classes) != 1:
            raise ValueError(f"group {name!r} holds both classes; AUROC against the other class needs one")
        chosen = members | (labels != labels[members][0])
        table[name] = float(roc_auc_score(labels[chosen], scores[chosen]))
    return table
