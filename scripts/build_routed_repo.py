#!/usr/bin/env python
"""Join two calibrated detector repos into a domain-routed ensemble repo: each image judged by one of them.

The first judges the images its domain description accepts, the second every other image. The pair and each
member alone are compared on the validation splits (``results_validation.json``); each test split is scored once.

Example:
    python scripts/build_routed_repo.py --first hub_repos/deepfake-efficientnet \
        --second hub_repos/deepfake-reconstruction-error --name deepfake-detector
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.routed_repo import build_routed_repo

TITLE = "Deepfake detector: EfficientNet for CIFAKE-like images, the reconstruction error for photos"


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", default="hub_repos/deepfake-efficientnet", help="judges the images in its domain")
    parser.add_argument(
        "--second", default="hub_repos/deepfake-reconstruction-error", help="judges every other image"
    )
    parser.add_argument("--name", default="deepfake-detector", help="repo folder name under --hub-dir")
    parser.add_argument("--title", default=TITLE)
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--namespace", default="deepfake-detectors", help="shown in the card's repo ids")
    parser.add_argument("--wild", default="../shared/data/wild")
    parser.add_argument("--cifake", default="../shared/data/cifake")
    parser.add_argument("--aiart", default="../shared/data/aiart")
    parser.add_argument(
        "--cifake-validation-limit", type=int, default=None,
        help="compare on a stratified subset of this many CIFAKE validation images (for a slow member)",
    )
    parser.add_argument("--cards-only", action="store_true", help="rewrite the card from the repo's result files")
    args = parser.parse_args(argv)
    arguments = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--cards-only"]
    command = " ".join(["python scripts/build_routed_repo.py", *map(shlex.quote, arguments)])
    wild = build_routed_repo(
        args.first, args.second, Path(args.hub_dir) / args.name, name=args.name, title=args.title, command=command,
        namespace=args.namespace, wild=args.wild, cifake=args.cifake, aiart=args.aiart, cards_only=args.cards_only,
        cifake_validation_limit=args.cifake_validation_limit,
    )
    print(json.dumps({key: wild[key] for key in ("auroc", "accuracy", "recall", "fpr")}, indent=2))


if __name__ == "__main__":
    main()
