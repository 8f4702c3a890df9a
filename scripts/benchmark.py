#!/usr/bin/env python
"""Throughput of every bundled detector on this machine: whole pipeline vs the sum of its members' own times.

Also each supervised classifier next to its bare network, the time of each pipeline stage, photo-sized JPEGs next
to decoding alone, and the peak memory of ``deepfake-detect detect``; the measurements live in
``deepfake_detectors.evaluation.benchmark``.

Example:
    python scripts/benchmark.py --output docs/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.evaluation.benchmark import BenchmarkSettings, benchmark_report


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--image-size", type=int, default=32, help="side of the JPEG files")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--overhead-repeats", type=int, default=7, help="interleaved rounds of pipeline vs bare network"
    )
    parser.add_argument("--photos", type=int, default=9, help="JPEGs of each photo size (1 MP, 12 MP)")
    parser.add_argument("--output", default=None, help="write the Markdown report here")
    args = parser.parse_args(argv)
    repos = sorted(p for p in Path(args.hub_dir).iterdir() if (p / "config.json").exists())
    settings = BenchmarkSettings(
        images=args.images,
        image_size=args.image_size,
        batch_size=args.batch_size,
        repeats=args.repeats,
        overhead_repeats=args.overhead_repeats,
        photos=args.photos,
    )
    report = benchmark_report(repos, settings)
    print(report)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
