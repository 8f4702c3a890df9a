#!/usr/bin/env python
"""Train the NPR detector on native-resolution crops of several sources, calibrate it, save it.

Flow: the train split of every ``--dataset`` (``--max-train-samples`` each, half per class) -> augmentation
(flip, rescale 0.5-1.5x, blur, JPEG q60-100) and a random crop at native resolution
(``deepfake_detectors.training.native_crops``) -> ``transformers.Trainer`` with batches of one crop shape, a fixed
number of steps (no checkpoint is picked on validation) -> Platt scaling of the fake logit and the named
thresholds on the validation split of wild (the domain the model is for) -> ``save_pretrained`` of model and processor.

Hyper-parameters were chosen on wild-train sources held out of training (see the model card), never on a test
split. Runs unchanged under ``accelerate launch scripts/train_npr.py ...``.

Example (2 CPU cores, about 20 minutes; aligned pairs from ``scripts/make_aligned_pairs.py`` are one more --dataset):
    python scripts/train_npr.py --dataset ../shared/data/wild ../shared/data/cifake \
        --max-train-samples -1 10000 --max-steps 4000 --output-dir runs/npr
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Optional, Sequence

import torch
from transformers import TrainingArguments, set_seed

from deepfake_detectors import (
    NativeCropImageProcessor,
    NprDetectorConfig,
    NprDetectorForImageClassification,
)
from deepfake_detectors.training.supervised import calibrate_on_validation
from deepfake_detectors.training.native_crops import (
    CropAugmentation,
    CropTransform,
    ShapeGroupedTrainer,
    crop_shape_groups,
    load_crop_sources,
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", nargs="+", default=["../shared/data/wild", "../shared/data/cifake"])
    data.add_argument("--max-train-samples", type=int, nargs="+", default=[-1, 10000], help="per dataset; -1 = all")
    data.add_argument(
        "--calibration-dataset", nargs="+", default=["../shared/data/wild"],
        help="datasets whose validation split calibrates P(fake) and the thresholds (the domain the model is for)",
    )
    data.add_argument("--max-calibration-samples", type=int, nargs="+", default=[-1], help="per dataset; -1 = all")
    model = parser.add_argument_group("model")
    model.add_argument("--crop-size", type=int, default=96)
    model.add_argument("--crops-per-side", type=int, default=3, help="crops per side at inference")
    model.add_argument("--hidden-sizes", type=int, nargs="+", default=[32, 64, 128, 128])
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--max-steps", type=int, default=4000)
    optim.add_argument("--batch-size", type=int, default=32)
    optim.add_argument("--learning-rate", type=float, default=2e-3)
    optim.add_argument("--weight-decay", type=float, default=1e-4)
    optim.add_argument("--seed", type=int, default=0)
    optim.add_argument("--num-workers", type=int, default=0)
    out = parser.add_argument_group("output")
    out.add_argument("--output-dir", required=True)
    out.add_argument("--run-dir", default=None, help="Trainer checkpoints and logs (default: <output-dir>_trainer)")
    return parser.parse_args(argv)


def limit(value: int) -> Optional[int]:
    return None if value < 0 else value


def main(argv: Optional[Sequence[str]] = None) -> NprDetectorForImageClassification:
    args = parse_args(argv)
    set_seed(args.seed)
    started = time.time()
    processor = NativeCropImageProcessor(crop_size=args.crop_size, crops_per_side=args.crops_per_side)
    model = NprDetectorForImageClassification(
        NprDetectorConfig(hidden_sizes=args.hidden_sizes, image_size=args.crop_size)
    )
    train = load_crop_sources(args.dataset, "train", [limit(v) for v in args.max_train_samples], args.seed)
    augmentation = CropAugmentation(crop_size=args.crop_size, seed=args.seed)
    identity = {0: 0, 1: 1}
    trainer = ShapeGroupedTrainer(
        model=model,
        args=TrainingArguments(
            output_dir=args.run_dir or f"{args.output_dir}_trainer",
            max_steps=args.max_steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            weight_decay=args.weight_decay,
            lr_scheduler_type="cosine",
            warmup_steps=0.05,
            logging_steps=50,
            save_strategy="steps",
            save_steps=500,
            save_total_limit=1,
            seed=args.seed,
            report_to="none",
            remove_unused_columns=False,
            dataloader_num_workers=args.num_workers,
            use_cpu=not torch.cuda.is_available(),
        ),
        train_dataset=train.with_transform(CropTransform(augmentation, identity, augment=True)),
        train_shapes=crop_shape_groups(train, args.crop_size),
    )
    trainer.train()
    model = trainer.model.cpu().eval()
    trained = time.time()

    limits = [limit(count) for count in args.max_calibration_samples]
    calibration = calibrate_on_validation(model, processor, args.calibration_dataset, limits, args.seed)
    model.config.training = {
        "datasets": list(args.dataset),
        "split": "train",
        "n_train_images": int(train.num_rows),
        "max_train_samples": args.max_train_samples,
        "max_steps": args.max_steps,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "augmentation": "flip, rescale 0.5-1.5x (p=0.25), blur 0.3-1.2 px (p=0.1), JPEG q60-100 (p=0.5), random "
        "even-offset crop at native resolution",
        "calibration": calibration,
        "train_seconds": round(trained - started, 1),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
    }
    model.save_pretrained(args.output_dir)
    processor.save_pretrained(args.output_dir)
    print(json.dumps({"output_dir": args.output_dir, **model.config.training}, indent=2))
    return model


if __name__ == "__main__":
    main()
