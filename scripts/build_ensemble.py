#!/usr/bin/env python
"""Build the publishable repos of the SVDD + autoencoder detectors from trained members.

Calibrates on held-out validation images, evaluates on the test split (and, untuned, on a second domain), runs
the published sanity check (real images vs uniform noise) and writes, for each repo, the weights, configs,
``thresholds_calibrated.json``, ``results_summary.json``, plots and a model card:

- ``hub_repos/deepfake-autoencoder``: the residual autoencoder alone;
- ``hub_repos/deepfake-ensemble-detector``: Deep SVDD + autoencoder, 50/50 weighted vote.

The work is :func:`deepfake_detectors.training.one_class.build_svdd_autoencoder_repos`.

Example:
    python scripts/build_ensemble.py --autoencoder runs/autoencoder --deep-svdd runs/deep_svdd
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.training.one_class import (
    SvddAutoencoderOptions,
    build_svdd_autoencoder_repos,
)


def build_parser() -> argparse.ArgumentParser:
    """The command line; defaults are :class:`SvddAutoencoderOptions`'."""
    default = SvddAutoencoderOptions(autoencoder="", deep_svdd="")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autoencoder", required=True, help="trained autoencoder directory")
    parser.add_argument("--deep-svdd", required=True, help="trained Deep SVDD directory")
    parser.add_argument(
        "--weights", type=float, nargs=2, default=list(default.weights), help="autoencoder, deep_svdd"
    )
    parser.add_argument("--dataset", default=default.dataset)
    parser.add_argument("--calibration-split", default=default.calibration_split)
    parser.add_argument("--max-calibration-samples", type=int, default=default.max_calibration_samples, help="per class")
    parser.add_argument("--test-split", default=default.test_split)
    parser.add_argument("--test-limit", type=int, default=default.test_limit)
    parser.add_argument("--second-domain", default=default.second_domain)
    parser.add_argument("--hub-dir", default=default.hub_dir)
    parser.add_argument("--cards-only", action="store_true", help="reuse the saved results, rewrite the cards")
    parser.add_argument("--reproduce-script", default=None, help="a script with every command, quoted in the cards")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = build_parser().parse_args(argv)
    invocation = "python scripts/build_ensemble.py " + " ".join(argv if argv is not None else sys.argv[1:])
    command = Path(args.reproduce_script).read_text().strip() if args.reproduce_script else invocation
    options = vars(args)
    options.pop("reproduce_script")
    options["weights"] = tuple(options["weights"])
    summary = build_svdd_autoencoder_repos(SvddAutoencoderOptions(**options, command=command))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
