"""Shared pieces of the supervised training scripts (ELA + CNN, EfficientNet, NPR).

Labelled data and metrics, the command-line options the scripts share, ``TrainingArguments`` from those options,
the two-phase recipe (head on a frozen backbone, then fine-tuning), calibration on validation images and saving.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import datasets
import numpy as np
import torch
from transformers import EvalPrediction, Trainer, TrainingArguments

from ..processing import DeepfakeImageProcessor
from .data import ImageTransform, collate_pixel_values, load_image_dataset, select_label, random_subset
from .trainer import training_arguments


def label_ids(dataset: datasets.Dataset) -> dict[int, int]:
    """Map a dataset's label ids to ours (real = 0, fake = 1), by ClassLabel name when there are names.

    Args:
        dataset: a dataset with a ``label`` column.

    Example:
        >>> label_ids(load_image_dataset("../shared/data/cifake", "validation"))  # doctest: +SKIP
        {0: 0, 1: 1}
    """
    names = [name.lower() for name in getattr(dataset.features["label"], "names", [])]
    if not names:
        return {0: 0, 1: 1}
    return {names.index("real"): 0, names.index("fake"): 1}


def class_balanced_subsets(
    dataset: datasets.Dataset, limit: Optional[int], seed: int
) -> tuple[datasets.Dataset, datasets.Dataset]:
    """``(real, fake)`` subsets with at most ``limit // 2`` rows each (all rows when ``limit`` is None).

    Args:
        dataset: a dataset with a ``label`` column.
        limit: images in all, half per class; ``None`` keeps everything.
        seed: seed of the random subset.
    """
    per_class = None if limit is None else max(1, limit // 2)
    real = random_subset(select_label(dataset, "real"), per_class, seed)
    return real, random_subset(select_label(dataset, "fake"), per_class, seed)


class SupervisedTransform:
    """``ImageTransform`` (augment, then the model's processor) plus labels mapped to real = 0, fake = 1.

    Args:
        transform: the image transform (with or without augmentation).
        mapping: dataset label id -> our label id, from :func:`label_ids`.
    """

    def __init__(self, transform: ImageTransform, mapping: dict[int, int]) -> None:
        self.transform = transform
        self.mapping = mapping

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, Any]:
        output = self.transform(batch)
        output["labels"] = [self.mapping[int(label)] for label in output["labels"]]
        return output


def trainer_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy (argmax of the two class logits) and ROC AUC of P(fake), for ``Trainer(compute_metrics=...)``."""
    from sklearn.metrics import roc_auc_score

    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    labels = np.asarray(prediction.label_ids)
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float32)
    probability = logits.softmax(-1)[:, 1].numpy()
    metrics = {"accuracy": float((logits.argmax(-1).numpy() == labels).mean())}
    if len(np.unique(labels)) == 2:
        metrics["roc_auc"] = float(roc_auc_score(labels, probability))
    return metrics


def add_dataset_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The ``data`` group with the options of every training script: ``--dataset`` and ``--train-split``.

    Args:
        parser: the script's argument parser.

    Returns:
        The group, to which the script adds its own data options.

    Example:
        >>> add_dataset_arguments(argparse.ArgumentParser()).title
        'data'
    """
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="../shared/data/cifake", help="datasets dir, imagefolder or Hub id")
    data.add_argument("--train-split", default="train")
    return data


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``data`` options every supervised training script shares (dataset, splits, sample limits).

    Args:
        parser: the script's argument parser.
    """
    data = add_dataset_arguments(parser)
    data.add_argument("--validation-split", default="validation", help="best checkpoint and calibration")
    data.add_argument("--max-train-samples", type=int, default=None, help="training images in all (half per class)")
    data.add_argument("--max-eval-samples", type=int, default=2000, help="validation images per evaluation, in all")
    data.add_argument("--max-calibration-samples", type=int, default=2500, help="per class, for calibration")


