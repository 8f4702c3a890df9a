"""Command line of deepfake-detectors (``deepfake-detect``): the arguments, checked before anything heavy loads.

This module imports nothing but the standard library, so ``deepfake-detect --help`` and ``--version`` answer
without torch or transformers; the commands themselves run in :mod:`deepfake_detectors.cli`.

Example:
    deepfake-detect detect examples/
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from pathlib import Path
from typing import Optional, Sequence

PROGRAM = "deepfake-detect"
THRESHOLD_NAMES = ("strict", "balanced", "sensitive", "optimal")


#: The default detector's Hub repo id, used when this is not a checkout with ``hub_repos/``.
DEFAULT_REPO_ID = "deepfake-detectors/deepfake-detector"


def default_model() -> str:
    """The default detector (EfficientNet for CIFAKE-like images, the reconstruction error for photos, by domain):
    ``hub_repos/deepfake-detector`` of this checkout when there is one (found without importing the package), else
    its Hub repo id."""
    spec = importlib.util.find_spec("deepfake_detectors")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if locations:
        local = Path(locations[0]).resolve().parents[1] / "hub_repos" / "deepfake-detector"
        if (local / "config.json").is_file():
            return str(local)
    return DEFAULT_REPO_ID


def version() -> str:
    """The installed version of the ``deepfake-detectors`` distribution."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("deepfake-detectors")
    except PackageNotFoundError:
        return "unknown (not installed)"


def parse_threshold(text: str) -> object:
    """A ``--threshold``: a name, a probability of fake in (0, 1), or ``score:<number>`` on the score scale.

    Raises:
        argparse.ArgumentTypeError: for anything else, before any model is loaded.
    """
    name = text.strip().lower()
    if name in THRESHOLD_NAMES:
        return name
    scale, _, number = name.rpartition(":")
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a threshold: use {', '.join(THRESHOLD_NAMES)}, a probability such as 0.8, "
            "or score:<number>"
        ) from None
    if scale == "score" and math.isfinite(value):
        return name
    if scale == "" and 0.0 < value < 1.0:
        return value
    raise argparse.ArgumentTypeError(
        f"{text!r}: a numeric threshold is a probability of fake strictly between 0 and 1; write score:{number} "
        "for a cut on the score scale"
    )


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """``--precision float32 | bfloat16`` (applied by ``deepfake_detectors.cli.apply_precision``).

    Args:
        parser: the parser or sub-command to extend.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_precision_argument(parser)
        >>> parser.parse_args(["--precision", "bfloat16"]).precision
        'bfloat16'
    """
    parser.add_argument(
        "--precision", choices=("float32", "bfloat16"), default="float32",
        help="bfloat16: run the reconstruction-error detector's autoencoder (the default's photo judge) in "
        "bfloat16, about twice as fast on CPUs with native bfloat16; thresholds and published figures are float32",
    )


def positive_int(text: str) -> int:
    """A positive integer argument."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples kept as written; each option's default shown where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


DETECT_EXAMPLES = """\
output (stdout): a header, then one tab-separated line per image: source, score, verdict, confidence
(the shown probability of the verdict), in_domain (no: the image is unlike the detector's training images and the
verdict is unreliable; the reason goes to stderr). Unreadable and skipped files are named on stderr and counted.

examples:
  deepfake-detect detect examples/                       # the bundled default detector, its default threshold
  deepfake-detect detect "photos/**/*.jpg" --threshold strict --output results.csv
  deepfake-detect detect uploads/ --output scan.jsonl --resume     # continue an interrupted scan
  deepfake-detect detect photo.jpg --threshold 0.9       # fake only when P(fake) >= 90%
  accelerate launch --num_processes 2 -m deepfake_detectors.cli detect uploads/ --output scan.jsonl
"""

EVALUATE_EXAMPLES = """\
writes results.json (AUROC, accuracy, per source and per generator, calibration error, and what trivial image
statistics alone would score: shortcut_baselines), predictions.jsonl and plots (confusion matrix, ROC, score
histogram) to --output; warns when a trivial statistic separates the set as well as the detector.

examples:
  deepfake-detect evaluate --dataset ../shared/data/wild --split validation --output runs/eval-default
  deepfake-detect evaluate --model hub_repos/deepfake-ela-cnn --dataset ../shared/data/cifake --limit 2000 \\
      --output runs/eval-ela --robustness
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deepfake-detect`` (standard library only)."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Tell AI-generated images from real ones with the deepfake-detectors models.",
        epilog="Run 'deepfake-detect <command> --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    detect = commands.add_parser(
        "detect", help="score images, folders (recursive) and globs", formatter_class=_HelpFormatter,
        description="Score image files, folders (searched recursively) and glob patterns.", epilog=DETECT_EXAMPLES,
    )
    detect.add_argument("paths", nargs="+", help="image files, folders or glob patterns")
    detect.add_argument(
        "--output", default=None,
        help="also write every result to a .jsonl or .csv file (streamed; renamed into place when the scan ends)",
    )
    detect.add_argument(
        "--resume", action="store_true", help="keep the rows already in --output (or its .partial) and score the rest"
    )

    evaluate = commands.add_parser(
        "evaluate", help="evaluate on a labelled dataset, write metrics and plots", formatter_class=_HelpFormatter,
        description="Evaluate a detector on a labelled dataset split.", epilog=EVALUATE_EXAMPLES,
    )
    evaluate.add_argument("--dataset", required=True, help="datasets directory / repo id, or a folder with real/ fake/")
    evaluate.add_argument("--split", default="test", help="the split to evaluate")
    evaluate.add_argument("--limit", type=positive_int, default=None, help="at most this many images (stratified)")
    evaluate.add_argument("--output", required=True, help="output directory for results.json and plots")
    evaluate.add_argument(
        "--robustness", action="store_true", help="also measure accuracy after JPEG / resize / blur perturbations"
    )

    for sub in (detect, evaluate):
        sub.add_argument("--model", default=default_model(), help="model directory or Hub repo id")
        sub.add_argument(
            "--threshold", type=parse_threshold, default=None,
            help="strict | balanced | sensitive | optimal, a probability of fake such as 0.8, or score:<number> "
            "(default: the one the model's config names)",
        )
        sub.add_argument("--batch-size", type=positive_int, default=64, help="images per forward pass")
        sub.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
        add_precision_argument(sub)
        sub.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``deepfake-detect``: parse (``--help``, ``--version`` and bad arguments end here), then run."""
    args = build_parser().parse_args(argv)
    from deepfake_detectors.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
