#!/usr/bin/env python
"""Start-up benchmark: ``deepfake-detect --help`` next to ``import torch``, and each repo's time to first verdict.

Writes (or replaces) the "## Start-up" section of docs/BENCHMARKS.md; ``make bench`` runs it after
``scripts/benchmark.py``.

Example:
    python scripts/bench_startup.py --output docs/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from deepfake_detectors.cards import replace_card_section
from deepfake_detectors.evaluation.startup import help_rows, startup_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--image", default="examples/photo_real_01.jpg")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=None, help="the Markdown file whose Start-up section is replaced")
    args = parser.parse_args()
    repos = sorted(p for p in Path(args.hub_dir).iterdir() if (p / "config.json").is_file())
    section = "\n".join([
        "## Start-up",
        "",
        "New processes, median of several interleaved runs (files in the OS cache). `--help` and `--version` are",
        "answered by a standard-library argument parser, without importing torch or the package.",
        "",
        "| command | seconds |",
        "|---|---|",
        *help_rows(repeats=max(5, args.repeats)),
        "",
        f"Time to first verdict on `{args.image}` in a new process: import `deepfake_detectors`, "
        "`EnsembleDeepfakeDetector.from_pretrained(repo)`, one `predict` (median of "
        f"{args.repeats}, seconds).",
        "",
        "| repo | import | load | first verdict | total |",
        "|---|---|---|---|---|",
        *startup_rows(repos, args.image, repeats=args.repeats),
        "",
        "Command: `python scripts/bench_startup.py --output docs/BENCHMARKS.md` (part of `make bench`).",
    ])
    print(section)
    if args.output:
        replace_card_section(args.output, section)


if __name__ == "__main__":
    main()
