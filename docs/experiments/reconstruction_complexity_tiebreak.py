"""Second check of the complexity correction: a third selection set breaks the tie (2026-12-06, no test split).

``reconstruction_complexity_correction.py`` (log beside it) failed its rule: the corrected score lost 0.132 AUROC on
wild validation and gained 0.155 on the five new sources. The log also shows why the sets disagree: on wild
validation the PNG code length of the crop *alone* separates the classes (AUROC 0.737 for "fewer bits = AI"; its AI
images are smoother, e.g. the DreamBooth class images were JPEG quality ~75 before the common processing, as the
wild README says), while on the new sources it does not (0.464). A score that follows smoothness gains on the first
set for a reason that says nothing about generators.

This check was written after that result and before this run, and settles it on a third set that neither choice
was made on: the aiart **train** split (583 web images, artworks and photos against AI art; selection only, never
training), scored as stored and with every image re-encoded as JPEG quality 90 with 4:4:4 chroma at its own size
(its README warns that format and JPEG quality differ between its classes). It measures the correction in the form
the package would ship (:class:`~deepfake_detectors.features.complexity.ComplexityAdjustment`: score - slope *
log(bits), slope fitted on the same 354 wild train real photos) next to the first run's linear form.

Rule: the shipped form is released (as a new version of the reconstruction-error detector, its thresholds refitted
on wild validation, its test splits scored once) only if it beats the released score by >= 0.02 AUROC on the
re-encoded aiart train split **and** on the new sources; wild validation is reported and does not decide.

Run from the repository root (2 CPU cores, about 20 minutes; caches scores under ``runs/complexity_tiebreak``):
    python docs/experiments/reconstruction_complexity_tiebreak.py > docs/experiments/reconstruction_complexity_tiebreak.log
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.features.complexity import ComplexityAdjustment
from deepfake_detectors.training.data import load_image_dataset

_spec = importlib.util.spec_from_file_location("first_run", Path(__file__).with_name("reconstruction_complexity_correction.py"))
first_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(first_run)

CACHE = Path("runs/complexity_tiebreak")
MIN_GAIN = 0.02


def reencoded(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, subsampling=0)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def aiart_train(reencode: bool) -> tuple[list, np.ndarray, list[str]]:
    split = load_image_dataset("../shared/data/aiart", "train")
    images = [image.convert("RGB") for image in split["image"]]
    if reencode:
        images = [reencoded(image) for image in images]
    labels = np.array(split["label"])
    return images, labels, ["aiart-real" if label == 0 else "aiart-ai" for label in labels]


def cached(detector: EnsembleDeepfakeDetector, name: str, images: list) -> tuple[np.ndarray, np.ndarray]:
    path = CACHE / f"{name}.npz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        scores, bits = first_run.scores_and_bits(detector, images)
        np.savez(path, scores=scores, bits=bits)
    stored = np.load(path)
    return stored["scores"], stored["bits"]


def main() -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(first_run.RELEASED)
    fit_scores, fit_bits = cached(detector, "wild_train_reals", first_run.wild_train_reals())
    slope, intercept = np.polyfit(fit_bits, fit_scores, 1)
    shipped = ComplexityAdjustment.fit(fit_scores, fit_bits, log_score=False)
    print(f"linear form: score - ({intercept:.3f} + {slope:.3f} * bits); shipped form: score - {shipped.slope:.3f} * "
          f"log(bits); fitted on {shipped.n_real} wild train real photos")
    sets = {
        "wild validation": lambda: first_run.selection_set("wild validation"),
        "new sources": lambda: first_run.selection_set("new sources"),
        "aiart train as stored": lambda: aiart_train(reencode=False),
        "aiart train re-encoded": lambda: aiart_train(reencode=True),
    }
    found = {}
    for name, load in sets.items():
        images, labels, sources = load()
        scores, bits = cached(detector, name.replace(" ", "_"), images)
        print(f"\n{name}: mean bits real {bits[labels == 0].mean():.2f}, AI {bits[labels == 1].mean():.2f}; "
              f"AUROC of fewer bits alone {roc_auc_score(labels, -bits):.3f}")
        found[name] = first_run.report(name, labels, sources, {
            "released score": scores,
            "linear form": scores - (intercept + slope * bits),
            "shipped form": scores - shipped.slope * np.log(bits),
        })
    gains = {name: found[name]["shipped form"] - found[name]["released score"]
             for name in ("aiart train re-encoded", "new sources")}
    adopted = all(gain >= MIN_GAIN for gain in gains.values())
    print("\nrule: release the shipped form only if it gains >= 0.02 AUROC on aiart train re-encoded and on the new "
          "sources; gains " + ", ".join(f"{name} {gain:+.3f}" for name, gain in gains.items())
          + f" -> {'RELEASE' if adopted else 'not released'}")


if __name__ == "__main__":
    main()
