"""Training glue: `datasets` sources in, `transformers.Trainer` for deep members, calibration out."""

from .data import ImageTransform, collate_pixel_values, load_image_dataset, select_label, take
from .trainer import OneClassTrainingConfig, train_one_class

__all__ = [
    "ImageTransform",
    "OneClassTrainingConfig",
    "collate_pixel_values",
    "load_image_dataset",
    "select_label",
    "take",
    "train_one_class",
]
