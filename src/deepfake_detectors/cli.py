"""The ``deepfake-detect`` command: ``detect`` images, ``evaluate`` a model on a labelled dataset.

Examples:
    deepfake-detect detect examples/ --model hub_repos/deepfake-npr-detector
    deepfake-detect detect "photos/**/*.jpg" --threshold strict --output results.csv
    deepfake-detect evaluate --model hub_repos/deepfake-autoencoder --dataset ../shared/data/cifake \
        --split test --output runs/eval-autoencoder
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

DEFAULT_MODEL = str(Path(__file__).resolve().parents[2] / "hub_repos" / "deepfake-npr-detector")
#: Show a progress bar for more images than this.
PROGRESS_MIN_IMAGES = 8


def parse_threshold(text: str) -> object:
    """A threshold argument: a number, or a preset name (strict, balanced, sensitive, optimal)."""
    try:
        return float(text)
    except ValueError:
        return text


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def write_results(rows: list[dict], output: Path) -> None:
    """Write result rows as JSON lines (``.jsonl``/``.json``) or CSV (``.csv``), chosen by the extension."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        members = sorted({name for row in rows for name in row.get("member_scores", {})})
        fields = ["source", "label", "score", "is_fake", "probability", "threshold", "threshold_name", "error"]
        with output.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields + [f"member_{name}" for name in members])
            writer.writeheader()
            for row in rows:
                flat = {key: row.get(key) for key in fields}
                flat.update({f"member_{name}": row.get("member_scores", {}).get(name) for name in members})
                writer.writerow(flat)
    elif output.suffix.lower() in (".jsonl", ".json"):
        with output.open("w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    else:
        raise SystemExit(f"error: --output must end in .jsonl, .json or .csv, got {output}")


def command_detect(args: argparse.Namespace) -> int:
    """Score files, folders and globs; print one line per image; exit 1 only if nothing could be scored."""
    from .pipeline import EnsembleDeepfakeDetector
    from .processing import iter_image_files

    paths = iter_image_files(args.paths)
    if not paths:
        print("error: no image files found in " + " ".join(args.paths), file=sys.stderr)
        return 1
    detector = EnsembleDeepfakeDetector.from_pretrained(args.model, device=args.device)
    if args.threshold is not None:
        detector.set_threshold(args.threshold)
    results = detector.predict(
        paths, batch_size=args.batch_size, progress=len(paths) > PROGRESS_MIN_IMAGES and not args.no_progress
    )
    scored = 0
    for result in results:
        if result.error is not None:
            print(f"error: {result.error}", file=sys.stderr)
            continue
        scored += 1
        print(f"{result.source}\t{result.score:+.3f}\t{result.label}")
    value, name = detector.threshold
    print(
        f"{scored} of {len(results)} images scored; threshold {name} = {value:.3f} "
        f"(score = standard deviations above real images; higher = more likely fake)",
        file=sys.stderr,
    )
    if args.output:
        write_results([result.to_dict() for result in results], Path(args.output))
    return 0 if scored else 1


def command_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a model on a labelled dataset and write ``results.json`` plus plots to ``--output``."""
    from .evaluation.evaluate import evaluate_detector
    from .pipeline import EnsembleDeepfakeDetector

    detector = EnsembleDeepfakeDetector.from_pretrained(args.model, device=args.device)
    if args.threshold is not None:
        detector.set_threshold(args.threshold)
    results = evaluate_detector(
        detector,
        dataset=args.dataset,
        split=args.split,
        limit=args.limit,
        output_dir=args.output,
        batch_size=args.batch_size,
        model_name=args.model,
        robustness=args.robustness,
        progress=not args.no_progress,
    )
    summary = {
        key: results.get(key)
        for key in ("n_real", "n_fake", "auroc", "accuracy", "recall", "fpr", "expected_calibration_error")
    }
    print(json.dumps(summary))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deepfake-detect``."""
    parser = argparse.ArgumentParser(prog="deepfake-detect", description="Detect AI-generated images.")
    commands = parser.add_subparsers(dest="command", required=True)

    detect = commands.add_parser("detect", help="score images, folders (recursive) and globs")
    detect.add_argument("paths", nargs="+", help="image files, folders or glob patterns")
    detect.add_argument("--output", help="also write all results to a .jsonl or .csv file")

    evaluate = commands.add_parser("evaluate", help="evaluate on a labelled dataset, write metrics and plots")
    evaluate.add_argument("--dataset", required=True, help="datasets directory / repo id, or a folder with real/ fake/")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--limit", type=int, default=None, help="at most this many images (stratified)")
    evaluate.add_argument("--output", required=True, help="output directory for results.json and plots")
    evaluate.add_argument(
        "--robustness", action="store_true", help="also measure accuracy after JPEG / resize / blur perturbations"
    )

    for sub in (detect, evaluate):
        sub.add_argument("--model", default=DEFAULT_MODEL, help="model directory or Hub repo id")
        sub.add_argument("--threshold", type=parse_threshold, default=None, help="strict|balanced|sensitive|optimal or a number")
        sub.add_argument("--batch-size", type=int, default=64)
        sub.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
        sub.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``deepfake-detect`` console script."""
    args = build_parser().parse_args(argv)
    _quiet_transformers()
    try:
        if args.command == "detect":
            return command_detect(args)
        return command_evaluate(args)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
