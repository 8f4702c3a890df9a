#!/usr/bin/env python
"""Publishable repo of a trained native-crop detector (NPR, photo autoencoder, ...): weights, wild / CIFAKE / AI-art test, card.

The wild test split is the headline (``results_summary.json``, plots, model-index); CIFAKE test and AI-art test go
to ``results_extra.json``. Each test split is scored exactly once here, after training and calibration are done.
The steps are in ``deepfake_detectors.supervised_repos``, the card text in ``deepfake_detectors.cards``.

Example:
    python scripts/build_native_crop_repo.py --model runs/npr --name deepfake-npr-detector \
        --reproduce-script scripts/npr_weights.sh --selection docs/npr_selection.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.cards import native_crop_card_body, rebuild_sentence
from deepfake_detectors.evaluation import evaluate_detector
from deepfake_detectors.hub import write_model_card
from deepfake_detectors.registry import detector_spec
from deepfake_detectors.supervised_repos import (
    NATIVE_CROP_CARD_TEXTS,
    add_repo_arguments,
    check_repo_arguments,
    evaluate_if_present,
    evaluate_into_repo,
    looked_at_sentence,
    prepare_repo,
    previous_test_looks,
    record_test_looks,
    read_repo_results,
    write_extra_results,
)

#: Images in CIFAKE's test split (a repo scored on fewer says so).
CIFAKE_TEST_IMAGES = 10_000


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_repo_arguments(
        parser, name="deepfake-npr-detector", title="NPR detector: AI-generated image detection at native resolution"
    )
    parser.add_argument("--namespace", default="deepfake-detectors", help="shown in the card's repo ids")
    parser.add_argument("--wild", default="../shared/data/wild")
    parser.add_argument("--cifake", default="../shared/data/cifake")
    parser.add_argument("--aiart", default="../shared/data/aiart")
    parser.add_argument("--cifake-limit", type=int, default=None, help="score a stratified subset of CIFAKE test")
    parser.add_argument("--selection", required=True, help="Markdown file: how the recipe was chosen")
    args = parser.parse_args(argv)
    check_repo_arguments(parser, args)

    out = Path(args.hub_dir) / args.name
    looks = previous_test_looks(out) + 1  # this repo's test splits scored again, whatever changed
    detector = prepare_repo(args.model, out, cards_only=args.cards_only)
    if args.cards_only:
        wild, extra = read_repo_results(out)
    else:
        wild = evaluate_into_repo(detector, args.wild, out, args.name, predictions_name="predictions_wild_test.jsonl")
        wild = record_test_looks(out, looks)
        extra = {
            "cifake_test": evaluate_detector(detector, args.cifake, "test", limit=args.cifake_limit, model_name=args.name),
            "aiart_test": evaluate_if_present(detector, args.aiart, args.name),
        }
        write_extra_results(out, extra)
    name, model = next(iter(detector.members.items()))
    cifake_images = extra["cifake_test"]["n_real"] + extra["cifake_test"]["n_fake"]
    cifake_subset = f" (a stratified subset of {cifake_images:,} images)" if cifake_images < CIFAKE_TEST_IMAGES else ""
    body = native_crop_card_body(
        title=args.title,
        repo_id=f"{args.namespace}/{args.name}",
        text=NATIVE_CROP_CARD_TEXTS[model.config.model_type],
        model=model,
        processor=detector.processors[name],
        wild=wild,
        cifake=extra["cifake_test"],
        aiart=extra["aiart_test"],
        selection=Path(args.selection).read_text(),
        reproduce=Path(args.reproduce_script).read_text(),
        looked_at=looked_at_sentence(wild.get("test_looks", 1), cifake_subset),
        rebuilt=rebuild_sentence(out),
        member_name=name,
    )
    write_model_card(
        out,
        model_name=args.name,
        body=body,
        evaluations=[(wild, "wild (native-resolution photos and AI images)", "wild", "test"),
                     (extra["cifake_test"], "CIFAKE (re-split)", "cifake", "test")],
        tags=[detector_spec(model).family, model.config.model_type.removeprefix("deepfake-"), "native-resolution"],
        datasets=["wild", "cifake"],
    )
    print(json.dumps({key: wild[key] for key in ("auroc", "accuracy", "recall", "fpr")}, indent=2))


if __name__ == "__main__":
    main()
