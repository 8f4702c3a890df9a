"""The publishable repo of a domain-routed ensemble: two calibrated detector repos joined, scored once, carded.

The package's default detector is built this way (``scripts/build_routed_repo.py``): EfficientNet judges the
CIFAKE-like images its domain description accepts, the reconstruction-error detector every other image.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Optional

from .cards import reduced_precision_sentence, routed_card_body
from .hub import write_model_card
from .pipeline import EnsembleDeepfakeDetector
from .supervised_repos import (
    evaluate_if_present,
    evaluate_into_repo,
    looked_at_sentence,
    previous_test_looks,
    read_repo_results,
    record_test_looks,
    write_extra_results,
)

#: The file with the validation figures the routed pair was chosen on.
VALIDATION_FILE = "results_validation.json"


def validation_comparison(
    first: str, second: str, routed: EnsembleDeepfakeDetector, wild: str, cifake: str,
    cifake_limit: Optional[int] = None,
) -> dict[str, dict[str, Any]]:
    """The routed ensemble and each member alone on wild validation and CIFAKE validation (never a test split).

    Args:
        first, second: the member repos.
        routed: the routed ensemble.
        wild, cifake: the two datasets.
        cifake_limit: score a stratified subset of this many CIFAKE validation images (a member that takes seconds
            per image would otherwise take hours); all of them when ``None``.

    Returns:
        ``{detector: {"wild": results, "cifake": results}}`` (per-source rows dropped, for a short file).
    """
    from .evaluation import evaluate_detector

    detectors = {"routed": routed}
    for repo in (first, second):
        alone = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
        detectors[f"{next(iter(alone.members))} alone"] = alone
    keep = ("n_real", "n_fake", "auroc", "average_precision", "accuracy", "precision", "recall", "f1", "fpr",
            "tpr_at_fpr_1", "expected_calibration_error", "threshold_name", "by_judge")
    table: dict[str, dict[str, Any]] = {}
    for label, detector in detectors.items():
        table[label] = {}
        for split, dataset in (("wild", wild), ("CIFAKE", cifake)):
            limit = cifake_limit if split == "CIFAKE" else None
            results = evaluate_detector(detector, dataset, "validation", model_name=label, limit=limit)
            table[label][split] = {key: results[key] for key in keep if key in results}
    return table


def build_routed_repo(
    first: str,
    second: str,
    out: Path,
    *,
    name: str,
    title: str,
    command: str,
    namespace: str = "deepfake-detectors",
    wild: str = "../shared/data/wild",
    cifake: str = "../shared/data/cifake",
    aiart: str = "../shared/data/aiart",
    cards_only: bool = False,
    cifake_validation_limit: Optional[int] = None,
) -> dict[str, Any]:
    """Join ``first`` and ``second`` (:meth:`EnsembleDeepfakeDetector.route_by_domain`) into ``out``, compare them
    on the validation splits, score each test split once, and write the card.

    Args:
        first: the repo judging the images in its domain (needs ``domain.safetensors``).
        second: the repo judging every other image.
        out: the repo folder (replaced unless ``cards_only``).
        name: the repo name (model-index, results).
        title: the card's title.
        command: the command that runs this build (printed in the card).
        namespace: the Hub namespace shown in the card's snippets.
        wild, cifake, aiart: the datasets (AI-art is skipped when absent).
        cards_only: rewrite the card from the repo's result files (no scoring).
        cifake_validation_limit: compare on a stratified subset of this many CIFAKE validation images (for a slow
            member); all of them when ``None``. CIFAKE test is always scored whole.

    Returns:
        The wild-test results.

    Example:
        >>> build_routed_repo("hub_repos/deepfake-efficientnet", "hub_repos/deepfake-reconstruction-error",
        ...                   Path("hub_repos/deepfake-detector"), name="deepfake-detector", title="...",
        ...                   command="python scripts/build_routed_repo.py")  # doctest: +SKIP
    """
    out = Path(out)
    if cards_only:
        detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
        wild_results, extra = read_repo_results(out)
        validation = json.loads((out / VALIDATION_FILE).read_text())
    else:
        looks = previous_test_looks(out) + 1
        detector = EnsembleDeepfakeDetector.route_by_domain(first, second, device="cpu")
        validation = validation_comparison(first, second, detector, wild, cifake, cifake_limit=cifake_validation_limit)
        if out.exists():
            shutil.rmtree(out)
        detector.save_pretrained(out)
        (out / VALIDATION_FILE).write_text(json.dumps(validation, indent=2) + "\n")
        evaluate_into_repo(detector, wild, out, name, predictions_name="predictions_wild_test.jsonl")
        wild_results = record_test_looks(out, looks)
        extra = {
            "cifake_test": evaluate_if_present(detector, cifake, name),
            "aiart_test": evaluate_if_present(detector, aiart, name),
        }
        write_extra_results(out, extra)
    names = detector.config.member_names
    inside, outside = detector.applied_thresholds()
    body = routed_card_body(
        title=title,
        repo_id=f"{namespace}/{name}",
        names=names,
        member_repos=[f"{namespace}/{Path(repo).name}" for repo in (first, second)],
        domain_summary=detector.domain.summary(),
        second_domain_summary=(detector.member_domains[names[1]].summary() if names[1] in detector.member_domains
                               else "none (every image it judges counts as in its domain)"),
        thresholds=[f"`{rule.name}` = {rule.value:.3f}" for rule in (inside, outside)],
        wild=wild_results,
        cifake=extra["cifake_test"],
        aiart=extra.get("aiart_test"),
        validation=validation,
        looked_at=looked_at_sentence(wild_results.get("test_looks", 1)),
        command=command,
        precision_text=reduced_precision_sentence(detector.members),
    )
    write_model_card(
        out,
        model_name=name,
        body=body,
        evaluations=[(wild_results, "wild (native-resolution photos and AI images)", "wild", "test"),
                     (extra["cifake_test"], "CIFAKE (re-split)", "cifake", "test")],
        tags=["supervised", "domain-routed", *names, "native-resolution"],
        datasets=["wild", "cifake"],
    )
    return wild_results
