#!/usr/bin/env python
"""Publishable repo of a trained native-crop detector: weights, evaluation on wild / CIFAKE / AI-art test, card.

The wild test split is the headline (``results_summary.json``, plots, model-index); CIFAKE test and AI-art test go
to ``results_extra.json``. Each test split is scored exactly once here, after training and calibration are done.

Example:
    python scripts/build_npr_repo.py --model runs/npr --name deepfake-npr-detector \
        --reproduce-script scripts/npr_weights.sh --selection docs/npr_selection.md
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.cards import native_crop_card_body
from deepfake_detectors.evaluation import evaluate_detector
from deepfake_detectors.hub import write_model_card

DESCRIPTION = (
    "A small residual CNN that never sees the image itself, only its *neighbouring pixel relationships* (NPR, Tan "
    "et al., CVPR 2024): the difference between each pixel and the top-left pixel of its 2 x 2 block. Image "
    "generators end with up-sampling layers that tie those pixels together; camera sensors do not. Trained on "
    "labelled real and AI images, so unlike the one-class detectors of this package it needs examples of fakes."
)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="trained model directory (save_pretrained output); not with --cards-only")
    parser.add_argument("--name", default="deepfake-npr-detector")
    parser.add_argument("--namespace", default="deepfake-detectors", help="shown in the card's repo ids")
    parser.add_argument("--title", default="NPR detector: AI-generated image detection at native resolution")
    parser.add_argument("--wild", default="../shared/data/wild")
    parser.add_argument("--cifake", default="../shared/data/cifake")
    parser.add_argument("--aiart", default="../shared/data/aiart")
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--selection", required=True, help="Markdown file: how the recipe was chosen")
    parser.add_argument("--reproduce-script", required=True)
    parser.add_argument(
        "--cards-only", action="store_true", help="rewrite the card from the repo's result files (no test scoring)"
    )
    args = parser.parse_args(argv)

    if args.model is None and not args.cards_only:
        parser.error("--model is required unless --cards-only")
    out = Path(args.hub_dir) / args.name
    if args.cards_only:
        detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
        wild = json.loads((out / "results_summary.json").read_text())
        extra = json.loads((out / "results_extra.json").read_text())
    else:
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(args.model, out, ignore=shutil.ignore_patterns("checkpoint-*", "runs", "*.bin"))
        detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
        detector.save_thresholds(out)
        wild = evaluate_detector(detector, args.wild, "test", output_dir=str(out), model_name=args.name)
        (out / "results.json").rename(out / "results_summary.json")
        (out / "predictions.jsonl").rename(out / "predictions_wild_test.jsonl")
        extra = {
            "cifake_test": evaluate_detector(detector, args.cifake, "test", model_name=args.name),
            "aiart_test": evaluate_detector(detector, args.aiart, "test", model_name=args.name)
            if Path(args.aiart).exists()
            else None,
        }
        (out / "results_extra.json").write_text(json.dumps(extra, indent=2) + "\n")
    name, model = next(iter(detector.members.items()))
    body = native_crop_card_body(
        title=args.title,
        repo_id=f"{args.namespace}/{args.name}",
        description=DESCRIPTION,
        model=model,
        processor=detector.processors[name],
        wild=wild,
        cifake=extra["cifake_test"],
        aiart=extra["aiart_test"],
        selection=Path(args.selection).read_text(),
        reproduce=Path(args.reproduce_script).read_text(),
        looked_at="wild test, CIFAKE test and AI-art test were each scored once, for this release only.",
    )
    write_model_card(
        out,
        model_name=args.name,
        body=body,
        evaluations=[(wild, "wild (native-resolution photos and AI images)", "wild", "test"),
                     (extra["cifake_test"], "CIFAKE (re-split)", "cifake", "test")],
        tags=["supervised", "npr", "native-resolution"],
        datasets=["wild", "cifake"],
    )
    print(json.dumps({key: wild[key] for key in ("auroc", "accuracy", "recall", "fpr")}, indent=2))


if __name__ == "__main__":
    main()