@dataclass
class SupervisedData:
    """Balanced training and evaluation sets, ready for ``Trainer``, and the validation split for calibration.

    Args:
        train: shuffled, augmented training rows (``pixel_values``, ``labels``).
        evaluation: plain validation rows for the per-epoch evaluation.
        validation: the whole validation split (raw), from which calibration images are drawn.
    """

    train: datasets.Dataset
    evaluation: datasets.Dataset
    validation: datasets.Dataset


def prepare_supervised_data(args: argparse.Namespace, processor: DeepfakeImageProcessor) -> SupervisedData:
    """Load both classes of the splits named by :func:`add_data_arguments` and attach the transforms.

    Training images are augmented (flips, JPEG re-compression, down-up resizing, blur) *before* the processor
    runs, so anything the processor computes (an ELA map) describes the augmented image.

    Args:
        args: parsed arguments with the data options and ``seed``.
        processor: the model's image processor.

    Example:
        >>> data = prepare_supervised_data(args, processor)  # doctest: +SKIP
        >>> Trainer(model=model, train_dataset=data.train, eval_dataset=data.evaluation, ...)  # doctest: +SKIP
    """
    train_data = load_image_dataset(args.dataset, args.train_split)
    validation = load_image_dataset(args.dataset, args.validation_split)
    train = datasets.concatenate_datasets(list(class_balanced_subsets(train_data, args.max_train_samples, args.seed)))
    train = train.shuffle(seed=args.seed)
    evaluation = datasets.concatenate_datasets(list(class_balanced_subsets(validation, args.max_eval_samples, args.seed)))
    augment = ImageTransform(processor, augment=True, robust=True, seed=args.seed)
    plain = ImageTransform(processor, augment=False)
    return SupervisedData(
        train=train.with_transform(SupervisedTransform(augment, label_ids(train_data))),
        evaluation=evaluation.with_transform(SupervisedTransform(plain, label_ids(validation))),
        validation=validation,
    )


def calibrate_on_validation(
    model: torch.nn.Module,
    processor: Any,
    sources: list[str],
    limits: list[Optional[int]],
    seed: int = 0,
    split: str = "validation",
) -> str:
    """Calibrate a single detector (Platt scaling and named thresholds) on the validation splits of datasets.

    Args:
        model: the trained detector (its ``config.calibration`` is replaced).
        processor: its image processor.
        sources: `datasets` sources whose ``split`` is used (never a test split).
        limits: images per source (half per class; ``None`` = all).
        seed: seed of the subsets.
        split: the split read.

    Returns:
        What the calibration was fitted on, in words (for the ``training`` record of the config).

    Example:
        >>> calibrate_on_validation(model, processor, ["../shared/data/wild"], [None])  # doctest: +SKIP
        "validation splits of ['../shared/data/wild'] (302 real, 369 fake)"
    """
    if split == "test":
        raise ValueError("never calibrate on a test split")
    real, fake = [], []
    for source, count in zip(sources, limits):
        source_real, source_fake = class_balanced_subsets(load_image_dataset(source, split), count, seed)
        real += list(source_real["image"])
        fake += list(source_fake["image"])
    calibrate_on_images(model, processor, real, fake, batch_size=64)
    return f"{split} splits of {list(sources)} ({len(real)} real, {len(fake)} fake)"


def calibrate_on_images(
    model: torch.nn.Module, processor: Any, real: Sequence[Any], fake: Sequence[Any], batch_size: int = 64
) -> None:
    """Calibrate a single detector (Platt scaling and named thresholds) on labelled validation images.

    Args:
        model: the trained detector (its ``config.calibration`` is replaced).
        processor: its image processor.
        real: real validation images (never test images).
        fake: fake validation images.
        batch_size: images per forward pass.

    Example:
        >>> validation = load_image_dataset("../shared/data/cifake", "validation")  # doctest: +SKIP
        >>> real, fake = class_balanced_subsets(validation, 200, seed=0)  # doctest: +SKIP
        >>> calibrate_on_images(model, processor, real["image"], fake["image"])  # doctest: +SKIP
    """
    from ..pipeline import EnsembleDeepfakeDetector

    detector = EnsembleDeepfakeDetector.from_members({"detector": (model, processor)}, device="cpu")
    detector.calibrate(real, fake, batch_size=batch_size)


