"""Which selection data predicts wild test? Every photo detector on wild validation and on five public sources no
released detector was trained on (``runs/photo_sources``, built by ``scripts/build_photo_sources.py``), next to
the wild test figures its card already reports (read from ``results_summary.json``; no test split is scored here).

Run from the repository root (2 CPU cores: about 20 minutes):
    python scripts/build_photo_sources.py --mirror /work/.mirror --output-dir runs/photo_sources
    python docs/experiments/new_sources_check.py runs/photo_sources > docs/experiments/new_sources_check.log
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

REPOS = (
    "deepfake-detector", "deepfake-npr-detector", "deepfake-zero-shot-entropy", "deepfake-autoencoder-photos",
    "fake-image-detection-ensemble-photos",
)


def predictions(repo: str, dataset: str, split: str, out: Path) -> list[dict]:
    """``deepfake-detect evaluate`` of one repo on one split; its ``predictions.jsonl`` rows."""
    if not (out / "predictions.jsonl").exists():
        subprocess.run(
            [str(Path(sys.executable).parent / "deepfake-detect"), "evaluate", "--model", f"hub_repos/{repo}", "--dataset", dataset, "--split", split,
             "--output", str(out), "--no-progress"],
            check=True, capture_output=True,
        )
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def auroc(rows: list[dict]) -> float:
    labels = np.array([row["label"] for row in rows])
    return roc_auc_score(labels, [row["score"] for row in rows]) if 0 < labels.sum() < len(labels) else float("nan")


def flagged(rows: list[dict]) -> str:
    return f"{np.mean([row['is_fake'] for row in rows]):.1%}" if rows else "-"


def main(new_sources: str) -> None:
    header = ("| repo | wild validation AUROC | new sources AUROC | flagged: people-photos / bsd-100 | caught: "
              "nano-banana / ai-bingo / comfyui-examples | wild test AUROC (card) | wild test flagged: camera / "
              "Unsplash |")
    print(header)
    print("|---" * 7 + "|")
    for repo in REPOS:
        out = Path("runs/new_sources_check") / repo
        validation = predictions(repo, "../shared/data/wild", "validation", out / "wild-validation")
        new = [row for split in ("train", "validation")
               for row in predictions(repo, new_sources, split, out / f"new-{split}")]
        by_source = {name: [row for row in new if row.get("source") == name]
                     for name in ("people-photos", "bsd-100", "nano-banana", "ai-bingo", "comfyui-examples")}
        test = json.loads(Path(f"hub_repos/{repo}/results_summary.json").read_text())
        test_sources = test["by_source"]
        camera, unsplash = (test_sources.get(name, {}) for name in ("camera-jpegs", "unsplash-men"))
        print(
            f"| {repo} | {auroc(validation):.3f} | {auroc(new):.3f} | {flagged(by_source['people-photos'])} / "
            f"{flagged(by_source['bsd-100'])} | {flagged(by_source['nano-banana'])} / {flagged(by_source['ai-bingo'])}"
            f" / {flagged(by_source['comfyui-examples'])} | {test['auroc']:.3f} | "
            f"{camera.get('flagged', float('nan')):.1%} / {unsplash.get('flagged', float('nan')):.1%} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/photo_sources")
