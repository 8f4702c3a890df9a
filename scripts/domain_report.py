#!/usr/bin/env python
"""How often each repo's domain check flags images: wild test (overall and per source) and CIFAKE test.

Only the domain statistics are computed (no scoring); writes ``domain_report.json`` and the card's domain section
into each repo and prints a Markdown table. Test splits are only measured here, never used to fit anything.

Example:
    python scripts/domain_report.py hub_repos/deepfake-npr-detector hub_repos/deepfake-ela-cnn
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.cards import DOMAIN_REPORT_FILE, restore_domain_section
from deepfake_detectors.domain import DOMAIN_FEATURES, statistics_of_sources
from deepfake_detectors.evaluation.data import load_labelled_images


def shortest_side(statistics: np.ndarray) -> np.ndarray:
    """Each image's shorter side in pixels, from its size and aspect statistics (images smaller than a detector's
    crop are out of its domain when it cannot judge enlarged images: ``min_judged_side``)."""
    pixels = 10 ** statistics[:, DOMAIN_FEATURES.index("log10_megapixels")] * 1e6
    aspect = np.exp(statistics[:, DOMAIN_FEATURES.index("abs_log_aspect")])
    return np.round(np.sqrt(pixels / aspect))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", type=Path)
    parser.add_argument("--wild", default="../shared/data/wild")
    parser.add_argument("--cifake", default="../shared/data/cifake")
    parser.add_argument("--cards-only", action="store_true", help="rewrite the card sections from domain_report.json")
    args = parser.parse_args()
    if args.cards_only:
        for repo in args.repos:
            if not restore_domain_section(repo):
                raise SystemExit(f"{repo}: needs domain.safetensors and domain_report.json (run without --cards-only)")
        return
    wild = load_labelled_images(args.wild, split="test")
    cifake = load_labelled_images(args.cifake, split="test")
    print("| repo | wild test | camera JPEGs | other wild sources | CIFAKE test |\n|---|---|---|---|---|")
    for repo in args.repos:
        detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
        flagged = {}
        for name, data in (("wild_test", wild), ("cifake_test", cifake)):
            statistics = statistics_of_sources(data.images, detector.decode_min_size)
            inside, _ = detector.domain.check(statistics)
            flagged[name] = ~inside | (shortest_side(statistics) < detector.min_judged_side)
        sources = np.asarray(wild.groups["source"])
        report = {
            "wild_test": float(flagged["wild_test"].mean()),
            "wild_test_by_source": {s: float(flagged["wild_test"][sources == s].mean()) for s in sorted(set(sources))},
            "cifake_test": float(flagged["cifake_test"].mean()),
            "command": f"python scripts/domain_report.py {repo.as_posix()}",
        }
        (repo / DOMAIN_REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
        restore_domain_section(repo)
        by_source = report["wild_test_by_source"]
        others = ", ".join(f"{s} {v:.1%}" for s, v in by_source.items() if s != "camera-jpegs")
        print(f"| {repo.name} | {report['wild_test']:.1%} | {by_source.get('camera-jpegs', float('nan')):.1%} | "
              f"{others} | {report['cifake_test']:.1%} |")


if __name__ == "__main__":
    main()
