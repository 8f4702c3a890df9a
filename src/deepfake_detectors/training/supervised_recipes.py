"""The supervised training recipes behind ``scripts/train_ela_cnn.py``, ``train_efficientnet.py`` and ``train_npr.py``.

Each function takes the script's parsed options, trains, calibrates on validation images (never a test split),
saves the detector with ``save_pretrained`` (its ``training`` record in ``config.json``) and returns it. The shared
steps live in :mod:`.supervised`; what is left here is what differs: the model, its processor and its record.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable, Optional

import datasets
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
    round_to_float16_,
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

    def from_imagenet() -> EfficientNetDetectorForImageClassification:
        config = EfficientNetDetectorConfig(backbone=args.backbone, image_size=args.image_size,
                                            head_hidden_size=args.head_hidden_size, dropout=args.dropout)
        return EfficientNetDetectorForImageClassification.from_imagenet(config, args.backbone_weights_path)

    model = start_from(EfficientNetDetectorForImageClassification, args.init_from, from_imagenet)
    model.config.image_size = args.image_size
    model.config.score_scale = "logit"  # calibrated at the end of this run, on the scale that never saturates
    return model


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
    round_to_float16_(model)  # calibrated on the weights as they are stored
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

    Batches hold crops of one shape (:func:`train_on_crops`); no checkpoint is picked on validation. P(fake) and
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
    model, train, _ = train_on_crops(model, processor, args, [("all", args.max_steps, args.learning_rate)])
    record = crop_run_record(
        args, model, processor, train, started,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        augmentation="flip, rescale 0.5-1.5x (p=0.25), blur 0.3-1.2 px (p=0.1), JPEG q60-100 (p=0.5), random "
        "even-offset crop at native resolution",
    )
    save_trained_detector(model, processor, args.output_dir, record, show_thresholds=False)
    return model


def train_on_crops(
    model: torch.nn.Module,
    processor: NativeCropImageProcessor,
    args: argparse.Namespace,
    phases: list[tuple[str, int, float]],
) -> tuple[torch.nn.Module, datasets.Dataset, dict[str, dict[str, Any]]]:
    """Train a detector on native-resolution crops of several sources, one ``ShapeGroupedTrainer`` run per phase.

    Training crops match what ``processor`` gives at inference: the same crop size, the same treatment of images
    smaller than a crop (upscaled or whole) and crop offsets on the same grid; ``processor.normalise_tensor``
    turns each augmented crop into the model input (so an ELA map describes the augmented crop).

    Args:
        model: the detector; ``"head"`` phases call ``model.freeze_backbone()``, ``"finetune"`` phases
            ``model.unfreeze_last_stages(args.unfreeze_stages)``, ``"all"`` phases train everything.
        processor: the :class:`~deepfake_detectors.NativeCropImageProcessor` (or subclass) saved with it.
        args: options with ``dataset``, ``max_train_samples``, ``seed``, the optimisation options and ``run_dir``
            / ``output_dir``.
        phases: ``(name, steps, learning rate)`` in order; phases of 0 steps are skipped.

    Returns:
        The trained model (on the CPU, eval mode), the training rows and, per phase, its steps, learning rate and
        trainable parameters.
    """
    train = load_crop_sources(args.dataset, "train", [optional_limit(v) for v in args.max_train_samples], args.seed)
    augmentation = CropAugmentation(crop_size=processor.crop_size, seed=args.seed,
                                    upscale_small=processor.upscale_small, offset_multiple=processor.offset_multiple)
    transform = CropTransform(augmentation, {0: 0, 1: 1}, augment=True, normalise=processor.normalise_tensor)
    shapes = crop_shape_groups(train, processor.crop_size, upscale_small=processor.upscale_small)
    history = {}
    for phase, steps, learning_rate in phases:
        if steps <= 0:
            continue
        if phase == "head":
            model.freeze_backbone()
        elif phase == "finetune":
            model.unfreeze_last_stages(args.unfreeze_stages)
        else:
            model.requires_grad_(True)
        run_dir = f"{args.run_dir or args.output_dir + '_trainer'}/{phase}"
        settings = training_arguments(args, run_dir, max_steps=steps, learning_rate=learning_rate, warmup_steps=0.05,
                                      logging_steps=25, save_strategy="steps", save_steps=250, save_total_limit=1)
        trainer = ShapeGroupedTrainer(model=model, args=settings, train_dataset=train.with_transform(transform),
                                      train_shapes=shapes)
        trainer.train()
        model = trainer.model
        trainable = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
        history[phase] = {"steps": steps, "learning_rate": learning_rate, "trainable_parameters": trainable}
    model = model.cpu().to(memory_format=torch.contiguous_format).eval().requires_grad_(True)
    return model, train, history


def start_from(model_class: type, init_from: Optional[str], new_model: Callable[[], Any]) -> Any:
    """A trained detector to continue from (its ``training`` record kept in ``config.training_history``), or a
    new model from ``new_model()`` when ``init_from`` is ``None``."""
    if not init_from:
        return new_model()
    model = model_class.from_pretrained(init_from)
    earlier = [getattr(model.config, "training", None)]
    model.config.training_history = [*getattr(model.config, "training_history", []), *filter(None, earlier)]
    return model


def crop_model_to_train(model_class: type, args: argparse.Namespace, new_model: Callable[[], Any]) -> tuple[Any, Any]:
    """The model a native-crop run starts from (:func:`start_from` ``args.init_from``, else ``new_model()``), set to
    score ``args.crops_per_side`` squared crops of ``args.crop_size`` px at the ``balanced`` threshold, and the
    processor that gives it those crops: ``(model, processor)``."""
    model = start_from(model_class, args.init_from, new_model)
    model.config.image_size = args.crop_size
    model.config.crops_per_side = args.crops_per_side
    model.config.default_threshold = "balanced"
    return model, model.default_processor()


def crop_run_record(
    args: argparse.Namespace, model: Any, processor: Any, train: datasets.Dataset, started: float, **specific: Any
) -> dict[str, Any]:
    """Calibrate a model trained on crops on the validation splits of ``args.calibration_dataset`` and return its
    ``training`` record: the data, the run's own settings (``specific``), the calibration and the time.

    Args:
        args: the script's options (``dataset``, ``max_train_samples``, ``batch_size``, ``calibration_dataset``,
            ``max_calibration_samples``, ``seed``).
        model: the trained model (its calibration is replaced); processor: its image processor.
        train: the training rows; started: ``time.time()`` when the run started.
        specific: the recipe's own entries (steps, learning rates, augmentation...), in order.
    """
    trained = time.time()
    limits = [optional_limit(count) for count in args.max_calibration_samples]
    return {
        "datasets": list(args.dataset),
        "split": "train",
        "n_train_images": int(train.num_rows),
        "max_train_samples": args.max_train_samples,
        **specific,
        "batch_size": args.batch_size,
        "calibration": calibrate_on_validation(model, processor, args.calibration_dataset, limits, args.seed),
        "train_seconds": round(trained - started, 1),
        "device": training_device(),
    }


#: The augmentation of the native-crop recipes, in words (the ``training`` record of their configs).
CROP_AUGMENTATION = (
    "flip, rescale 0.5-1.5x (p=0.25), blur 0.3-1.2 px (p=0.1), JPEG q60-100 (p=0.5), random crop at native "
    "resolution"
)


def train_efficientnet_on_crops(args: argparse.Namespace) -> EfficientNetDetectorForImageClassification:
    """Train the EfficientNet detector on native-resolution crops of several sources, in two phases; calibrate, save.

    The same two-phase recipe as :func:`train_efficientnet` (the head on the frozen backbone, then the whole
    network), on the crops and augmentation of :func:`train_npr` (:func:`train_on_crops`); images smaller than a
    crop (CIFAKE's 32 px) are upscaled to it, as the saved processor does at inference. Each phase runs a fixed
    number of steps (no checkpoint is picked on validation); P(fake) and the thresholds are calibrated on the
    validation splits of ``args.calibration_dataset``.

    Args:
        args: the options of ``scripts/train_efficientnet_on_crops.py``.

    Returns:
        The trained, calibrated model (float32; saved in float16 to ``args.output_dir``).

    Example:
        >>> train_efficientnet_on_crops(parse_args(["--output-dir", "runs/effnet_crops", "--max-steps", "10"]))  # doctest: +SKIP
    """
    set_seed(args.seed)
    started = time.time()
    model, processor = crop_model_to_train(
        EfficientNetDetectorForImageClassification, args,
        lambda: EfficientNetDetectorForImageClassification.from_imagenet(
            EfficientNetDetectorConfig(backbone=args.backbone, head_hidden_size=args.head_hidden_size,
                                       score_scale="logit")),
    )
    phases = [("head", args.head_steps, args.head_learning_rate), ("finetune", args.max_steps, args.learning_rate)]
    model, train, history = train_on_crops(model.to(memory_format=torch.channels_last), processor, args, phases)
    round_to_float16_(model)  # calibrated (in crop_run_record) on the weights as they are stored
    record = crop_run_record(
        args, model, processor, train, started,
        init_from=args.init_from or model.config.backbone_weights,
        crop_size=args.crop_size,
        phase_1_head=history.get("head", {}),
        phase_2_finetune=history.get("finetune", {}),
        augmentation=CROP_AUGMENTATION + " (images smaller than a crop upscaled to it)",
    )
    save_trained_detector(model, processor, args.output_dir, record, float16=True, show_thresholds=False)
    return model


def train_ela_cnn_on_crops(args: argparse.Namespace) -> ElaCnnForImageClassification:
    """Train the ELA + CNN detector on native-resolution crops of several sources; calibrate, save.

    Each augmented crop (:func:`train_on_crops`; offsets on the 8-pixel JPEG grid) gets its own ELA map, stacked
    with the crop (:class:`~deepfake_detectors.ElaCropImageProcessor`); images smaller than a crop (CIFAKE's
    32 px) are used whole, as the CIFAKE model saw them. A fixed number of steps; P(fake) and the thresholds are
    calibrated on the validation splits of ``args.calibration_dataset``.

    Args:
        args: the options of ``scripts/train_ela_cnn_on_crops.py``.

    Returns:
        The trained, calibrated model (also saved to ``args.output_dir``).

    Example:
        >>> train_ela_cnn_on_crops(parse_args(["--output-dir", "runs/ela_crops", "--max-steps", "10"]))  # doctest: +SKIP
    """
    set_seed(args.seed)
    started = time.time()
    model, processor = crop_model_to_train(
        ElaCnnForImageClassification, args,
        lambda: ElaCnnForImageClassification(ElaCnnConfig(image_size=args.crop_size, hidden_sizes=args.hidden_sizes)),
    )
    model, train, history = train_on_crops(model, processor, args, [("all", args.max_steps, args.learning_rate)])
    record = crop_run_record(
        args, model, processor, train, started,
        init_from=args.init_from or "random initialisation",
        crop_size=args.crop_size,
        **history.get("all", {}),
        augmentation=CROP_AUGMENTATION + " on the 8-pixel JPEG grid, ELA computed on each augmented crop",
    )
    save_trained_detector(model, processor, args.output_dir, record, show_thresholds=False)
    return model
