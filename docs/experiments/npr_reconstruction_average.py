"""Does averaging NPR with the reconstruction error help? (2026-12-05, inference only, no test split)

NPR and the training-free reconstruction detectors miss different images (wild test, seen once per release: NPR
catches 16% of the DALL-E 3 images, the reconstruction error 41%). Fusion fixed before the run: each score
standardised by the mean and standard deviation of the wild validation *real* images (no fake label used), then the
two averaged with equal weight. Wild validation is in-sample for NPR (it chose NPR's checkpoint and crops), so the
five public sources of runs/photo_sources decide; a candidate must beat the reconstruction error alone there.

Needs the cache of ratio_distance_variants.py (/tmp/ratio_cache: each image and its reconstructions).

Usage: python docs/experiments/npr_reconstruction_average.py   (log: npr_reconstruction_average.log)
"""
import glob
import io

import numpy as np
import pyarrow.parquet as pq
import torch
from PIL import Image
from sklearn.metrics import roc_auc_score

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.evaluation import auroc_against_other_class
from deepfake_detectors.modeling.reconstruction_error import lite0_stages

torch.set_num_threads(2)
SETS = {
    "wild validation": sorted(glob.glob("/work/shared/data/wild/data/validation-*.parquet")),
    "new sources": sorted(glob.glob("runs/photo_sources/data/*.parquet")),
}


@torch.no_grad()
def feature_error_scores(name: str) -> np.ndarray:
    """The reconstruction-error score (block 2 of Lite0) of every cached image, as in the experiment."""
    data = np.load(f"/tmp/ratio_cache/{name.replace(' ', '_')}.npz")
    features = lite0_stages(2, pretrained=True)
    normalise = lambda t: (t - 127 / 255) / (128 / 255)
    scores = []
    for i in range(len(data["labels"])):
        x = torch.from_numpy(data[f"x{i}"]).float()[None] / 255
        r1 = torch.from_numpy(data[f"r1_{i}"]).float()[None]
        f = features(normalise(torch.cat([x, r1])))
        f = f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        scores.append(-np.log((f[0] - f[1]).pow(2).sum(0).mean().item()))
    return np.array(scores)


def main() -> None:
    npr = EnsembleDeepfakeDetector.from_pretrained("hub_repos/deepfake-npr-detector")
    scores = {}
    for name, paths in SETS.items():
        table = pq.read_table(paths).to_pandas()
        images = [Image.open(io.BytesIO(cell["bytes"])).convert("RGB") for cell in table["image"]]
        y, src = table["label"].values, table["source"].values.astype(str)
        scores[name] = (y, src, np.array([r.score for r in npr.predict(images)]), feature_error_scores(name))
    y_val, _, npr_val, error_val = scores["wild validation"]
    real = y_val == 0
    z = lambda s, ref: (s - ref[real].mean()) / ref[real].std()
    for name, (y, src, npr_s, error_s) in scores.items():
        fused = (z(npr_s, npr_val) + z(error_s, error_val)) / 2
        print(f"== {name}: {len(y)} images, {int(y.sum())} AI")
        for label, s in [("NPR (released)", npr_s), ("reconstruction error", error_s), ("equal-weight z average", fused)]:
            per_source = auroc_against_other_class(y, s, src)
            line = f"{label:24s} AUROC {roc_auc_score(y, s):.3f}"
            print(line + "".join(f" | {g} {a:.3f}" for g, a in per_source.items()), flush=True)


if __name__ == "__main__":
    main()
