"""Does correcting the reconstruction error for image complexity help? (2026-12-06, no test split)

AEROBLADE's known weakness is content: a smooth image (a portrait with a blurred background, a clear sky) is
reconstructed faithfully by any autoencoder, so the released ``deepfake-reconstruction-error`` score (minus the log
feature error of one centred 256 px crop; higher = more likely AI) also measures how little detail an image has.
Serra et al. (ICLR 2020) correct such scores for input complexity with a lossless compressor's code length; the
package already does this for the CIFAKE autoencoder (``deepfake_detectors.features.complexity``).

Corrected score = score - (a + b * bits), ``bits`` the PNG code length (bits per pixel value) of the same centred
crop the detector scores, ``a`` and ``b`` a least-squares line fitted on **real photos only**: 400 wild *train* real
photos (100 per source where a source has them, else all; seed 0). No AI image and nothing of the two selection sets
is used in the fit, and the detector has no other fitted weight, so both sets stay out of sample.

Rule, written before the run: the correction is adopted only if its AUROC beats the released score's by >= 0.02 on
**both** wild validation (671 images) and the five new public sources (``runs/photo_sources``, 737 images), the
rule every earlier photo change had to meet. One variant only (no other complexity measure, no other crop).

Run from the repository root (2 CPU cores, about 12 minutes; ``runs/photo_sources`` from
``scripts/build_photo_sources.py``):
    python docs/experiments/reconstruction_complexity_correction.py \
        > docs/experiments/reconstruction_complexity_correction.log
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.evaluation import auroc_against_other_class
from deepfake_detectors.features.complexity import compressed_bits_per_dimension
from deepfake_detectors.training.data import load_image_dataset

RELEASED = "hub_repos/deepfake-reconstruction-error"
TRAIN_REALS_PER_SOURCE = 100
MIN_GAIN = 0.02


def scores_and_bits(detector: EnsembleDeepfakeDetector, images: list) -> tuple[np.ndarray, np.ndarray]:
    """The released pipeline's score of each image and the PNG bits per value of the crop it scores."""
    processor = detector.processors[next(iter(detector.members))]
    scores = np.array([result.score for result in detector.predict(images, batch_size=16)], dtype=float)
    bits = []
    for start in range(0, len(images), 16):
        crops = processor(images[start : start + 16], return_tensors="pt")["pixel_values"]  # [batch, crops, 3, h, w]
        unit = (crops.flatten(0, 1).float() + 1.0) / 2.0
        bits.append(compressed_bits_per_dimension(unit).view(crops.shape[0], -1).mean(1))
    return scores, torch.cat(bits).numpy().astype(float)


def wild_train_reals() -> list:
    split = load_image_dataset("../shared/data/wild", "train")
    rng = np.random.default_rng(0)
    sources = np.array(split["source"])
    labels = np.array(split["label"])
    chosen = []
    for source in sorted(set(sources[labels == 0])):
        rows = np.flatnonzero((sources == source) & (labels == 0))
        chosen += sorted(rng.choice(rows, size=min(TRAIN_REALS_PER_SOURCE, len(rows)), replace=False).tolist())
    print(f"fit set: {len(chosen)} wild train real photos "
          + ", ".join(f"{s} {int(np.sum(sources[chosen] == s))}" for s in sorted(set(sources[chosen]))))
    return [split[int(index)]["image"].convert("RGB") for index in chosen]


def selection_set(name: str) -> tuple[list, np.ndarray, list[str]]:
    if name == "wild validation":
        parts = [load_image_dataset("../shared/data/wild", "validation")]
    else:
        parts = [load_image_dataset("runs/photo_sources", split) for split in ("train", "validation")]
    images, labels, sources = [], [], []
    for part in parts:
        images += [image.convert("RGB") for image in part["image"]]
        labels += list(part["label"])
        sources += list(part["source"])
    return images, np.array(labels), sources


def report(name: str, labels: np.ndarray, sources: list[str], values: dict[str, np.ndarray]) -> dict[str, float]:
    found = {}
    print(f"\n== {name}: {len(labels)} images, {int(labels.sum())} AI")
    for label, score in values.items():
        found[label] = roc_auc_score(labels, score)
        per_source = auroc_against_other_class(labels, score, sources)
        print(f"{label:<28} AUROC {found[label]:.3f} | "
              + " | ".join(f"{source} {value:.3f}" for source, value in sorted(per_source.items())))
    return found


def main() -> None:
    torch.manual_seed(0)
    detector = EnsembleDeepfakeDetector.from_pretrained(RELEASED)
    fit_scores, fit_bits = scores_and_bits(detector, wild_train_reals())
    slope, intercept = np.polyfit(fit_bits, fit_scores, 1)
    fitted = intercept + slope * fit_bits
    r2 = 1 - np.sum((fit_scores - fitted) ** 2) / np.sum((fit_scores - fit_scores.mean()) ** 2)
    print(f"line on real photos: score = {intercept:.3f} + {slope:.3f} * bits (R^2 {r2:.3f}); "
          f"bits per value {fit_bits.mean():.2f} +- {fit_bits.std():.2f}")
    results = {}
    for name in ("wild validation", "new sources"):
        images, labels, sources = selection_set(name)
        scores, bits = scores_and_bits(detector, images)
        print(f"\n{name}: mean bits real {bits[labels == 0].mean():.2f}, AI {bits[labels == 1].mean():.2f}; "
              f"AUROC of fewer bits alone {roc_auc_score(labels, -bits):.3f}")
        results[name] = report(name, labels, sources, {
            "released score": scores,
            "complexity-corrected score": scores - (intercept + slope * bits),
        })
    gains = {name: found["complexity-corrected score"] - found["released score"] for name, found in results.items()}
    adopted = all(gain >= MIN_GAIN for gain in gains.values())
    print("\nrule: adopt only if the corrected score gains >= 0.02 AUROC on both sets; gains "
          + ", ".join(f"{name} {gain:+.3f}" for name, gain in gains.items())
          + f" -> {'ADOPT' if adopted else 'not adopted'}")


if __name__ == "__main__":
    main()
