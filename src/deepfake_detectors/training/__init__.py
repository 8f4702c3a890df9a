"""Training glue: `datasets` sources in, `transformers.Trainer` for deep members, calibration out."""

from .data import ImageTransform, collate_pixel_values, load_image_dataset, select_label, take
from .supervised import (
    SupervisedData,
    SupervisedTransform,
    add_data_arguments,
    balanced,
    compute_metrics,
    label_ids,
    prepare_supervised_data,
)
from .trainer import OneClassTrainingConfig, train_one_class

__all__ = [
    "ImageTransform",
    "SupervisedData",
    "SupervisedTransform",
    "add_data_arguments",
    "prepare_supervised_data",
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