def recalibrate_saved_detector(
    model_dir: str, sources: list[str], limits: list[Optional[int]], seed: int = 0, split: str = "validation"
) -> dict[str, Any]:
    """Recalibrate a saved single detector in place: only its ``config.json`` (and a repo's
    ``thresholds_calibrated.json``) are rewritten; the weights file is left exactly as it is (a float16 repo stays
    float16).

    Args:
        model_dir: a single detector's ``save_pretrained`` folder or repo folder.
        sources: `datasets` sources whose ``split`` is used (never a test split).
        limits: images per source (half per class; ``None`` = all).
        seed: seed of the subsets.
        split: the split read.

    Returns:
        ``{"calibration": what it was fitted on, "thresholds": the named thresholds}``.

    Example:
        >>> recalibrate_saved_detector("runs/npr", ["../shared/data/wild"], [None])["thresholds"]  # doctest: +SKIP
    """
    from transformers import AutoImageProcessor, AutoModel

    from ..pipeline import EnsembleDeepfakeDetector
    from ..pipeline.loading import CALIBRATION_FILE

    model = AutoModel.from_pretrained(model_dir).eval()
    processor = AutoImageProcessor.from_pretrained(model_dir)
    described = calibrate_on_validation(model, processor, sources, limits, seed, split)
    model.config.training = {**(getattr(model.config, "training", None) or {}), "calibration": described}
    model.config.save_pretrained(model_dir)
    if (Path(model_dir) / CALIBRATION_FILE).exists():  # a repo's copy of the calibration, for readers
        EnsembleDeepfakeDetector.from_pretrained(model_dir, device="cpu").save_thresholds(model_dir)
    return {"calibration": described, "thresholds": model.config.calibration["thresholds"]}


def calibrate_on_validation_split(
    model: torch.nn.Module, processor: Any, data: SupervisedData, args: argparse.Namespace
) -> None:
    """Calibrate on balanced real and fake images of the validation split of :func:`prepare_supervised_data`.

    Args:
        model: the trained detector (its ``config.calibration`` is replaced).
        processor: its image processor.
        data: the prepared data (its ``validation`` split is used, never a test split).
        args: parsed options with ``max_calibration_samples`` (per class) and ``seed``.
    """
    real, fake = class_balanced_subsets(data.validation, 2 * args.max_calibration_samples, args.seed)
    calibrate_on_images(model, processor, real["image"], fake["image"], batch_size=256)


# ---------------------------------------------------------------- command-line options shared by the scripts
def optional_limit(count: int) -> Optional[int]:
    """A ``--max-*-samples`` value as a limit: ``None`` (everything) for a negative count.

    Args:
        count: the value given on the command line (``-1`` = all).

    Example:
        >>> optional_limit(-1), optional_limit(500)
        (None, 500)
    """
    return None if count < 0 else count


