"""Does bfloat16 inference on the CPU change the photo detectors' verdicts? (2026-12-06, no test split)

The default's photo judge, ``deepfake-reconstruction-error``, scores about 3 photos a second on 2 CPU cores; 85% of
that is the tiny autoencoder's float32 convolutions at 256 px. CPUs with native bfloat16 (AVX-512 BF16 or AMX, as
this machine has) run those convolutions about twice as fast under ``torch.autocast``. The thresholds and the
published figures were measured in float32, so such a mode can only be an option, and only if it agrees with
float32. ``EnsembleDeepfakeDetector.set_precision("bfloat16")`` runs only the autoencoder in bfloat16 (in an
unrecorded first look on 32 images, the whole model under autocast, the ImageNet feature stages included, moved the
scores further: the feature error is a small difference of large features). This script scores wild validation (671 images;
nothing is fitted here) both ways through the whole pipeline and reports the AUROC of each, how far the scores move (in units of the repo's own score scale: its
standard deviation on real validation images), how many verdicts flip at each named threshold, and the time.

Each detector's ``supports_reduced_precision`` is switched on here, so that a rerun measures both even though the
package now allows bfloat16 for the reconstruction-error detector only (the outcome of this run).

Rule, written before the run: offer the option for a repo only if its AUROC moves by < 0.005 and fewer than 1% of
the verdicts flip at its default threshold.

Run from the repository root (2 CPU cores, about 20 minutes for the two repos):
    python docs/experiments/bfloat16_inference.py > docs/experiments/bfloat16_inference.log
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.modeling.base import cpu_has_native_bfloat16
from deepfake_detectors.training.data import load_image_dataset

REPOS = ("deepfake-reconstruction-error", "deepfake-reconstruction-ratio")
MAX_AUROC_CHANGE = 0.005
MAX_FLIPPED = 0.01


def scored(detector: EnsembleDeepfakeDetector, images: list, bfloat16: bool) -> tuple[np.ndarray, float]:
    """Combined scores of ``images`` and the seconds they took, in float32 or with ``set_precision("bfloat16")``."""
    for model in detector.members.values():  # measure every tiny-autoencoder detector, whatever the package allows
        if hasattr(model, "supports_reduced_precision"):
            model.supports_reduced_precision = True
    detector.set_precision("bfloat16" if bfloat16 else "float32")
    start = time.perf_counter()
    scores, _, errors = detector.score_images(images, batch_size=16)
    assert not any(errors), [error for error in errors if error]
    return scores, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", nargs="+", default=list(REPOS))
    parser.add_argument("--limit", type=int, default=None, help="first N images only (a quick look)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bfloat16: "
          f"{cpu_has_native_bfloat16()}")
    split = load_image_dataset("../shared/data/wild", "validation")
    if args.limit:
        split = split.select(range(args.limit))
    images = [image.convert("RGB") for image in split["image"]]
    labels = np.array(split["label"])
    print(f"wild validation: {len(images)} images, {int(labels.sum())} AI")
    for repo in args.repos:
        detector = EnsembleDeepfakeDetector.from_pretrained(f"hub_repos/{repo}")
        scored(detector, images[:4], bfloat16=True)  # warm-up of both paths
        scored(detector, images[:4], bfloat16=False)
        full, full_seconds = scored(detector, images, bfloat16=False)
        half, half_seconds = scored(detector, images, bfloat16=True)
        real = full[labels == 0]
        scale = float(np.std(real))
        moved = np.abs(half - full) / scale
        auroc_full, auroc_half = roc_auc_score(labels, full), roc_auc_score(labels, half)
        print(f"\n== {repo}: {len(images) / full_seconds:.2f} img/s float32, {len(images) / half_seconds:.2f} img/s "
              f"bfloat16 ({full_seconds / half_seconds:.2f}x)")
        print(f"AUROC float32 {auroc_full:.4f}, bfloat16 {auroc_half:.4f} (change {auroc_half - auroc_full:+.4f})")
        print(f"|score change| in real-score standard deviations: median {np.median(moved):.4f}, "
              f"99th percentile {np.percentile(moved, 99):.4f}, max {moved.max():.4f}")
        flipped_default = None
        for name, value in sorted(detector.calibration.thresholds.items()):
            flipped = np.mean((full >= value) != (half >= value))
            default = name == detector.config.default_threshold
            flipped_default = flipped if default else flipped_default
            print(f"threshold {name:9s} {value:8.3f}: {100 * flipped:.2f}% of verdicts flip" + (" (default)" * default))
        ok = abs(auroc_half - auroc_full) < MAX_AUROC_CHANGE and (flipped_default or 0.0) < MAX_FLIPPED
        print(f"rule (AUROC change < {MAX_AUROC_CHANGE}, < {100 * MAX_FLIPPED:.0f}% flipped at the default): "
              f"{'passes' if ok else 'fails'}")


if __name__ == "__main__":
    main()
