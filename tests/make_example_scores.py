#!/usr/bin/env python
"""Record what every bundled repo in hub_repos/ says about every image in examples/ (tests/data/example_scores.json).

``tests/test_hub.py`` scores the examples again and compares: a change to the code that moves any bundled
detector's score, verdict or domain check fails it. Rerun this script only when a repo's weights or calibration
change on purpose (a retrained or recalibrated repo), and say so in the commit.
Run: ``python tests/make_example_scores.py`` (every repo), or ``python tests/make_example_scores.py --repo NAME...``
to record only the repos that changed, keeping the others' records as they are.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepfake_detectors import EnsembleDeepfakeDetector

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "data" / "example_scores.json"


def example_paths() -> list[Path]:
    """The bundled example images, in name order."""
    return sorted((ROOT / "examples").glob("*.jpg"))


def bundled_repos() -> list[Path]:
    """The publishable repos under ``hub_repos/``, in name order."""
    return sorted(path for path in (ROOT / "hub_repos").glob("*") if (path / "config.json").exists())


def example_scores(repo: Path) -> dict:
    """``{"threshold": ..., "images": {name: {"score", "is_fake", "in_domain", "threshold"}}}`` of one repo at its
    default threshold."""
    detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu", local_files_only=True)
    results = detector.predict([str(path) for path in example_paths()])
    return {
        "threshold": results[0].threshold,
        "images": {
            Path(result.source).name: {
                "score": result.score, "is_fake": result.is_fake, "in_domain": result.in_domain,
                "threshold": result.threshold,  # an image out of the domain may have its own (out-of-domain calibration)
            }
            for result in results
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", nargs="+", default=None, help="record only these hub_repos/ names")
    args = parser.parse_args()
    repos = [repo for repo in bundled_repos() if args.repo is None or repo.name in args.repo]
    unknown = sorted(set(args.repo or []) - {repo.name for repo in repos})
    if unknown:
        raise SystemExit(f"no such bundled repos: {unknown}")
    recorded = json.loads(OUT.read_text()) if args.repo and OUT.exists() else {}
    recorded.update({repo.name: example_scores(repo) for repo in repos})
    OUT.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(recorded)} repos x {len(example_paths())} images)")


if __name__ == "__main__":
    main()
