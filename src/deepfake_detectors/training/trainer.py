"""Train one-class deep detectors with ``transformers.Trainer`` (checkpoints, resuming, logging, multi-GPU)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import datasets
import torch
from transformers import Trainer, TrainingArguments

from .data import collate_pixel_values


@dataclass
class OneClassTrainingConfig:
    """Optimisation settings of a one-class member.

    Args:
        output_dir: where Trainer writes checkpoints and logs.
        epochs: passes over the (real-only) training data.
        max_steps: stop after this many optimiser steps (overrides ``epochs`` when > 0).
        batch_size: images per device per step.
        learning_rate: peak Adam learning rate (cosine decay, short warm-up).
        weight_decay: AdamW weight decay.
        seed: random seed of Trainer (shuffling, initialisation of new layers).
        logging_steps: log the loss every this many steps.
        resume_from_checkpoint: a checkpoint folder, or ``"latest"`` to continue from the newest one.
        num_workers: worker processes for decoding images.
    """

    output_dir: str
    epochs: float = 10.0
    max_steps: int = -1
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-6
    seed: int = 0
    logging_steps: int = 50
    resume_from_checkpoint: Optional[str] = None
    num_workers: int = 0


def training_arguments(options: Any, output_dir: str, **settings: Any) -> TrainingArguments:
    """``TrainingArguments`` from optimisation options, plus a run's own settings.

    From the options: ``max_steps``, batch size, learning rate, weight decay, seed and decoding workers; always:
    cosine decay (unless ``settings`` say otherwise), no reporting, the ``labels`` column kept, the CPU when no
    GPU is there. ``settings`` override any of these.

    Args:
        options: parsed options of :func:`~deepfake_detectors.training.add_optimisation_arguments`, or a
            :class:`OneClassTrainingConfig` (``max_steps``, ``batch_size``, ``learning_rate``, ``weight_decay``,
            ``seed``, ``num_workers``).
        output_dir: where Trainer writes checkpoints and logs.
        settings: further ``TrainingArguments`` fields (evaluation, saving, warm-up, ...).

    Example:
        >>> training_arguments(args, "runs/x", warmup_steps=0.03, **KEEP_BEST_BY_ACCURACY)  # doctest: +SKIP
    """
    common: dict[str, Any] = {
        "output_dir": output_dir,
        "max_steps": options.max_steps,
        "per_device_train_batch_size": options.batch_size,
        "learning_rate": options.learning_rate,
        "weight_decay": options.weight_decay,
        "lr_scheduler_type": "cosine",
        "seed": options.seed,
        "report_to": "none",
        "remove_unused_columns": False,
        "dataloader_num_workers": options.num_workers,
        "use_cpu": not torch.cuda.is_available(),
    }
    return TrainingArguments(**{**common, **settings})


def train_one_class(
    model: torch.nn.Module, train_dataset: datasets.Dataset, settings: OneClassTrainingConfig
) -> Trainer:
    """Fit a detector whose ``forward(pixel_values)`` returns its one-class loss.

    Runs unchanged under ``accelerate launch`` (Trainer picks up the distributed set-up).

    Args:
        model: a detector model (its forward returns ``loss``).
        train_dataset: a dataset yielding ``pixel_values`` (see :class:`~deepfake_detectors.training.ImageTransform`).
        settings: optimisation settings.

    Returns:
        The Trainer after training (``trainer.model`` is the trained model).

    Example:
        >>> trainer = train_one_class(model, real_train, OneClassTrainingConfig("runs/ae", epochs=1))  # doctest: +SKIP
    """
    args = training_arguments(
        settings,
        settings.output_dir,
        num_train_epochs=settings.epochs,
        warmup_steps=0.03,
        logging_steps=settings.logging_steps,
        save_strategy="epoch",
        save_total_limit=1,
        disable_tqdm=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=train_dataset, data_collator=collate_pixel_values)
    resume = settings.resume_from_checkpoint
    trainer.train(resume_from_checkpoint=True if resume == "latest" else resume)
    return trainer
