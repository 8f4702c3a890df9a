"""Equal-weight averages of the photo detectors' scores on the two selection sets of ``new_sources_check.py``.

Each score is standardised on the wild-validation real photos (nothing fitted on labels), then averaged; AUROC on
wild validation and on the five new sources. Reads the predictions ``new_sources_check.py`` wrote under
``runs/new_sources_check`` (run it first). Seconds:
    python docs/experiments/new_sources_combinations.py > docs/experiments/new_sources_combinations.log
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

REPOS = ("deepfake-npr-detector", "deepfake-zero-shot-entropy", "deepfake-autoencoder-photos",
         "fake-image-detection-ensemble-photos")
PARTS = {"wild validation": ("wild-validation",), "new sources": ("new-train", "new-validation")}


def rows(repo: str, folders: tuple[str, ...]) -> list[dict]:
    found = []
    for folder in folders:
        path = Path("runs/new_sources_check") / repo / folder / "predictions.jsonl"
        found += [json.loads(line) for line in path.read_text().splitlines()]
    return found


def main() -> None:
    data = {repo: {part: rows(repo, folders) for part, folders in PARTS.items()} for repo in REPOS}
    labels = {}
    for part in PARTS:
        order = [[(row.get("index"), row["label"]) for row in data[repo][part]] for repo in REPOS]
        assert all(keys == order[0] for keys in order), f"{part}: the repos scored different images"
        labels[part] = np.array([label for _, label in order[0]])
    standardised = {}
    for repo in REPOS:
        reals = np.array([row["score"] for row in data[repo]["wild validation"] if row["label"] == 0])
        standardised[repo] = {part: (np.array([row["score"] for row in data[repo][part]]) - reals.mean()) / reals.std()
                              for part in PARTS}
    print("| scores averaged | wild validation AUROC | new sources AUROC |\n|---|---|---|")
    for size in (1, 2, 3, 4):
        for combination in itertools.combinations(REPOS, size):
            aurocs = [roc_auc_score(labels[part], np.mean([standardised[r][part] for r in combination], 0))
                      for part in PARTS]
            print(f"| {' + '.join(combination)} | {aurocs[0]:.3f} | {aurocs[1]:.3f} |")


if __name__ == "__main__":
    main()
