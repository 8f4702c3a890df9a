"""The supervised training recipes behind ``scripts/train_ela_cnn.py``, ``train_efficientnet.py`` and ``train_npr.py``.

Each function takes the script's parsed options, trains, calibrates on validation images (never a test split),
saves the detector with ``save_pretrained`` (its ``training`` record in ``config.json``) and returns it. The shared
steps live in :mod:`.supervised`; what is left here is what differs: the model, its processor and its record.
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import set_seed

from ..configuration.efficientnet import EfficientNetDetectorConfig
from ..configuration.ela_cnn import ElaCnnConfig
from ..configuration.npr import NprDetectorConfig
from ..modeling.efficientnet import EfficientNetDetectorForImageClassification
from ..modeling.ela_cnn import ElaCnnForImageClassification
from ..modeling.npr import NprDetectorForImageClassification
from ..processing_crops import NativeCropImageProcessor
from ..processing_ela import ElaImageProcessor
from .native_crops import CropAugmentation, CropTransform, ShapeGroupedTrainer, crop_shape_groups, load_crop_sources
from .supervised import (
    KEEP_BEST_BY_ACCURACY,
    calibrate_on_validation,
    calibrate_on_validation_split,
    fit_supervised,
    optional_limit,
    prepare_supervised_data,
    run_directory,
    save_trained_detector,
    train_head_then_finetune,
    training_arguments,
    training_device,
)


def train_ela_cnn(args: argparse.Namespace) -> ElaCnnForImageClassification:
    """Train the Error Level Analysis + CNN detector on both classes, keep the best epoch, calibrate, save.

    Args:
        args: the options of ``scripts/train_ela_cnn.py``.

    Returns:
        The trained, calibrated model (also saved to ``args.output_dir``).

    Example:
        >>> train_ela_cnn(parse_args(["--output-dir", "runs/ela_cnn", "--max-steps", "10"]))  # doctest: +SKIP
    """
    set_seed(args.seed)
    started = time.time()
    processor = ElaImageProcessor(
        size=args.image_size, ela_quality=args.ela_quality, ela_scale=args.ela_scale, include_image=not args.ela_only
    )
    config = ElaCnnConfig(
        image_size=args.image_size,
        num_channels=processor.num_channels,
        hidden_sizes=args.hidden_sizes,
        dropout=args.dropout,
        ela_quality=args.ela_quality,
    )
    model = ElaCnnForImageClassification(config)
    data = prepare_supervised_data(args, processor)  # augmentation runs before the processor (and its ELA)
    settings = training_arguments(
        args,
        run_directory(args),
        num_train_epochs=args.epochs,
        per_device_eval_batch_size=max(args.batch_size, 256),
        optim="adamw_torch" if args.optimizer == "adamw" else "rmsprop",
        warmup_steps=0.03,
        logging_steps=20,
        eval_strategy="epoch",
        save_strategy="epoch",
        **KEEP_BEST_BY_ACCURACY,
    )
    trainer = fit_supervised(model, settings, data, resume=args.resume)
    model = trainer.model.cpu().eval()
    trained = time.time()
    calibrate_on_validation_split(model, processor, data, args)
    record = {
        "dataset": str(args.dataset),
        "split": args.train_split,
        "n_train_images": int(data.train.num_rows),
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "optimizer": args.optimizer,
        "learning_rate": args.learning_rate,
        "augmentation": "flip, JPEG q60-95, down-up resize, blur (ELA computed after augmentation)",
        "validation_split": args.validation_split,
        "best_validation_accuracy": trainer.state.best_metric,
        "train_seconds": round(trained - started, 1),
        "device": training_device(),
    }
    save_trained_detector(model, processor, args.output_dir, record)
    return model


def efficientnet_to_train(args: argparse.Namespace) -> EfficientNetDetectorForImageClassification:
    """The model a run starts from: ImageNet weights, or ``--init-from`` a trained detector at ``--image-size``.

    Starting from a trained detector (progressive resizing) keeps its ``training`` record in
    ``config.training_history``.

    Args:
        args: the options of ``scripts/train_efficientnet.py`` (``init_from``, ``image_size``, ``backbone``,
            ``head_hidden_size``, ``dropout``, ``backbone_weights_path``).
    """
    if args.init_from:
        model = EfficientNetDetectorForImageClassification.from_pretrained(args.init_from)
        model.config.image_size = args.image_size
        model.config.training_history = [*getattr(model.config, "training_history", []), model.config.training]
        return model
    config = EfficientNetDetectorConfig(
        backbone=args.backbone, image_size=args.image_size, head_hidden_size=args.head_hidden_size, dropout=args.dropout
    )
    return EfficientNetDetectorForImageClassification.from_imagenet(config, weights_path=args.backbone_weights_path)


def train_efficientnet(args: argparse.Namespace) -> EfficientNetDetectorForImageClassification:
    """Train the EfficientNet detector in two phases (:func:`.supervised.train_head_then_finetune`), calibrate, save.

    Weights are saved in float16 (they load back as float32).

    Args:
        args: the options of ``scripts/train_efficientnet.py``.

    Returns:
        The trained, calibrated model (float32; also saved to ``args.output_dir``).

    Example:
        >>> train_efficientnet(parse_args(["--output-dir", "runs/efficientnet", "--epochs", "1"]))  # doctest: +SKIP
    """
    set_seed(args.seed)
    started = time.time()
    model = efficientnet_to_train(args)
    processor = model.default_processor()
    data = prepare_supervised_data(args, processor)
    # channels_last convolutions are about 25% faster on CPU; the weights are made contiguous again before saving.
    model, history = train_head_then_finetune(model.to(memory_format=torch.channels_last), args, data)
    model = model.cpu().to(memory_format=torch.contiguous_format).eval().requires_grad_(True)
    trained = time.time()
    calibrate_on_validation_split(model, processor, data, args)
    record = {
        "dataset": str(args.dataset),
        "split": args.train_split,
        "n_train_images": int(data.train.num_rows),
        "image_size": args.image_size,
        "init_from": args.init_from or model.config.backbone_weights,
        "phase_1_head": {
            "epochs": args.head_epochs,
            "learning_rate": args.head_learning_rate,
            **history.get("head", {}),
        },
        "phase_2_finetune": {
            "epochs": args.epochs,
            "max_steps": args.max_steps,
            "learning_rate": args.learning_rate,
            "unfrozen_stages": args.unfreeze_stages or "all",
            **history["finetune"],
        },
        "optimizer": "adamw",
        "scheduler": args.scheduler,
        "batch_size": args.batch_size,
        "augmentation": "flip, JPEG q60-95, down-up resize, blur",
        "validation_split": args.validation_split,
        "train_seconds": round(trained - started, 1),
        "device": training_device(),
    }
    save_trained_detector(model, processor, args.output_dir, record, float16=True)
    return model


def train_npr(args: argparse.Namespace) -> NprDetectorForImageClassification:
    """Train the NPR detector on native-resolution crops for a fixed number of steps, calibrate, save.

    Batches hold crops of one shape (``ShapeGroupedTrainer``); no checkpoint is picked on validation. P(fake) and
    the thresholds are calibrated on the validation splits of ``args.calibration_dataset``.

    Args:
        args: the options of ``scripts/train_npr.py``.

    Returns:
        The trained, calibrated model (also saved to ``args.output_dir``).

    Example:
        >>> train_npr(parse_args(["--output-dir", "runs/npr", "--max-steps", "10"]))  # doctest: +SKIP
    """
    set_seed(args.seed)
    started = time.time()
    processor = NativeCropImageProcessor(crop_size=args.crop_size, crops_per_side=args.crops_per_side)
    config = NprDetectorConfig(hidden_sizes=args.hidden_sizes, image_size=args.crop_size)
    model = NprDetectorForImageClassification(config)
    train = load_crop_sources(args.dataset, "train", [optional_limit(v) for v in args.max_train_samples], args.seed)
    augmentation = CropAugmentation(crop_size=args.crop_size, seed=args.seed)
    settings = training_arguments(
        args,
        args.run_dir or f"{args.output_dir}_trainer",
        warmup_steps=0.05,
        logging_steps=50,
        save_strategy="steps",
        save_steps=500,
        save_total_limit=1,
    )
    trainer = ShapeGroupedTrainer(
        model=model,
        args=settings,
        train_dataset=train.with_transform(CropTransform(augmentation, {0: 0, 1: 1}, augment=True)),
        train_shapes=crop_shape_groups(train, args.crop_size),
    )
    trainer.train()
    model = trainer.model.cpu().eval()
    trained = time.time()
    limits = [optional_limit(count) for count in args.max_calibration_samples]
    record = {
        "datasets": list(args.dataset),
        "split": "train",
        "n_train_images": int(train.num_rows),
        "max_train_samples": args.max_train_samples,
        "max_steps": args.max_steps,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "augmentation": "flip, rescale 0.5-1.5x (p=0.25), blur 0.3-1.2 px (p=0.1), JPEG q60-100 (p=0.5), random "
        "even-offset crop at native resolution",
        "calibration": calibrate_on_validation(model, processor, args.calibration_dataset, limits, args.seed),
        "train_seconds": round(trained - started, 1),
        "device": training_device(),
    }
    save_trained_detector(model, processor, args.output_dir, record, show_thresholds=False)
    return model