def add_optimisation_arguments(
    parser: argparse.ArgumentParser,
    *,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    epochs: Optional[float] = None,
    max_steps: int = -1,
    helps: Optional[dict[str, str]] = None,
) -> argparse._ArgumentGroup:
    """The ``optimisation`` options every supervised training script shares, with the script's defaults.

    Adds ``--epochs`` (when ``epochs`` is given), ``--max-steps``, ``--batch-size``, ``--learning-rate``,
    ``--weight-decay``, ``--seed`` and ``--num-workers``; the script adds its own options to the returned group.

    Args:
        parser: the script's argument parser.
        batch_size: default images per device per step.
        learning_rate: default peak learning rate.
        weight_decay: default AdamW weight decay.
        epochs: default number of epochs; ``None`` leaves ``--epochs`` out (a run of ``--max-steps`` only).
        max_steps: default step cap (``-1``: none, ``--epochs`` decides).
        helps: help texts that replace the generic ones, keyed by option name without dashes (``"max-steps"``).

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> group = add_optimisation_arguments(parser, batch_size=32, learning_rate=1e-3, weight_decay=0.0)
        >>> parser.parse_args(["--batch-size", "8"]).batch_size
        8
    """
    helps = {
        "max-steps": "stop after this many steps (overrides --epochs)",
        "num-workers": "image decoding worker processes",
        **(helps or {}),
    }
    optim = parser.add_argument_group("optimisation")
    if epochs is not None:
        optim.add_argument("--epochs", type=float, default=epochs, help=helps.get("epochs"))
    optim.add_argument("--max-steps", type=int, default=max_steps, help=helps.get("max-steps"))
    optim.add_argument("--batch-size", type=int, default=batch_size, help=helps.get("batch-size"))
    optim.add_argument("--learning-rate", type=float, default=learning_rate, help=helps.get("learning-rate"))
    optim.add_argument("--weight-decay", type=float, default=weight_decay, help=helps.get("weight-decay"))
    optim.add_argument("--seed", type=int, default=0)
    optim.add_argument("--num-workers", type=int, default=0, help=helps["num-workers"])
    return optim


def add_crop_data_arguments(parser: argparse.ArgumentParser, max_train_samples: Sequence[int]) -> None:
    """The ``data`` options of the native-crop training scripts: several training sources and the validation
    splits that calibrate P(fake) and the thresholds.

    Args:
        parser: the script's argument parser.
        max_train_samples: default rows per ``--dataset`` (``-1`` = all), wild then CIFAKE.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_crop_data_arguments(parser, [-1, 6000])
        >>> parser.parse_args([]).dataset
        ['../shared/data/wild', '../shared/data/cifake']
    """
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", nargs="+", default=["../shared/data/wild", "../shared/data/cifake"])
    data.add_argument("--max-train-samples", type=int, nargs="+", default=list(max_train_samples),
                      help="per dataset; -1 = all")
    data.add_argument("--calibration-dataset", nargs="+", default=["../shared/data/wild"],
                      help="datasets whose validation split calibrates P(fake) and the thresholds (the domain the "
                      "model is for)")
    data.add_argument("--max-calibration-samples", type=int, nargs="+", default=[-1], help="per dataset; -1 = all")


def add_output_arguments(parser: argparse.ArgumentParser, run_dir_default: str = "runs/<name>_trainer") -> None:
    """The ``output`` options: ``--output-dir`` (required) and ``--run-dir``.

    Args:
        parser: the script's argument parser.
        run_dir_default: the default of ``--run-dir`` in words, for the help text (see :func:`run_directory`).
    """
    out = parser.add_argument_group("output")
    out.add_argument("--output-dir", required=True, help="where save_pretrained writes the trained detector")
    out.add_argument("--run-dir", default=None, help=f"Trainer checkpoints and logs (default: {run_dir_default})")


def run_directory(args: argparse.Namespace) -> str:
    """Where ``Trainer`` writes checkpoints and logs: ``--run-dir``, else ``runs/<name of --output-dir>_trainer``.

    Args:
        args: parsed options with ``run_dir`` and ``output_dir``.

    Example:
        >>> run_directory(argparse.Namespace(run_dir=None, output_dir="models/ela_cnn"))
        'runs/ela_cnn_trainer'
    """
    return args.run_dir or f"runs/{Path(args.output_dir).name}_trainer"


