"""Does one JPEG round trip before scoring help the reconstruction-error detector? (2026-12-06, no test split)

The real and AI images of both selection sets differ in how much JPEG compression they have been through, in
opposite directions (evaluate's ``jpeg_resave_change``: wild validation 0.823, photos change more; new sources 0.657
/ 0.618, AI images change more). For NPR, re-saving every image once as a JPEG at quality 90 before scoring lifted
the new sources from 0.450 to 0.564 AUROC and cost the held-out wild sources 0.037 (``docs/npr_selection.md``,
"Compression history balanced"). This script asks the same of the default's photo judge,
``hub_repos/deepfake-reconstruction-error`` as released (nothing fitted): every image of wild validation and of the
five public sources of ``runs/photo_sources`` (train and validation rows; no released detector was trained on them)
scored as stored and after one round trip at quality 90 (and 75), with the AUROC within fifths of the PNG bits and
of the re-save change of the stored image beside each.

Rule, written before the run (the rule of the other reconstruction-error experiments,
``docs/reconstruction_error_selection.md``): the round trip becomes part of the detector only with >= +0.02 AUROC on
**both** wild validation and the new sources, and no loss within PNG-bits fifths on either.

Run from the repository root (2 CPU cores, about 13 minutes):
    python docs/experiments/reconstruction_jpeg_round_trip.py > docs/experiments/reconstruction_jpeg_round_trip.log
"""

from __future__ import annotations

import glob
import io
import time

import numpy as np
import torch
from PIL import Image
from sklearn.metrics import roc_auc_score

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.evaluation.shortcuts import auroc_within_strata, centre_crop_png_bits, jpeg_resave_change
from deepfake_detectors.processing import load_image
from deepfake_detectors.training.data import load_image_dataset

QUALITIES = (90, 75)


def round_trip(image: Image.Image, quality: int) -> Image.Image:
    """``image`` re-saved once as a JPEG at ``quality`` (PIL, 4:2:0) and decoded."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def scores_of(detector: EnsembleDeepfakeDetector, images: list) -> np.ndarray:
    scores, _, errors = detector.score_images(images, batch_size=16)
    assert not any(errors), [error for error in errors if error]
    return np.asarray(scores, dtype=float)


def main() -> None:
    torch.set_num_threads(2)
    detector = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-reconstruction-error")
    sets = {"wild validation": load_image_dataset("../shared/data/wild", "validation")}
    if glob.glob("runs/photo_sources/data/*.parquet"):
        from datasets import concatenate_datasets

        sets["new sources"] = concatenate_datasets(
            [load_image_dataset("runs/photo_sources", split) for split in ("train", "validation")]
        )
    for name, dataset in sets.items():
        images = [load_image(image) for image in dataset["image"]]
        labels = np.asarray(dataset["label"])
        png_bits = np.array([centre_crop_png_bits(image) for image in images])
        resave = np.array([jpeg_resave_change(image) for image in images])
        print(f"== {name}: {len(images)} images, {int(labels.sum())} AI", flush=True)
        variants = {"as stored (released)": images}
        variants.update({f"q{quality} round trip": [round_trip(image, quality) for image in images]
                         for quality in QUALITIES})
        for label, variant in variants.items():
            start = time.perf_counter()
            scores = scores_of(detector, variant)
            print(f"{label:22s} AUROC {roc_auc_score(labels, scores):.3f} | within PNG-bits fifths "
                  f"{auroc_within_strata(labels, scores, png_bits):.3f} | within re-save-change fifths "
                  f"{auroc_within_strata(labels, scores, resave):.3f} | {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
