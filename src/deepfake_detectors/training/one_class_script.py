"""The shared body of ``scripts/train_autoencoder.py`` and ``scripts/train_deep_svdd.py``.

Flow: real training images from a `datasets` source -> ``transformers.Trainer`` -> optionally, the
input-complexity correction fitted on held-out real validation images -> calibration on held-out validation
images (real, plus labelled fakes for the ``optimal`` threshold) -> ``save_pretrained``.

A config with ``crops_per_side`` set (the photo autoencoder) trains on random native-resolution crops of the real
images, augmented like the supervised photo detectors (:class:`~deepfake_detectors.training.CropAugmentation`),
and is calibrated and saved with its :class:`~deepfake_detectors.NativeCropImageProcessor`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, Optional

import torch
from transformers import set_seed

from ..configuration.base import DeepfakeDetectorConfig
from ..modeling.base import DeepfakeDetectorPreTrainedModel
from ..pipeline import EnsembleDeepfakeDetector
from ..processing import DeepfakeImageProcessor
from .data import ImageTransform, collate_pixel_values, load_image_dataset, select_label, random_subset
from .native_crops import CropAugmentation, CropTransform
from .supervised import (
    add_dataset_arguments,
    label_ids,
    add_optimisation_arguments,
    add_output_arguments,
    round_to_float16_,
    save_trained_detector,
    training_device,
)
from .trainer import OneClassTrainingConfig, train_one_class


def base_parser(description: str) -> argparse.ArgumentParser:
    """Arguments every one-class training script shares (data, optimisation, output)."""
    parser = argparse.ArgumentParser(description=description)
    data = add_dataset_arguments(parser)
    data.add_argument("--calibration-split", default="validation", help="held-out split for thresholds")
    data.add_argument("--max-train-samples", type=int, default=None, help="real training images to use")
    data.add_argument("--max-calibration-samples", type=int, default=2000, help="per class, for calibration")
    optim = add_optimisation_arguments(
        parser, epochs=10.0, batch_size=128, learning_rate=1e-3, weight_decay=1e-6, helps={"max-steps": None}
    )
    optim.add_argument("--resume", default=None, help="a checkpoint folder, or 'latest'")
    scoring = parser.add_argument_group("scoring")
    scoring.add_argument(
        "--complexity-adjustment",
        choices=["none", "png"],
        default="none",
        help="correct the scores for input complexity (PNG bits per value), fitted on the real calibration images",
    )
    out = parser.add_argument_group("saved weights")
    out.add_argument("--float16", action="store_true", help="store the weights in float16 (they load as float32)")
    add_output_arguments(parser, run_dir_default="runs/<name>")
    return parser


def run_one_class_training(
    args: argparse.Namespace,
    config: DeepfakeDetectorConfig,
    model_class: type[DeepfakeDetectorPreTrainedModel],
    before_training: Optional[Callable[[DeepfakeDetectorPreTrainedModel, torch.utils.data.DataLoader], None]] = None,
) -> DeepfakeDetectorPreTrainedModel:
    """Train, calibrate and save one one-class detector.

    Args:
        args: parsed :func:`base_parser` arguments.
        config: the detector's configuration.
        model_class: its model class.
        before_training: called with the model and a loader of real training images (un-augmented), e.g. to
            fix the Deep SVDD centre.

    Returns:
        The trained, calibrated model (also saved to ``args.output_dir``).
    """
    set_seed(args.seed)
    started = time.time()
    crops_per_side = getattr(config, "crops_per_side", None)
    if crops_per_side and args.complexity_adjustment != "none":
        raise ValueError("--complexity-adjustment is not available for native-crop models (crops_per_side set)")
    train = random_subset(select_label(load_image_dataset(args.dataset, args.train_split), "real"), args.max_train_samples, args.seed)
    model = model_class(config)
    if crops_per_side:
        processor = model.default_processor()
        augmentation = CropAugmentation(
            crop_size=config.image_size,
            seed=args.seed,
            upscale_small=True,
            **getattr(model_class, "training_augmentation", {}),  # a model may turn some augmentations off
        )
        transform = CropTransform(augmentation, label_ids(train), augment=True, normalise=processor.normalise_tensor)
    else:
        processor = DeepfakeImageProcessor(size=config.image_size)
        transform = ImageTransform(processor, augment=True, seed=args.seed)
    if before_training is not None:
        plain = train.with_transform(ImageTransform(processor, augment=False))
        loader = torch.utils.data.DataLoader(plain, batch_size=args.batch_size, collate_fn=collate_pixel_values)
        before_training(model, loader)
    optimisation = ("epochs", "max_steps", "batch_size", "learning_rate", "weight_decay", "seed", "num_workers")
    settings = OneClassTrainingConfig(
        output_dir=args.run_dir or f"runs/{Path(args.output_dir).name}",
        resume_from_checkpoint=args.resume,
        **{name: getattr(args, name) for name in optimisation},
    )
    trainer = train_one_class(model, train.with_transform(transform), settings)
    model = trainer.model.cpu().eval()
    trained = time.time()

    calibration_data = load_image_dataset(args.dataset, args.calibration_split)
    real = random_subset(select_label(calibration_data, "real"), args.max_calibration_samples, args.seed)["image"]
    fake = random_subset(select_label(calibration_data, "fake"), args.max_calibration_samples, args.seed)["image"]
    if args.complexity_adjustment != "none":
        # One slope, fitted on the held-out real images only; the thresholds below then use adjusted scores.
        starts = range(0, len(real), args.batch_size)
        batches = (processor(real[start : start + args.batch_size])["pixel_values"] for start in starts)
        model.fit_complexity_adjustment(
            batches, processor.image_mean, processor.image_std, compressor=args.complexity_adjustment
        )
    name = config.model_type.removeprefix("deepfake-").replace("-", "_")
    if args.float16:
        round_to_float16_(model)  # calibrated on the weights as they are stored
    detector = EnsembleDeepfakeDetector.from_members({name: (model, processor)}, device="cpu")
    detector.calibrate(real, fake)
    record = {
        "dataset": str(args.dataset),
        "split": args.train_split,
        "n_real_images": int(train.num_rows),
        # Trainer's max_steps overrides epochs when positive: the record names the one that was used
        **({"max_steps": args.max_steps} if args.max_steps and args.max_steps > 0 else {"epochs": args.epochs}),
        "calibration_split": args.calibration_split,
        **({"crops_per_side": crops_per_side, "augmentation": augmentation.describe()} if crops_per_side else {}),
        "train_seconds": round(trained - started, 1),
        "device": training_device(),
    }
    save_trained_detector(model, processor, args.output_dir, record, float16=args.float16)
    return model