# ---------------------------------------------------------------- Trainer settings and runs
#: ``TrainingArguments`` of a run evaluated on validation that keeps its best checkpoint by accuracy.
KEEP_BEST_BY_ACCURACY: dict[str, Any] = {
    "save_total_limit": 2,
    "load_best_model_at_end": True,
    "metric_for_best_model": "accuracy",
    "greater_is_better": True,
}


def fit_supervised(
    model: torch.nn.Module, settings: TrainingArguments, data: SupervisedData, resume: Optional[str] = None
) -> Trainer:
    """Train a two-class detector with ``Trainer`` on :func:`prepare_supervised_data` output (accuracy, ROC AUC).

    Args:
        model: a detector whose forward takes ``pixel_values`` and ``labels`` and returns the loss and logits.
        settings: the run's ``TrainingArguments``.
        data: training and evaluation sets.
        resume: a checkpoint folder, or ``"latest"`` to continue from the newest one.

    Returns:
        The Trainer after training (``trainer.model`` is the trained model, the best one when it keeps the best).

    Example:
        >>> trainer = fit_supervised(model, training_arguments(args, "runs/x"), data)  # doctest: +SKIP
    """
    trainer = Trainer(
        model=model,
        args=settings,
        train_dataset=data.train,
        eval_dataset=data.evaluation,
        data_collator=collate_pixel_values,
        compute_metrics=trainer_metrics,
    )
    trainer.train(resume_from_checkpoint=True if resume == "latest" else resume)
    return trainer


def phase_training_arguments(
    args: argparse.Namespace, phase: str, epochs: float, learning_rate: float, steps_per_epoch: int
) -> TrainingArguments:
    """``TrainingArguments`` of one phase of :func:`train_head_then_finetune` (``"head"`` or ``"finetune"``).

    Evaluated and saved every ``args.eval_every`` of an epoch, the best checkpoint by accuracy kept; a linear
    warm-up and cosine decay, or ReduceLROnPlateau when ``args.scheduler == "plateau"``. ``--max-steps`` caps the
    fine-tuning phase only.

    Args:
        args: parsed options (those of :func:`training_arguments`, plus ``eval_every``, ``scheduler``,
            ``run_dir`` and ``output_dir``).
        phase: ``"head"`` or ``"finetune"`` (the sub-folder of the run directory).
        epochs: epochs of this phase.
        learning_rate: peak learning rate of this phase.
        steps_per_epoch: optimiser steps in one epoch.
    """
    eval_steps = max(1, int(steps_per_epoch * args.eval_every))
    plateau = args.scheduler == "plateau"
    return training_arguments(
        args,
        f"{run_directory(args)}/{phase}",
        num_train_epochs=epochs,
        max_steps=args.max_steps if phase == "finetune" else -1,
        per_device_eval_batch_size=256,
        learning_rate=learning_rate,
        lr_scheduler_type="reduce_lr_on_plateau" if plateau else "cosine",
        warmup_steps=0.0 if plateau else 0.05,
        logging_steps=25,
        eval_strategy="steps",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=eval_steps,
        **KEEP_BEST_BY_ACCURACY,
    )


