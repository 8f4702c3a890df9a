#!/usr/bin/env python
"""Record in a published repo what a rebuild from its card's command gave (``rebuild_check.json``).

Rebuild in a clean checkout first (e.g. ``bash scripts/bundled_weights.sh`` there), then compare each rebuilt repo
folder with the published one. The card quotes the record once it is rewritten (``--cards-only``).

Example:
    python scripts/check_rebuild.py --published hub_repos/deepfake-autoencoder \
        --rebuilt /tmp/clean/hub_repos/deepfake-autoencoder --command "bash scripts/bundled_weights.sh" --code 1a2b3c4
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.evaluation.rebuild import REBUILD_FILE, compare_rebuild


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", required=True, type=Path, help="the repo folder as published")
    parser.add_argument("--rebuilt", required=True, type=Path, help="the same repo written by the rebuild")
    parser.add_argument("--command", required=True, help="what was run for the rebuild")
    parser.add_argument("--code", required=True, help="the code the rebuild ran (a commit id)")
    parser.add_argument("--tolerance", type=float, default=0.005, help="largest AUROC difference that reproduces")
    args = parser.parse_args(argv)
    record = compare_rebuild(args.published, args.rebuilt, command=args.command, code=args.code,
                             tolerance=args.tolerance)
    (args.published / REBUILD_FILE).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record))
    return 0 if record["reproduced"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
