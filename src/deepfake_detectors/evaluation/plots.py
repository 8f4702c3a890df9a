"""Evaluation plots (ROC, precision-recall, confusion matrix, score histogram) written as PNG files.

The figures are drawn with matplotlib's object-oriented API on an Agg canvas: no display is needed, pyplot's
global state (and a notebook's chosen backend) is left alone, and nothing stays open after a call.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from .metrics import _validate

_REAL_COLOUR = "tab:blue"
_FAKE_COLOUR = "tab:red"


def _new_figure(size: tuple[float, float] = (5.0, 4.5)) -> Figure:
    figure = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(figure)  # attaches an Agg canvas; no GUI backend involved
    return figure


def _save(figure: Figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, format="png")
    figure.clear()
    return str(path)


def _with_title(text: str, title: str) -> str:
    return f"{title}: {text}" if title else text


def save_evaluation_plots(
    labels: Any,
    scores: Any,
    threshold: float,
    output_dir: Union[str, os.PathLike],
    title: str = "",
    predictions: Optional[Any] = None,
) -> dict[str, str]:
    """Write the standard evaluation plots for fake-ness scores as PNG files.

    Writes ``roc_curve.png`` and ``precision_recall.png`` (only when both classes are present, with the operating
    point at ``threshold`` marked), ``confusion_matrix.png`` and ``score_histogram.png`` (real and fake scores with
    the threshold as a vertical line).

    Args:
        labels: 0 (real) / 1 (fake) per image.
        scores: fake-ness score per image (higher = more likely fake); must be finite.
        threshold: the decision threshold (``score >= threshold`` means fake).
        output_dir: folder to write into; created if missing.
        title: optional prefix for every plot title, for example the detector and data set names.
        predictions: the verdict per image when images were judged at different thresholds (an out-of-domain
            calibration, a domain-routed ensemble); the operating point and the confusion matrix then show these
            verdicts, and the titles say so. Default: ``scores >= threshold``.

    Returns:
        ``{plot name: file path}`` for the files actually written (names: ``roc_curve``, ``precision_recall``,
        ``confusion_matrix``, ``score_histogram``).

    Example:
        >>> paths = save_evaluation_plots([0, 0, 1, 1], [0.1, 0.4, 0.6, 0.9], 0.5, "results/plots", title="cifake")
        >>> sorted(paths)
        ['confusion_matrix', 'precision_recall', 'roc_curve', 'score_histogram']
    """
    labels, scores = _validate(labels, scores)
    threshold = float(threshold)
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    at_threshold = scores >= threshold
    predictions = at_threshold if predictions is None else np.asarray(predictions, dtype=bool).reshape(-1)
    if predictions.shape != scores.shape:
        raise ValueError(f"got {predictions.size} predictions for {scores.size} scores")
    # Verdicts that are not all "score >= threshold" were made at each image's own threshold.
    cut = f"threshold {threshold:.4g}" if np.array_equal(predictions, at_threshold) else "each image's own threshold"
    is_real, is_fake = labels == 0, labels == 1
    both_classes = bool(is_real.any() and is_fake.any())
    written: dict[str, str] = {}

    if both_classes:
        tp = int(np.sum(predictions & is_fake))
        fp = int(np.sum(predictions & is_real))
        point_tpr, point_fpr = tp / int(is_fake.sum()), fp / int(is_real.sum())

        fpr, tpr, _ = roc_curve(labels, scores)
        figure = _new_figure()
        axes = figure.add_subplot()
        axes.plot(fpr, tpr, color=_FAKE_COLOUR, label="detector")
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        axes.scatter([point_fpr], [point_tpr], color="black", zorder=3, label=cut)
        axes.set(xlabel="false-positive rate (real flagged as fake)", ylabel="true-positive rate (fakes caught)",
                 xlim=(0, 1), ylim=(0, 1.02), title=_with_title("ROC curve", title))
        axes.legend(loc="lower right")
        written["roc_curve"] = _save(figure, output / "roc_curve.png")

        precision, recall, _ = precision_recall_curve(labels, scores)
        figure = _new_figure()
        axes = figure.add_subplot()
        axes.plot(recall, precision, color=_FAKE_COLOUR, label="detector")
        axes.axhline(float(is_fake.mean()), linestyle="--", color="grey", label="chance (share of fakes)")
        if tp + fp > 0:
            axes.scatter([point_tpr], [tp / (tp + fp)], color="black", zorder=3, label=cut)
        axes.set(xlabel="recall (fakes caught)", ylabel="precision (flagged that are fake)",
                 xlim=(0, 1), ylim=(0, 1.02), title=_with_title("Precision-recall curve", title))
        axes.legend(loc="lower left")
        written["precision_recall"] = _save(figure, output / "precision_recall.png")

    matrix = np.array(
        [
            [np.sum(is_real & ~predictions), np.sum(is_real & predictions)],
            [np.sum(is_fake & ~predictions), np.sum(is_fake & predictions)],
        ],
        dtype=np.int64,
    )
    figure = _new_figure((4.5, 4.0))
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", vmin=0, vmax=max(int(matrix.max()), 1))
    for row in range(2):
        for column in range(2):
            value = int(matrix[row, column])
            dark = value > 0.5 * max(int(matrix.max()), 1)
            axes.text(column, row, str(value), ha="center", va="center", color="white" if dark else "black")
    axes.set_xticks([0, 1], labels=["real", "fake"])
    axes.set_yticks([0, 1], labels=["real", "fake"])
    axes.set(xlabel="predicted", ylabel="true",
             title=_with_title(f"Confusion matrix ({cut})", title))
    figure.colorbar(image, ax=axes)
    written["confusion_matrix"] = _save(figure, output / "confusion_matrix.png")

    figure = _new_figure((6.0, 4.0))
    axes = figure.add_subplot()
    bins = np.histogram_bin_edges(np.append(scores, threshold), bins=40)
    for mask, name, colour in ((is_real, "real", _REAL_COLOUR), (is_fake, "fake", _FAKE_COLOUR)):
        if mask.any():
            axes.hist(scores[mask], bins=bins, alpha=0.55, color=colour, label=f"{name} (n={int(mask.sum())})")
    line = f"threshold {threshold:.4g}" + ("" if cut.startswith("threshold") else " (not every image's)")
    axes.axvline(threshold, color="black", linestyle="--", label=line)
    axes.set(xlabel="fake-ness score", ylabel="images", title=_with_title("Score distribution", title))
    axes.legend()
    written["score_histogram"] = _save(figure, output / "score_histogram.png")

    return written
