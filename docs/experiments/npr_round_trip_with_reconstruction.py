"""NPR after a q90 JPEG round trip, averaged with the reconstruction error (2026-12-06, inference only, no test split)

Two findings of the same day: a JPEG round trip at quality 90 before scoring lifts NPR on the five public sources of
``runs/photo_sources`` (harness networks: 0.450 -> 0.564 AUROC; ``docs/npr_selection.md``, "Compression history
balanced"), and an equal-weight average of the released NPR with the reconstruction error lost to the reconstruction
error alone there (0.607 against 0.684; ``npr_reconstruction_average.py``), because NPR was below chance. So: the
released ``deepfake-npr-detector`` scoring round-tripped images, averaged with the released
``deepfake-reconstruction-error`` scoring the images as stored; each score standardised by the mean and standard
deviation of the wild validation *real* images (no fake label used), nothing fitted.

Rule, written before the run: the average replaces the reconstruction error as the default's photo judge only if it
beats it by >= 0.02 AUROC on **both** wild validation and the new sources (wild validation is in-sample for NPR,
whose checkpoint and crops were chosen there, so the new sources weigh more: a gain on wild validation alone counts
for nothing).

Run from the repository root (2 CPU cores, about 6 minutes):
    python docs/experiments/npr_round_trip_with_reconstruction.py > docs/experiments/npr_round_trip_with_reconstruction.log
"""

from __future__ import annotations

import glob
import importlib.util
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.evaluation import auroc_against_other_class
from deepfake_detectors.processing import load_image
from deepfake_detectors.training.data import load_image_dataset

_spec = importlib.util.spec_from_file_location(  # its round_trip and scores_of: one copy of each
    "reconstruction_jpeg_round_trip", Path(__file__).with_name("reconstruction_jpeg_round_trip.py"))
sibling = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sibling)
round_trip, scores_of = sibling.round_trip, sibling.scores_of


def main() -> None:
    torch.set_num_threads(2)
    npr = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-npr-detector")
    error = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-reconstruction-error")
    sets = {"wild validation": [load_image_dataset("../shared/data/wild", "validation")]}
    if glob.glob("runs/photo_sources/data/*.parquet"):
        sets["new sources"] = [load_image_dataset("runs/photo_sources", split) for split in ("train", "validation")]
    scores = {}
    for name, parts in sets.items():
        images = [load_image(image) for part in parts for image in part["image"]]
        labels = np.concatenate([np.asarray(part["label"]) for part in parts])
        sources = np.concatenate([np.asarray(part["source"], dtype=str) for part in parts])
        scores[name] = (labels, sources, scores_of(npr, images),
                        scores_of(npr, [round_trip(image, 90) for image in images]), scores_of(error, images))
    labels, _, *val = scores["wild validation"]
    real = labels == 0
    z = lambda s, ref: (s - ref[real].mean()) / ref[real].std()
    for name, (y, sources, npr_s, npr_rt, error_s) in scores.items():
        print(f"== {name}: {len(y)} images, {int(y.sum())} AI")
        rows = [
            ("NPR (released)", npr_s),
            ("NPR, q90 round trip", npr_rt),
            ("reconstruction error", error_s),
            ("average: NPR + error", (z(npr_s, val[0]) + z(error_s, val[2])) / 2),
            ("average: NPR q90 + error", (z(npr_rt, val[1]) + z(error_s, val[2])) / 2),
        ]
        for label, s in rows:
            per_source = auroc_against_other_class(y, s, sources)
            line = f"{label:26s} AUROC {roc_auc_score(y, s):.3f}"
            print(line + "".join(f" | {g} {a:.3f}" for g, a in per_source.items()), flush=True)


if __name__ == "__main__":
    main()
