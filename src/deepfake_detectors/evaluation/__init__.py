"""Evaluation helpers: labelled data loading, detection metrics and plots.

Example:
    >>> from deepfake_detectors.evaluation import detection_metrics, load_labelled_images
    >>> data = load_labelled_images("../shared/data/cifake", split="test", limit=20)
    >>> metrics = detection_metrics(data.labels, scores, threshold=0.5, threshold_name="balanced")  # doctest: +SKIP
"""

from .evaluate import PERTURBATIONS, evaluate_detector
from .data import LabelledImages, load_labelled_images, stratified_indices
from .metrics import auroc_against_other_class, detection_metrics, member_metrics, tpr_at_fpr
from .plots import save_evaluation_plots
from .shortcuts import shortcut_baselines

__all__ = [
    "auroc_against_other_class",
    "PERTURBATIONS",
    "evaluate_detector",
    "LabelledImages",
    "detection_metrics",
    "load_labelled_images",
    "member_metrics",
    "save_evaluation_plots",
    "shortcut_baselines",
    "stratified_indices",
    "tpr_at_fpr",
]
