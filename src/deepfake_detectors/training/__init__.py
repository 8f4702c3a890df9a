"""Training glue: `datasets` sources in, `transformers.Trainer` for deep members, calibration out."""

from .data import ImageTransform, collate_pixel_values, load_image_dataset, select_label, take
from .supervised import SupervisedTransform, balanced, compute_metrics, label_ids
from .trainer import OneClassTrainingConfig, train_one_class

__all__ = [
    "ImageTransform",
    "SupervisedTransform",
    "balanced",
    "compute_metrics",
    "label_ids",
    "OneClassTrainingConfig",
    "collate_pixel_values",
    "load_image_dataset",
    "select_label",
    "take",
    "train_one_class",
]
