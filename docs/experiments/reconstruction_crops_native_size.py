"""One 256 px crop or 2 x 2 of them? The reconstruction-error detector on photos larger than its crop.

Every selection set so far held 256 px crops (wild's images, ``runs/photo_sources``), so the crop count of
``deepfake-reconstruction-error`` (one centred crop) was never chosen on larger images, which is what people
check. This set is the five public sources of ``EXTRA_PHOTO_SOURCES`` processed as wild's images but **not
cropped** (``--crop 8192``: decode, EXIF orientation, RGB, JPEG quality 90 with 4:4:4 chroma at native size;
typically 321-1280 px a side), train and validation rows together (nothing is trained on them).

Rule, written before the run: the released repo's ``crops_per_side`` changes from 1 to 2 (four crops, mean logit
as configured) only if that raises AUROC on this set by >= 0.02; it would cost about four times the time per photo.
Images of at most 256 px (all of wild) give four identical crops, so wild figures cannot move.

Run from the repository root (2 CPU cores: about 30 minutes):
    python scripts/build_photo_sources.py --mirror /work/.mirror --output-dir runs/photo_sources_native --crop 8192
    python docs/experiments/reconstruction_crops_native_size.py > docs/experiments/reconstruction_crops_native_size.log
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from deepfake_detectors.evaluation import auroc_against_other_class

RELEASED = Path("hub_repos/deepfake-reconstruction-error")
NATIVE_SOURCES = "runs/photo_sources_native"


def repo_with_crops(crops_per_side: int) -> Path:
    """A copy of the released repo whose processor (and config record) takes ``crops_per_side`` squared crops."""
    target = Path("runs/reconstruction_crops") / f"crops_{crops_per_side}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(RELEASED, target)
    for name in ("preprocessor_config.json", "config.json"):
        config = json.loads((target / name).read_text())
        config["crops_per_side"] = crops_per_side
        (target / name).write_text(json.dumps(config, indent=2))
    return target


def scores(model: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = []
    for split in ("train", "validation"):
        out = model / f"eval-{split}"
        subprocess.run([str(Path(sys.executable).parent / "deepfake-detect"), "evaluate", "--model", str(model),
                        "--dataset", NATIVE_SOURCES, "--split", split, "--output", str(out), "--no-progress"],
                       check=True, capture_output=True)
        rows += [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    return (np.array([row["label"] for row in rows]), np.array([row["score"] for row in rows], dtype=float),
            [row["source"] for row in rows])


def main() -> None:
    table = {}
    for crops_per_side in (1, 2):
        labels, values, sources = scores(repo_with_crops(crops_per_side))
        table[crops_per_side] = roc_auc_score(labels, values)
        per_source = auroc_against_other_class(labels, values, sources)
        print(f"{crops_per_side} x {crops_per_side} crops of 256 px: AUROC {table[crops_per_side]:.3f} "
              f"({int((labels == 0).sum())} real, {int(labels.sum())} AI); per source: "
              + ", ".join(f"{name} {value:.3f}" for name, value in per_source.items()), flush=True)
    gain = table[2] - table[1]
    print(f"Rule (2 x 2 adopted only if AUROC rises by >= 0.02): {'passes' if gain >= 0.02 else 'fails'} ({gain:+.3f})")


if __name__ == "__main__":
    main()
