#!/usr/bin/env python
"""Score a bundled repo on wild test and put the result in its card (a section of its own, replaced on rerun).

For the repos trained on CIFAKE only: the card then shows how they do on the images people actually check, per
source and per generator, next to their CIFAKE figures, and opens the card with a plain-words section (what the
model is for, where it fails, install, which figure comes from which split). Writes ``results_wild_test.json`` and
``predictions_wild_test.jsonl`` into the repo. The repo's default threshold is used. ``--validation`` scores wild
validation instead (``results_wild_validation.json``: how well the repo's P(fake) is calibrated on photos), without
touching the test split.

Example:
    python scripts/evaluate_wild.py hub_repos/deepfake-efficientnet hub_repos/deepfake-ela-cnn
    python scripts/evaluate_wild.py --validation hub_repos/deepfake-efficientnet
    python scripts/evaluate_wild.py --cards-only hub_repos/deepfake-autoencoder   # no scoring
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.cards import plain_words_section, put_after_title, replace_card_section, wild_section
from deepfake_detectors.evaluation import evaluate_detector


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", help="hub_repos/<name> folders")
    parser.add_argument("--wild", default="../shared/data/wild")
    parser.add_argument("--cards-only", action="store_true", help="rewrite the card sections from the saved results")
    parser.add_argument("--validation", action="store_true", help="score wild validation instead of wild test")
    args = parser.parse_args(argv)
    for repo in map(Path, args.repos):
        command = f"python scripts/evaluate_wild.py {repo.as_posix()}"
        if not args.cards_only:
            split = "validation" if args.validation else "test"
            previous = repo / f"results_wild_{split}.json"
            looks = json.loads(previous.read_text()).get("test_looks", 1) + 1 if previous.exists() else 1
            detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
            with tempfile.TemporaryDirectory() as scratch:
                results = evaluate_detector(detector, args.wild, split, output_dir=scratch, model_name=repo.name)
                shutil.copy(Path(scratch) / "predictions.jsonl", repo / f"predictions_wild_{split}.jsonl")
            results.pop("plots", None)
            if split == "test":
                results["test_looks"] = looks  # how often wild test has been scored for this repo (once per release)
            previous.write_text(json.dumps(results, indent=2) + "\n")
            keys = ("auroc", "recall", "fpr", "expected_calibration_error")
            print(json.dumps({"repo": repo.name, "split": split, **{key: results[key] for key in keys}}))
        if not (repo / "results_wild_test.json").exists():  # validation scored first: the test run writes the card
            continue
        results = json.loads((repo / "results_wild_test.json").read_text())
        validation, before = (read_if_present(repo / name) for name in (
            "results_wild_validation.json", "results_wild_test_before_out_of_domain_calibration.json"))
        out_of_domain = (read_if_present(repo / "thresholds_calibrated.json") or {}).get("out_of_domain")
        calibration_command = f"python scripts/calibrate_out_of_domain.py {repo.as_posix()} --dataset {args.wild}"
        section = wild_section(results, command, validation, out_of_domain=out_of_domain, before=before,
                               calibration_command=calibration_command)
        replace_card_section(repo / "README.md", section)
        put_after_title(repo / "README.md", plain_words_section(repo.name, results, out_of_domain=bool(out_of_domain)))


def read_if_present(path: Path) -> Optional[dict]:
    """The JSON in ``path``, or ``None`` when there is no such file."""
    return json.loads(path.read_text()) if path.exists() else None


if __name__ == "__main__":
    main()
