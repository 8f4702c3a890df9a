"""The ``deepfake-detect`` commands: ``detect`` images, ``evaluate`` a model on a labelled dataset.

The arguments are defined (and checked) in :mod:`deepfake_detectors_cli`, which needs no torch; this module runs
the commands. ``python -m deepfake_detectors.cli`` works too (it is what ``accelerate launch -m`` runs).

Examples:
    deepfake-detect detect examples/ --model hub_repos/deepfake-npr-detector
    deepfake-detect detect "photos/**/*.jpg" --threshold strict --output results.csv
    deepfake-detect evaluate --model hub_repos/deepfake-autoencoder --dataset ../shared/data/cifake \
        --split test --output runs/eval-autoencoder
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from .pipeline import EnsembleDeepfakeDetector
    from .provenance import Provenance

#: Show a progress bar for more images than this.
PROGRESS_MIN_IMAGES = 8
#: The header line of ``detect``'s standard output.
STDOUT_HEADER = "source\tscore\tverdict\tconfidence\tin_domain"


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def apply_precision(detector: "EnsembleDeepfakeDetector", precision: str) -> None:
    """``--precision``: switch the detector (see ``EnsembleDeepfakeDetector.set_precision``) and say on stderr which
    members run in bfloat16, or that none can.

    Args:
        detector: the loaded detector.
        precision: ``"float32"`` (nothing to do) or ``"bfloat16"``.
    """
    if precision == "float32":
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        switched = detector.set_precision(precision)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    if switched:
        print(f"precision: {precision} for {', '.join(switched)} (thresholds calibrated in float32)", file=sys.stderr)


def command_detect(args: argparse.Namespace) -> int:
    """Score files, folders and globs; print one line per image; exit 1 only if nothing could be scored.

    With ``--output``, rows are streamed to disk batch by batch (see :mod:`deepfake_detectors.scan_output`);
    Ctrl-C keeps what was scored and exits 130; a closed stdout pipe ends the scan quietly.
    """
    from .scan_output import ScanOutput, check_output_path, earlier_rows, merge_shards, shard_path

    output = Path(args.output) if args.output else None
    if output is not None:
        check_output_path(output)  # before any model is loaded or image scored
    if args.resume and output is None:
        raise ValueError("--resume needs --output (the file to continue)")
    from .pipeline import EnsembleDeepfakeDetector
    from .processing import iter_image_files

    skipped: list[tuple[str, str]] = []
    paths = iter_image_files(args.paths, skipped)
    for path, reason in skipped:
        print(f"skipped: {path} ({reason})", file=sys.stderr)
    if skipped:
        print(f"skipped {len(skipped)} file(s) that cannot be scored (named above)", file=sys.stderr)
    if not paths:
        print("error: no image files found in " + " ".join(args.paths), file=sys.stderr)
        return 1
    detector = EnsembleDeepfakeDetector.from_pretrained(args.model, device=args.device)
    apply_precision(detector, getattr(args, "precision", "float32"))
    if args.threshold is not None:
        detector.set_threshold(args.threshold)
    state = distributed_state()  # under `accelerate launch`: this process scores every world_size-th image
    rank, world = (state.process_index, state.num_processes) if state is not None else (0, 1)
    sink, done = None, set()
    if output is not None:
        earlier = earlier_rows(output) if args.resume else []  # read before the partial file is started again
        done = {str(row.get("source")) for row in earlier}
        sink = ScanOutput(output if world == 1 else shard_path(output, rank), members=detector.voting_members)
        if rank == 0:
            sink.write(earlier)
    remaining = [path for path in paths if path not in done]
    todo = remaining[rank::world]
    if done and rank == 0:
        print(f"resuming: {len(paths) - len(remaining)} of {len(paths)} images already in {output}", file=sys.stderr)
    scored = failed = out_of_domain = declared = 0
    status = 0
    bar = tqdm_bar(len(todo), disable=len(todo) <= PROGRESS_MIN_IMAGES or args.no_progress)
    try:
        routed = detector.config.routed  # a domain-routed detector: one more column, the member that judged
        if rank == 0:
            print(STDOUT_HEADER + ("\tjudged_by" if routed else ""))
        for results in detector.predict_batches(todo, batch_size=args.batch_size):
            declarations = [None if result.error is not None else file_provenance(result.source) for result in results]
            for result, provenance in zip(results, declarations):
                if result.error is not None:
                    failed += 1
                    print(f"error: {result.error}", file=sys.stderr)
                else:
                    scored += 1
                    domain = {True: "yes", False: "no", None: "-"}[result.in_domain]
                    judge = f"\t{result.calibration_domain}" if routed else ""
                    print(f"{result.source}\t{result.score:+.3f}\t{result.label}\t{result.confidence:.1%}\t{domain}{judge}")
                    if provenance is not None and (provenance.declares_ai or provenance.content_credentials):
                        print(f"declared: {result.source}: {provenance.summary()}", file=sys.stderr)
                        declared += provenance.declares_ai
                    if result.in_domain is False:
                        out_of_domain += 1
                        recalibrated = (" (threshold and P(fake) from its out-of-domain calibration)"
                                        if result.calibration_domain == "out-of-domain" else "")
                        print(f"unreliable: {result.source}: {result.domain_note}{recalibrated}", file=sys.stderr)
            sys.stdout.flush()
            if sink is not None:
                sink.write([dict(result.to_dict(), **metadata_columns(provenance))
                            for result, provenance in zip(results, declarations)])
            bar.update(len(results))
    except KeyboardInterrupt:
        print(f"\ninterrupted: {scored + failed} of {len(todo)} images done", file=sys.stderr)
        status = 130
    except BrokenPipeError:  # `deepfake-detect ... | head`: the reader has gone; stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so that the final flush at exit cannot fail again
        status = 0 if scored else 1
    finally:
        bar.close()
        if sink is not None:
            sink.close()
    if state is not None and output is not None:
        state.wait_for_everyone()
        if rank == 0:
            merge_shards(output, world, detector.voting_members)
    inside, outside = detector.applied_thresholds()
    print(
        f"{scored} of {len(todo)} images scored, {failed} could not be read"
        + (f", {len(skipped)} skipped" if skipped else "")
        + (f", {out_of_domain} unlike the detector's training images (verdict unreliable)" if out_of_domain else "")
        + (f", {declared} whose metadata declares AI generation (see above)" if declared else "")
        + f"; threshold {inside.name} = {inside.value:.3f} "
        + (f"for the images {inside.calibration_domain} judged, {outside.name} = {outside.value:.3f} for those "
           f"{outside.calibration_domain} judged " if detector.config.routed else
           f"(far outside its domain: {outside.name} = {outside.value:.3f} of its out-of-domain calibration) "
           if outside is not None else "")
        + "(score = standard deviations above real images; higher = more likely fake)"
        + (f"; results in {output}" if output is not None else ""),
        file=sys.stderr,
    )
    if status:
        return status
    return 0 if scored or done else 1


def file_provenance(source: object) -> Optional["Provenance"]:
    """What the scored file's own metadata declares (:func:`deepfake_detectors.provenance.read_provenance`), or
    ``None`` when the input was not a readable file. Shown beside the pixel verdict, never mixed into it."""
    from .provenance import read_provenance

    if not isinstance(source, (str, Path)) or not Path(source).is_file():
        return None
    try:
        return read_provenance(source)
    except OSError:  # the file went away after scoring: nothing to add
        return None


def metadata_columns(provenance: Optional["Provenance"]) -> dict[str, object]:
    """The output-file columns of a file's metadata declaration (empty when there was no file to read)."""
    if provenance is None:
        return {"metadata_declares_ai": None, "content_credentials": None, "metadata_evidence": ""}
    return {"metadata_declares_ai": provenance.declares_ai, "content_credentials": provenance.content_credentials,
            "metadata_evidence": "; ".join(provenance.evidence)}


