#!/usr/bin/env python
"""Build the further training sources of the photo detectors as a `datasets` folder (train and validation only).

Reads the repositories of ``EXTRA_PHOTO_SOURCES`` (``deepfake_detectors.training.photo_sources``) from a folder of
git clones, refuses any reserved for independent evaluation, and processes every image as ``../shared/data/wild``
does (centred native-resolution crop of at most 256 px, JPEG q90 4:4:4), so that format and size carry no label.
The clones come from the tool library's ``fetch`` (``/work/.mirror/owner+name``) or ``git clone --bare``.

Example (2 CPU cores, a few minutes):
    python scripts/build_photo_sources.py --mirror /work/.mirror --output-dir runs/photo_sources
    python scripts/train_npr.py --dataset ../shared/data/wild runs/photo_sources ../shared/data/cifake ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.training.photo_sources import EXTRA_PHOTO_SOURCES, build_photo_dataset


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True, help="folder of git clones, owner+name each")
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--reserved", type=Path, default=Path("../shared/data/RESERVED_SOURCES.sha256"))
    parser.add_argument("--only", nargs="+", default=None, help="source names to build (default: all)")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--quality", type=int, default=90)
    args = parser.parse_args(argv)
    sources = [source for source in EXTRA_PHOTO_SOURCES if args.only is None or source.name in args.only]
    counts = build_photo_dataset(args.mirror, sources, args.output_dir, args.reserved, args.crop, args.quality)
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
