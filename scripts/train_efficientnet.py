#!/usr/bin/env python
"""Train the EfficientNet transfer-learning detector in two phases, calibrate it, save it.

Flow: both classes of a `datasets` source -> augmentation (flips, JPEG re-compression, down-up resizing, blur;
``ImageTransform(augment=True, robust=True)``) -> the backbone's processor (resize to ``--image-size``, the
backbone's ImageNet normalisation) -> two ``transformers.Trainer`` runs on the same model:

1. **head**: the ImageNet backbone frozen, only ``Dense(256) + ReLU + Dropout(0.5) + logit`` trains
   (``--head-epochs``, ``--head-learning-rate``);
2. **fine-tune**: the last ``--unfreeze-stages`` backbone stages (all of them by default) train too
   (``--epochs``, ``--learning-rate``), evaluated on the validation split every ``--eval-every`` of an epoch, the
   best evaluation by accuracy kept (``load_best_model_at_end``).

Then P(fake) is calibrated on validation real and fake images and the model is saved with ``save_pretrained``
(weights stored in float16 to keep the repo small; they load back as float32).

Schedules: AdamW with a linear warm-up and cosine decay in each phase (``--scheduler plateau`` selects
ReduceLROnPlateau on the validation loss, as in the published Keras recipe, which used lr 1e-4 then 1e-5 with
Adam; those rates are too slow for the few epochs a CPU allows, see the model card).

The validation split both picks the best checkpoint and calibrates the thresholds; report test-split results
(``scripts/build_supervised_repo.py``), never validation ones.

``--init-from runs/efficientnet --head-epochs 0 --image-size 96`` continues from a trained detector at a higher
resolution (progressive resizing); the earlier run's ``training`` record is kept in ``training_history``.

Runs unchanged under ``accelerate launch scripts/train_efficientnet.py ...``.

Example (2 CPU cores, about 100 training images/s at 64 px in the fine-tuning phase):
    python scripts/train_efficientnet.py --dataset ../shared/data/cifake --image-size 64 --head-epochs 1 \
        --epochs 4 --output-dir runs/efficientnet
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Optional, Sequence

import torch
from transformers import Trainer, TrainingArguments, set_seed

from deepfake_detectors import (
    EfficientNetDetectorConfig,
    EfficientNetDetectorForImageClassification,
    EnsembleDeepfakeDetector,
)
from deepfake_detectors.training import (
    add_data_arguments,
    balanced,
    collate_pixel_values,
    compute_metrics,
    prepare_supervised_data,
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    model = parser.add_argument_group("model")
    model.add_argument("--backbone", default="efficientnet_lite0", choices=["efficientnet_lite0", "efficientnet_b0", "resnet50"])
    model.add_argument("--init-from", default=None, help="start from a trained detector (e.g. a lower-resolution run: "
                       "progressive resizing) instead of ImageNet weights; use with --head-epochs 0")
    model.add_argument("--backbone-weights-path", default=None, help="local ImageNet state dict (torchvision backbones)")
    model.add_argument("--image-size", type=int, default=64)
    model.add_argument("--head-hidden-size", type=int, default=256)
    model.add_argument("--dropout", type=float, default=0.5)
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--head-epochs", type=float, default=1.0, help="phase 1: head only")
    optim.add_argument("--head-learning-rate", type=float, default=1e-3)
    optim.add_argument("--epochs", type=float, default=4.0, help="phase 2: fine-tuning")
    optim.add_argument("--learning-rate", type=float, default=3e-4, help="phase 2 peak learning rate")
    optim.add_argument("--unfreeze-stages", type=int, default=None, help="last backbone stages to fine-tune (all)")
    optim.add_argument("--scheduler", choices=["cosine", "plateau"], default="cosine")
    optim.add_argument("--eval-every", type=float, default=0.5, help="evaluate every this fraction of an epoch")
    optim.add_argument("--max-steps", type=int, default=-1, help="cap on phase 2 steps (overrides --epochs)")
    optim.add_argument("--batch-size", type=int, default=64)
    optim.add_argument("--weight-decay", type=float, default=1e-2)
    optim.add_argument("--seed", type=int, default=0)
    optim.add_argument("--num-workers", type=int, default=0, help="image decoding worker processes")
    out = parser.add_argument_group("output")
    out.add_argument("--output-dir", required=True, help="where save_pretrained writes the trained detector")
    out.add_argument("--run-dir", default=None, help="Trainer checkpoints and logs (default: runs/<name>_trainer)")
    return parser.parse_args(argv)


def training_arguments(args: argparse.Namespace, phase: str, epochs: float, learning_rate: float, steps_per_epoch: int) -> TrainingArguments:
    """Trainer settings of one phase (``"head"`` or ``"finetune"``)."""
    eval_steps = max(1, int(steps_per_epoch * args.eval_every))
    plateau = args.scheduler == "plateau"
    return TrainingArguments(
        output_dir=f"{args.run_dir or f'runs/{Path(args.output_dir).name}_trainer'}/{phase}",
        num_train_epochs=epochs,
        max_steps=args.max_steps if phase == "finetune" else -1,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=256,
        learning_rate=learning_rate,
        weight_decay=args.weight_decay,
        lr_scheduler_type="reduce_lr_on_plateau" if plateau else "cosine",
        warmup_steps=0.0 if plateau else 0.05,
        logging_steps=25,
        eval_strategy="steps",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=eval_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        greater_is_better=True,
        seed=args.seed,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=args.num_workers,
        use_cpu=not torch.cuda.is_available(),
    )


def main(argv: Optional[Sequence[str]] = None) -> EfficientNetDetectorForImageClassification:
    args = parse_args(argv)
    set_seed(args.seed)
    started = time.time()
    config = EfficientNetDetectorConfig(
        backbone=args.backbone, image_size=args.image_size, head_hidden_size=args.head_hidden_size, dropout=args.dropout
    )
    if args.init_from:
        model = EfficientNetDetectorForImageClassification.from_pretrained(args.init_from)
        model.config.image_size = args.image_size
        model.config.training_history = [*getattr(model.config, "training_history", []), model.config.training]
    else:
        model = EfficientNetDetectorForImageClassification.from_imagenet(config, weights_path=args.backbone_weights_path)
    processor = model.default_processor()

    data = prepare_supervised_data(args, processor)
    train, evaluation, validation_data = data.train, data.evaluation, data.validation
    steps_per_epoch = max(1, train.num_rows // args.batch_size)
    # channels_last convolutions are about 25% faster on CPU; the weights are made contiguous again before saving.
    model = model.to(memory_format=torch.channels_last)

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
            trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        print(f"phase {phase}: {trainable:,} trainable parameters, {epochs} epochs, lr {learning_rate}", flush=True)
        trainer = Trainer(
            model=model,
            args=training_arguments(args, phase, epochs, learning_rate, steps_per_epoch),
            train_dataset=train,
            eval_dataset=evaluation,
            data_collator=collate_pixel_values,
            compute_metrics=compute_metrics,
        )
        trainer.train()
        model = trainer.model
        history[phase] = {"best_validation_accuracy": trainer.state.best_metric, "trainable_parameters": trainable}
    model = model.cpu().to(memory_format=torch.contiguous_format).eval().requires_grad_(True)
    trained = time.time()

    real, fake = balanced(validation_data, 2 * args.max_calibration_samples, args.seed)
    detector = EnsembleDeepfakeDetector.from_members({"efficientnet": (model, processor)}, device="cpu")
    detector.calibrate(real["image"], fake["image"], batch_size=256)
    model.config.training = {
        "dataset": str(args.dataset),
        "split": args.train_split,
        "n_train_images": int(train.num_rows),
        "image_size": args.image_size,
        "init_from": args.init_from or model.config.backbone_weights,
        "phase_1_head": {"epochs": args.head_epochs, "learning_rate": args.head_learning_rate, **history.get("head", {})},
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
        "device": "cuda" if torch.cuda.is_available() else "cpu",
    }
    half = {key: (value.half() if value.is_floating_point() else value).contiguous() for key, value in model.state_dict().items()}
    model.save_pretrained(args.output_dir, state_dict=half)
    processor.save_pretrained(args.output_dir)
    thresholds = model.config.calibration["thresholds"]
    print(json.dumps({"output_dir": args.output_dir, **model.config.training, "thresholds": thresholds}, indent=2))
    return model


if __name__ == "__main__":
    main()
