#!/usr/bin/env python
"""Publishable repo of a trained supervised detector: weights, processor, evaluation, plots and model card.

Evaluates on the CIFAKE test split (with the robustness sweep) and, untuned, on the AI-art test split, at the
``optimal`` threshold (best F1 on the validation split, stored at calibration time). The steps and the card text
are in ``deepfake_detectors.supervised_repos``.

Example:
    python scripts/build_supervised_repo.py --model runs/ela_cnn --name deepfake-ela-cnn \
        --title "Error Level Analysis + CNN" --reproduce-script scripts/ela_cnn_weights.sh
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors.hub import write_model_card
from deepfake_detectors.supervised_repos import (
    SUPERVISED_TAGS,
    add_repo_arguments,
    check_repo_arguments,
    evaluate_if_present,
    evaluate_into_repo,
    prepare_repo,
    read_repo_results,
    save_explanation_examples,
    supervised_card_body,
    supervised_evaluations,
    write_extra_results,
)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_repo_arguments(parser)
    parser.add_argument("--description", default="")
    parser.add_argument("--notes", default="", help="a paragraph after the results (context, published figures)")
    parser.add_argument("--dataset", default="../shared/data/cifake")
    parser.add_argument("--second-domain", default="../shared/data/aiart")
    parser.add_argument("--threshold", default="optimal")
    args = parser.parse_args(argv)
    check_repo_arguments(parser, args)

    out = Path(args.hub_dir) / args.name
    detector = prepare_repo(args.model, out, cards_only=args.cards_only)
    detector.set_threshold(args.threshold)
    if args.cards_only:
        test, extra = read_repo_results(out)
        aiart = extra.get("aiart_test")
    else:
        test = evaluate_into_repo(detector, args.dataset, out, args.name, robustness=True)
        aiart = evaluate_if_present(detector, args.second_domain, args.name)
        write_extra_results(out, {"aiart_test": aiart})
    model = next(iter(detector.members.values()))
    body = supervised_card_body(
        title=args.title,
        description=args.description,
        notes=args.notes,
        repo_dir=out,
        model=model,
        test=test,
        aiart=aiart,
        explanation_png=save_explanation_examples(detector, out),
        reproduce=Path(args.reproduce_script).read_text(),
    )
    write_model_card(
        out, model_name=args.name, body=body, evaluations=supervised_evaluations(test, aiart),
        tags=SUPERVISED_TAGS.get(model.config.model_type, ["supervised"]),
    )
    print(json.dumps({k: test[k] for k in ("auroc", "accuracy", "precision", "recall", "f1", "fpr")}, indent=2))


if __name__ == "__main__":
    main()