def trainable_parameters(model: torch.nn.Module) -> int:
    """The number of parameters that train (``requires_grad``)."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def train_head_then_finetune(
    model: torch.nn.Module, args: argparse.Namespace, data: SupervisedData
) -> tuple[torch.nn.Module, dict[str, dict[str, Any]]]:
    """The transfer-learning recipe: the head on the frozen backbone, then the last backbone stages as well.

    Phase ``head`` (skipped when ``args.head_epochs`` is 0) trains only the head (``model.freeze_backbone()``) for
    ``args.head_epochs`` at ``args.head_learning_rate``; phase ``finetune`` unfreezes the last
    ``args.unfreeze_stages`` stages (all when ``None``; ``model.unfreeze_last_stages``) and trains for
    ``args.epochs`` at ``args.learning_rate``. Each phase keeps its best checkpoint by validation accuracy.

    Args:
        model: a model with ``freeze_backbone()`` and ``unfreeze_last_stages(count)``.
        args: parsed options (see :func:`phase_training_arguments`, plus ``head_epochs``, ``head_learning_rate``,
            ``epochs`` and ``unfreeze_stages``).
        data: training and evaluation sets.

    Returns:
        The trained model and, per phase run, its best validation accuracy and number of trainable parameters.

    Example:
        >>> data = prepare_supervised_data(args, processor)  # doctest: +SKIP
        >>> model, history = train_head_then_finetune(model, args, data)  # doctest: +SKIP
        >>> history["finetune"]["best_validation_accuracy"]  # doctest: +SKIP
        0.97
    """
    steps_per_epoch = max(1, data.train.num_rows // args.batch_size)
    phases = []
    if args.head_epochs > 0:
        model.freeze_backbone()
        phases.append(("head", args.head_epochs, args.head_learning_rate))
    phases.append(("finetune", args.epochs, args.learning_rate))
    history = {}
    for phase, epochs, learning_rate in phases:
        if phase == "finetune":
            trainable = model.unfreeze_last_stages(args.unfreeze_stages)
        else:
            trainable = trainable_parameters(model)
        print(f"phase {phase}: {trainable:,} trainable parameters, {epochs} epochs, lr {learning_rate}", flush=True)
        settings = phase_training_arguments(args, phase, epochs, learning_rate, steps_per_epoch)
        trainer = fit_supervised(model, settings, data)
        model = trainer.model
        history[phase] = {"best_validation_accuracy": trainer.state.best_metric, "trainable_parameters": trainable}
    return model, history


# ---------------------------------------------------------------- after training
def training_device() -> str:
    """``"cuda"`` when a GPU is there, else ``"cpu"`` (recorded in a model's ``training`` record)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def round_to_float16_(model: torch.nn.Module) -> torch.nn.Module:
    """Round the model's floating-point weights and buffers to float16 values, in place (they stay float32).

    Call it before calibrating a detector that :func:`save_trained_detector` will store with ``float16=True``: its
    thresholds and P(fake) are then fitted on the weights users load, not on float32 weights that are never published.

    Args:
        model: the trained detector.

    Returns:
        The same model.

    Example:
        >>> layer = round_to_float16_(torch.nn.Linear(1, 1))
        >>> bool(torch.equal(layer.weight, layer.weight.half().float()))
        True
    """
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())
    return model


def save_trained_detector(
    model: Any,
    processor: Any,
    output_dir: str,
    training: dict[str, Any],
    *,
    float16: bool = False,
    show_thresholds: bool = True,
) -> dict[str, Any]:
    """Record ``training`` in the model's config, ``save_pretrained`` model and processor, print a JSON summary.

    Args:
        model: the trained, calibrated detector.
        processor: its image processor.
        output_dir: the folder written.
        training: the ``training`` record (data, recipe, time) stored in ``config.json``.
        float16: store floating-point weights in float16 (they load back as float32); calibrate after
            :func:`round_to_float16_`, so that the stored calibration fits the stored weights.
        show_thresholds: add the calibrated thresholds to the printed summary.

    Returns:
        The printed summary: ``output_dir``, the training record and (with ``show_thresholds``) the thresholds.

    Example:
        >>> save_trained_detector(model, processor, "runs/ela_cnn", {"epochs": 5})["output_dir"]  # doctest: +SKIP
        'runs/ela_cnn'
    """
    model.config.training = training
    state_dict = None
    if float16:
        state_dict = {
            key: (value.half() if value.is_floating_point() else value).contiguous()
            for key, value in model.state_dict().items()
        }
    model.save_pretrained(output_dir, state_dict=state_dict)
    processor.save_pretrained(output_dir)
    summary = {"output_dir": output_dir, **model.config.training}
    if show_thresholds:
        summary["thresholds"] = model.config.calibration["thresholds"]
    print(json.dumps(summary, indent=2))
    return summary