def distributed_state():
    """accelerate's ``PartialState`` when this process is one of several (``accelerate launch``), else ``None``."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    from accelerate import PartialState

    return PartialState(cpu=not __import__("torch").cuda.is_available())


def tqdm_bar(total: int, disable: bool):
    """The progress bar of ``detect`` (on stderr)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="scoring", unit="img", disable=disable)


def command_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a model on a labelled dataset and write ``results.json`` plus plots to ``--output``."""
    from .evaluation.evaluate import evaluate_detector
    from .pipeline import EnsembleDeepfakeDetector

    detector = EnsembleDeepfakeDetector.from_pretrained(args.model, device=args.device)
    apply_precision(detector, getattr(args, "precision", "float32"))
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
        for key in ("n_real", "n_fake", "auroc", "accuracy", "recall", "fpr", "expected_calibration_error", "out_of_domain")
    }
    if "by_judge" in results:  # a domain-routed detector: how many images each member judged, and how well
        summary["by_judge"] = {name: {key: row[key] for key in ("n", "share", "accuracy", "auroc")}
                               for name, row in results["by_judge"].items()}
    shortcuts = results.get("shortcut_baselines")
    if shortcuts:
        strongest = shortcuts["strongest"]
        summary["strongest_shortcut"] = {"statistic": strongest, **shortcuts[strongest]}
        if results.get("auroc") is not None and shortcuts[strongest]["auroc"] >= results["auroc"]:
            print(f"warning: {strongest} alone reaches AUROC {shortcuts[strongest]['auroc']:.3f} on this set, as "
                  f"high as the detector's {results['auroc']:.3f}: the set can be told apart by how its images were "
                  "made or stored, and the detector's figures may reflect that rather than detection", file=sys.stderr)
    print(json.dumps(summary))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` like ``deepfake-detect`` and run the command (exit status returned)."""
    from deepfake_detectors_cli import build_parser

    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run a parsed ``deepfake-detect`` command; a bad model, file or threshold is one ``error:`` line and exit 2."""
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
