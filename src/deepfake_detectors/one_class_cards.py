"""Model-card text of the one-class repos: the nine-member ensemble, the autoencoder and the SVDD + autoencoder
ensemble.

Every figure comes from the results dict passed in (``results_summary.json`` as ``"test"`` plus the entries of
``results_extra.json``, and ``"wild"`` / ``"feature_study"`` where those result files exist) or from the
detector's own config; the only fixed numbers are the published systems' reported figures, quoted as such
(:data:`PUBLISHED_FIGURES`). No sentence claims a robustness the results do not show.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Optional

from .cards import rebuild_sentence
from .hub import metrics_table, plots_markdown, write_model_card
from .pipeline import EnsembleDeepfakeDetector

#: Figures the published systems reported (quoted for comparison only; never measured here).
PUBLISHED_FIGURES = {
    "one_class_ensemble": {"accuracy": 67.05, "precision": 87.97, "recall": 39.5, "f1": 54.52, "n_per_class": 1000},
    "autoencoder": {"image_size": 128, "parameters_millions": 34.8},
    "svdd_autoencoder": {"accuracy_cifar10_vs_mnist": 77.5},
}
#: The feature study whose figures the nine-member card quotes (written by ``scripts/feature_study.py``).
FEATURE_STUDY_PATH = Path(__file__).resolve().parents[2] / "docs" / "FEATURES.md"
NUMBER_WORDS = dict(enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]))
USE_SNIPPET = """```python
from deepfake_detectors import EnsembleDeepfakeDetector

detector = EnsembleDeepfakeDetector.from_pretrained("deepfake-detectors/{name}")
{lines}
```"""


def read_feature_study(path: Path = FEATURE_STUDY_PATH) -> dict[str, dict[str, float]]:
    """The feature study's table as ``{feature: {"auroc", "auroc_shifted"}}`` (``{}`` when the file is missing).

    Example:
        >>> read_feature_study()["jpeg_dct_stats"]["auroc"]  # doctest: +SKIP
        0.8135
    """
    if not Path(path).exists():
        return {}
    study: dict[str, dict[str, float]] = {}
    for line in Path(path).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`(\w+)`", cells[0]) if len(cells) >= 5 else None
        if match and all(re.fullmatch(r"[0-9.]+", cell) for cell in (cells[2], cells[4])):
            study[match.group(1)] = {"auroc": float(cells[2]), "auroc_shifted": float(cells[4])}
    return study


def member_inputs(model: Any) -> str:
    """What a member looks at, in a few words, for the card's member table."""
    config = model.config
    if getattr(config, "feature_names", None):
        names = ", ".join(f"`{name}`" for name in config.feature_names)
        if getattr(config, "block_feature", None):
            worst = "least typical block" if config.block_top_k == 1 else f"{config.block_top_k} least typical blocks"
            names += f"; per 8x8 block: `{config.block_feature}` ({worst})"
            if getattr(config, "whole_image_weight", 1.0) != 1.0:
                names += f", whole image weighted {config.whole_image_weight:g}"
        if getattr(config, "projection_dim", None):
            names += f"; neighbours on {config.projection_dim} principal components"
        return names
    if config.model_type == "deepfake-semantic-svdd":
        if config.backbone_stages is None:
            return f"{config.backbone} pooled last layer, {config.backbone_image_size} px"
        return f"{config.backbone} channel statistics of the first {config.backbone_stages} stages, " \
            f"{config.backbone_image_size} px"
    if config.model_type == "deepfake-frequency-vae":
        return "FFT log-magnitude and phase"
    if config.model_type == "deepfake-edge-flow":
        if config.edge_representation == "wavelet":
            return f"Haar wavelet edges of the luma, {config.num_scales} scales ({config.feature_dim} values), whitened"
        return "multi-scale Sobel edge statistics"
    return config.model_type


def brightness_sentence(detector: EnsembleDeepfakeDetector) -> str:
    """The card's sentence on the brightness normalisation of the combined score ("" without one)."""
    normalisation = detector.config.get_brightness_normalisation()
    if normalisation is None:
        return ""
    return (
        "\n\nBrightness: very dark and very bright real photos (often clipped to black or white) score higher than "
        "other real photos with most members, so the weighted mean is expressed relative to real images of the same "
        "mean luma b, "
        "`(s - m(b)) / sd(b)`, with `m` and `log sd` quadratic in b, fitted by least squares on the "
        f"{normalisation.n_real} real validation images only (`BrightnessNormalisation`); the thresholds are set on "
        "that score."
    )


def complexity_sentence(config: Any) -> str:
    """How a member's score is corrected for input complexity, in words (empty when it is not)."""
    adjustment = config.get_complexity_adjustment()
    if adjustment is None:
        return ""
    return (
        f" The score is corrected for input complexity (Serrà et al., ICLR 2020): "
        f"log(raw score) - {adjustment.slope:.2f} x log(PNG bits per pixel value of the input). The slope is the "
        f"least-squares fit on {adjustment.n_real} **real** validation images, so no fake label is used; it removes "
        f"the part of the score that only says how busy an image is."
    )


# --- "What limits it": one paragraph for every one-class repo, each sentence only where its figures exist ---


def _headline(test: dict[str, Any], members: dict[str, Any]) -> str:
    opening = (
        f"The {'ensemble' if len(members) > 1 else 'detector'} reaches AUROC {test['auroc']:.3f} and catches "
        f"{test['recall']:.1%} of the fakes at a {test['fpr']:.1%} false-alarm rate"
    )
    if len(members) < 2:
        return opening + (
            ". Its score mostly measures how much fine detail an image has and how unusual its content is for the "
            "training photos: CIFAKE fakes match CIFAR-10 content, and many real photos are just as unusual."
        )
    ranked = sorted(members, key=lambda name: members[name]["auroc"], reverse=True)
    strongest = ", ".join(f"`{name}` {members[name]['auroc']:.3f}" for name in ranked[:3])
    return f"{opening}; its best members alone reach {strongest}."


def _dct_sentence(detector: EnsembleDeepfakeDetector, ranked: list[str], study: dict[str, dict]) -> str:
    dct = [n for n in ranked if "jpeg_dct_stats" in getattr(detector.members[n].config, "feature_names", [])]
    if not dct:
        return ""
    figures = study.get("jpeg_dct_stats")
    shifted = (
        f" (validation AUROC {figures['auroc_shifted']:.2f} against {figures['auroc']:.2f} for one real-image "
        "Gaussian; `docs/FEATURES.md`, written by `scripts/feature_study.py`)"
        if figures else ""
    )
    return (
        "The strongest evidence is low-level: the per-frequency statistics of the 8x8 block DCT on the JPEG grid "
        f"(`jpeg_dct_stats`, used by {', '.join(f'`{name}`' for name in dct)}); the same statistics on a grid "
        f"shifted by 4 pixels separate far less{shifted}, so the trace is how each image's detail survived JPEG "
        "quantisation."
    )


def _block_sentence(detector: EnsembleDeepfakeDetector, ranked: list[str]) -> str:
    blocks = [name for name in ranked if getattr(detector.members[name].config, "block_feature", None)]
    if not blocks:
        return ""
    weights = ", ".join(f"{detector.members[name].config.whole_image_weight:g} for `{name}`" for name in blocks)
    return (
        "Pooling over the image hides where the trace is: "
        f"{', '.join(f'`{name}`' for name in blocks)} also fits one Gaussian to the DCT coefficients of single "
        "8x8 blocks of real images and scores an image by its least typical blocks, which finds fakes the pooled "
        "statistics miss (`jpeg_block_dct` in `docs/FEATURES.md`); the whole-image statistics enter that score "
        f"with a smaller weight ({weights}), since on validation they separated less."
    )


def _edge_flow_sentence(detector: EnsembleDeepfakeDetector, validation_report: Optional[dict[str, Any]]) -> str:
    flow = detector.members.get("edge_flow")
    correction = (validation_report or {}).get("edge_flow") or {}
    if flow is None or flow.config.edge_representation != "wavelet" or not correction.get("kept"):
        return ""
    return (
        f"`edge_flow` models all {flow.config.feature_dim} Haar wavelet edge coefficients of the luma jointly, so "
        "it sees where each edge sits on the 8x8 grid; its likelihood alone mostly measures how busy an image "
        "is, and only the complexity correction turns it into evidence (validation AUROC "
        f"{correction['validation_auroc_raw']:.3f} -> {correction['validation_auroc_corrected']:.3f})."
    )


def _ablation_sentence(ablation: Optional[dict[str, Any]]) -> str:
    corrected = {name: row for name, row in (ablation or {}).items() if row.get("slope") is not None}
    if not corrected:
        return ""
    changes = ", ".join(
        f"`{name}` {row['auroc_uncorrected']:.3f} -> {row['auroc_corrected']:.3f}" for name, row in corrected.items()
    )
    raised = all(row["auroc_corrected"] > row["auroc_uncorrected"] for row in corrected.values())
    return (
        "A raw one-class score is largely a measure of how busy an image is: detailed real photos score higher "
        "than smooth ones, whatever their origin. Subtracting the complexity term (fitted on real images only) "
        f"{'raises' if raised else 'changes'} the test AUROC ({changes}; table below)."
    )


def _closing(test: dict[str, Any], members: dict[str, Any]) -> str:
    one_class = (
        "A one-class model never sees a fake, so it can only flag what is rare among real photos: the fakes that "
        "look statistically typical are missed."
    )
    if len(members) < 2:
        return one_class
    gain = test["auroc"] - max(row["auroc"] for row in members.values())
    combined = (
        f"the combination adds {gain:.3f} AUROC over its best member" if gain > 0 else "the combination does not "
        "beat its best member"
    )
    return (
        f"Members that share evidence make correlated errors, so {combined}; CIFAKE's fakes were made to look like "
        f"CIFAR-10 in content and colour. {one_class}"
    )


def _domain_sentence(aiart: Optional[dict[str, Any]]) -> str:
    if not aiart:
        return ""
    verdict = "at or below chance, so recalibrate, or do not use it," if aiart["auroc"] <= 0.5 else (
        "so recalibrate before trusting it"
    )
    return f"On the AI-art domain (not tuned) its AUROC is {aiart['auroc']:.3f}, {verdict} off CIFAKE."


def limits_paragraph(detector: EnsembleDeepfakeDetector, results: dict[str, Any]) -> str:
    """What limits a one-class detector or ensemble, in words, from the measured figures only.

    Args:
        detector: the detector the card describes.
        results: ``{"test": results_summary, ...}`` with, where measured, ``complexity_adjustment`` (validation
            report), ``complexity_ablation`` (test), ``aiart_test`` and ``feature_study``.

    Returns:
        One paragraph; a sentence whose figures are not in ``results`` is left out.

    Example:
        >>> limits_paragraph(detector, {"test": results_summary})  # doctest: +SKIP
    """
    test = results["test"]
    members = test.get("members") or {}
    ranked = sorted(members, key=lambda name: members[name]["auroc"], reverse=True)
    sentences = [
        _headline(test, members),
        _dct_sentence(detector, ranked, results.get("feature_study") or {}),
        _block_sentence(detector, ranked),
        _edge_flow_sentence(detector, results.get("complexity_adjustment")),
        _ablation_sentence(results.get("complexity_ablation")),
        _closing(test, members),
        _domain_sentence(results.get("aiart_test")),
    ]
    return " ".join(sentence for sentence in sentences if sentence)


# --- "Limitations": one list for every one-class repo ---


def robustness_sentence(test: dict[str, Any]) -> str:
    """What the robustness sweep measured, in words ("" without one): AUROC and false-alarm ranges."""
    sweep = test.get("robustness") or {}
    if not sweep:
        return ""
    low = min(sweep, key=lambda name: sweep[name]["auroc"])
    high = max(sweep, key=lambda name: sweep[name]["auroc"])
    fprs = [row["fpr"] for row in sweep.values()]
    return (
        f"Under the perturbations of the robustness table its AUROC is {sweep[low]['auroc']:.3f} (`{low}`) to "
        f"{sweep[high]['auroc']:.3f} (`{high}`) against {test['auroc']:.3f} unperturbed, and its false-alarm rate "
        f"{min(fprs):.1%} to {max(fprs):.1%} against {test['fpr']:.1%} at the same threshold."
    )


def _input_sizes(detector: EnsembleDeepfakeDetector) -> str:
    sides = sorted({int(getattr(processor, "size", 0) or 0) for processor in detector.processors.values()})
    return " or ".join(f"{side}x{side}" for side in sides if side)


def limitations_section(detector: EnsembleDeepfakeDetector, results: dict[str, Any]) -> str:
    """The card's ``## Limitations`` list; every figure in it comes from ``results`` or the detector's config."""
    bullets = [
        (
            f"Trained and calibrated on **CIFAKE** only (CIFAR-10 photos vs Stable Diffusion 1.4 imitations). Every "
            f"input is resized to {_input_sizes(detector)} pixels, so the detector only sees colour, texture and "
            "high-frequency statistics of that size."
        ),
        (
            "It is a **one-class** detector: it learned what the real training photos look like and flags what "
            "differs. Real photos unlike CIFAR-10 (other cameras, screenshots, heavy edits, drawings) are flagged "
            "too, and fakes that sit close to real photo statistics are missed."
        ),
    ]
    wild = results.get("wild")
    if wild:
        bullets.append(
            f"On real-world images (wild test) it flags {wild['fpr']:.1%} of real photos and catches "
            f"{wild['recall']:.1%} of AI images (AUROC {wild['auroc']:.3f})."
        )
    bullets.append(robustness_sentence(results["test"]))
    aiart = results.get("aiart_test")
    domain = f" (the AI-art second domain, untuned: AUROC {aiart['auroc']:.3f})" if aiart else ""
    bullets.append(
        f"Scores are calibrated on CIFAKE validation images; on another domain{domain} recalibrate "
        "(``calibrate()``) before trusting the named thresholds."
    )
    bullets.append("Do not use a single score as proof. Treat it as one piece of evidence next to provenance and metadata.")
    return "## Limitations\n\n" + "\n".join(f"- {bullet}" for bullet in bullets if bullet) + "\n"


# --- tables ---


def robustness_table(results: dict[str, Any]) -> str:
    """Accuracy, recall, false-alarm rate and AUROC unperturbed and under each perturbation of the sweep."""
    lines = ["| perturbation (CIFAKE test) | accuracy | recall | false-alarm rate | AUROC |", "|---|---|---|---|---|"]
    rows = [("none", results)] + list(results.get("robustness", {}).items())
    lines += [
        f"| {name} | {row['accuracy']:.4f} | {row['recall']:.4f} | {row['fpr']:.4f} | {row['auroc']:.4f} |"
        for name, row in rows
    ]
    return "\n".join(lines)


def thresholds_table(detector: EnsembleDeepfakeDetector) -> str:
    """The detector's named thresholds with what each means."""
    calibration = detector.calibration
    rows = ["| name | value | meaning |", "|---|---|---|"]
    meaning = {
        "strict": "99th percentile of real validation scores (about 1% false alarms)",
        "balanced": "95th percentile (about 5% false alarms) - the default",
        "sensitive": "90th percentile (about 10% false alarms)",
        "optimal": f"best F1 on the labelled validation split (F1 {calibration.optimal_f1 or 0:.3f})",
    }
    for name, value in calibration.thresholds.items():
        rows.append(f"| {name} | {value:.3f} | {meaning.get(name, '')} |")
    return "\n".join(rows)


def ablation_table(results: dict[str, Any]) -> str:
    """Members' test AUROC with and without the input-complexity correction (empty when no member has one)."""
    ablation = results.get("complexity_ablation") or {}
    rows = [(name, row) for name, row in ablation.items() if row.get("slope") is not None]
    if not rows:
        return ""
    lines = [
        "| member | AUROC, raw score | AUROC, complexity-corrected | slope |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {row['auroc_uncorrected']:.4f} | {row['auroc_corrected']:.4f} | {row['slope']:.2f} |"
        for name, row in rows
    ]
    return "### Input-complexity correction (CIFAKE test)\n\n" + "\n".join(lines) + "\n"


def _evaluations(results: dict[str, Any]) -> list[tuple[dict[str, Any], str, str, str]]:
    aiart = results.get("aiart_test")
    return [(results["test"], "CIFAKE (re-split)", "cifake", "test")] + (
        [(aiart, "AI art vs real (web-scraped)", "aiart", "test")] if aiart else []
    )


def with_saved_extras(out: Path, results: dict[str, Any]) -> dict[str, Any]:
    """``results`` plus the wild-test results in ``out`` (if evaluated) and the feature study (if present)."""
    wild_file = Path(out) / "results_wild_test.json"
    extras = {"feature_study": read_feature_study()}
    if wild_file.exists():
        extras["wild"] = json.loads(wild_file.read_text())
    return {**extras, **results}


# --- the nine-member one-class ensemble (scripts/train_one_class_ensemble.py) ---


def member_row(detector: EnsembleDeepfakeDetector, member: dict[str, Any], results: dict[str, Any]) -> str:
    name, test = member["name"], results["test"]
    loo = test.get("leave_one_out", {}).get(name, {})
    seconds = results["timing"].get(name, {})
    correction = (results.get("complexity_adjustment") or {}).get(name)
    corrected = (
        "-"
        if correction is None
        else f"{correction['validation_auroc_raw']:.4f} -> {correction['validation_auroc_corrected']:.4f}"
        + (" (kept)" if correction["kept"] else " (not kept)")
    )
    scored = test.get("members", {}).get(name)  # a member of weight 0 is not run at test time
    if scored is not None:
        test_auroc = f"{scored['auroc']:.4f}"
    else:  # with one voting member, the evaluation has no per-member rows: its figures are the ensemble's
        test_auroc = "the only member voting: see *Results*" if member["weight"] > 0 else "not run (weight 0)"
    delta = "-" if loo.get("delta_auroc") is None else f"{loo['delta_auroc']:+.4f}"
    return (
        f"| {name} | {member_inputs(detector.members[name])} | {member['weight']:.3f} | "
        f"{results['validation_auroc'][name]:.4f} | {corrected} | {test_auroc} | {delta} | "
        f"{sum(seconds.values()):.0f} |"
    )


def one_class_ensemble_card_body(
    detector: EnsembleDeepfakeDetector,
    results: dict[str, Any],
    repo_name: str,
    max_train_samples: Optional[int],
    repo_dir: Optional[Path] = None,
) -> str:
    """The Markdown card of the nine-member one-class ensemble.

    Args:
        detector: the ensemble as published.
        results: ``{"test": results_summary, **results_extra}`` (``aiart_test``, ``validation_auroc``,
            ``complexity_adjustment``, ``timing``, ``commands``), optionally ``wild`` and ``feature_study``.
        repo_name: the repo folder's name.
        max_train_samples: real training images of the run that trained the members.
        repo_dir: the repo folder, whose ``rebuild_check.json`` (if any) the *Reproduce* section quotes.

    Example:
        >>> body = one_class_ensemble_card_body(detector, results, "fake-image-detection-ensemble", 20000)  # doctest: +SKIP
    """
    test, aiart, timing = results["test"], results.get("aiart_test"), results["timing"]
    rows = [("CIFAKE test (re-split)", test)] + ([("AI-art test (second domain, not tuned)", aiart)] if aiart else [])
    member_rows = "\n".join(member_row(detector, member, results) for member in detector.config.members)
    shared = timing.get("shared_feature_extraction", {}).get("seconds", 0.0)
    total_training = sum(value for entry in timing.values() for value in entry.values())
    published = PUBLISHED_FIGURES["one_class_ensemble"]
    use = USE_SNIPPET.format(
        name=repo_name, lines='result = detector.predict("image.jpg")\nresult.score, result.is_fake, result.member_scores'
    )
    reproduce = reproduce_section(results["commands"], rebuild_sentence(repo_dir) if repo_dir else "")
    count = len(detector.members)
    return f"""
# One-class ensemble of {count} detectors (fake image detection)

{NUMBER_WORDS.get(count, str(count)).capitalize()} detectors of different kinds, each trained on **real images only** (CIFAKE train, {max_train_samples}
real images), combined by a weighted vote of their calibrated scores with an adaptive threshold: the 95th
percentile of the combined score on real validation images (`balanced`). Every member's score is expressed in
standard deviations above its mean on real validation images before the weighted mean.

Weights: {detector.config.weighting}.{brightness_sentence(detector)}

## Use

{use}

## Results

Threshold `{test['threshold_name']}` = {test['threshold']:.3f}. The published system reported {published['accuracy']}% accuracy,
{published['precision']}% precision, {published['recall']}% recall and {published['f1']}% F1 on {published['n_per_class']:,} real + {published['n_per_class']:,} fake images.

{metrics_table(rows)}

{plots_markdown(test)}

## Members

AUROC on the validation split (used for the weights) and on the test split; `delta AUROC` = ensemble test AUROC
minus the AUROC without that member (positive = the member helps). Time = training (deep) or fitting (others) on
this 2-core CPU; the feature members also share {shared:.0f} s of feature extraction.

Complexity correction: a member's score minus a slope times the log of the input's PNG bits per value
(Serrà et al., ICLR 2020), the slope fitted on real validation images only; it is kept for a member only where it
raises that member's validation AUROC (the column shows validation AUROC without -> with it).

| member | input | weight | validation AUROC | complexity correction | test AUROC | delta AUROC (leave-one-out) | seconds |
|---|---|---|---|---|---|---|---|
{member_rows}

Total training time: {total_training / 60:.1f} minutes on 2 CPU cores.

## What limits it

{limits_paragraph(detector, results)}

{limitations_section(detector, results)}
## Reproduce

{reproduce}"""


def reproduce_section(commands: list[str], rebuilt: str) -> str:
    """The *Reproduce* section of a repo made by ``commands`` (in order; a rebuild check in ``rebuilt``).

    With a recorded rebuild (:func:`~deepfake_detectors.cards.rebuild_sentence`), the one command that rebuilt the
    repo from scratch comes first and the steps that made the shipped weights follow as their history; without
    one, the steps themselves are the way to reproduce it.

    Args:
        commands: the commands that made the shipped repo, first to last.
        rebuilt: the rebuild sentence, ``""`` when no rebuild was checked.

    Example:
        >>> print(reproduce_section(["python a.py"], ""))
        ```bash
        python a.py
        ```
        <BLANKLINE>
    """
    steps = "```bash\n" + "\n".join(commands) + "\n```\n"
    if not rebuilt:
        return steps
    command = rebuilt.split("`")[1]
    return (
        f"```bash\n{command}\n```\n\n{rebuilt}\nThe weights in this folder were made in steps, each reusing the members "
        f"it did not retrain (history, kept for provenance; the command above replaces them):\n\n{steps}"
    )


def write_one_class_ensemble_card(
    out: Path, detector: EnsembleDeepfakeDetector, results: dict[str, Any], max_train_samples: Optional[int]
) -> None:
    """Write ``README.md`` of the nine-member ensemble's repo (see :func:`one_class_ensemble_card_body`); an
    ensemble on native-resolution crops gets the photo card
    (:func:`~deepfake_detectors.one_class_photo_card.write_one_class_photo_card`)."""
    out = Path(out)
    if any(getattr(processor, "crops_per_side", None) for processor in detector.processors.values()):
        from .one_class_photo_card import write_one_class_photo_card  # it imports this module: import late

        write_one_class_photo_card(out, detector, results, max_train_samples)
        return
    write_card_with_extras(
        out,
        results,
        lambda merged: one_class_ensemble_card_body(detector, merged, out.name, max_train_samples, out),
        tags=["one-class", "ensemble", "anomaly-detection"],
    )


def write_card_with_extras(
    out: Path, results: dict[str, Any], body: Callable[[dict[str, Any]], str], tags: list[str]
) -> None:
    """Write a repo's ``README.md``: ``results`` plus the extras saved in ``out`` (:func:`with_saved_extras`).

    Args:
        out: the repo folder.
        results: the evaluation results of the repo's detector.
        body: the card's Markdown body from the merged results.
        tags: the card's Hub tags.

    Example:
        >>> write_card_with_extras(Path("hub_repos/x"), results, lambda merged: "# x", ["one-class"])  # doctest: +SKIP
    """
    out = Path(out)
    results = with_saved_extras(out, results)
    write_model_card(out, model_name=out.name, body=body(results), evaluations=_evaluations(results), tags=tags)


def rewrite_one_class_ensemble_card(out: Path, max_train_samples: Optional[int]) -> None:
    """Rewrite the nine-member card from the results already in ``out`` (no training, no evaluation).

    Args:
        out: the repo folder (with ``results_summary.json`` and ``results_extra.json``).
        max_train_samples: real training images of the command that trained the members.
    """
    out = Path(out)
    results = {
        "test": json.loads((out / "results_summary.json").read_text()),
        **json.loads((out / "results_extra.json").read_text()),
    }
    detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    write_one_class_ensemble_card(out, detector, results, max_train_samples)


# --- the autoencoder and SVDD + autoencoder repos (scripts/build_ensemble.py) ---


def _millions(model: Any) -> str:
    return f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M"


def autoencoder_intro(model: Any) -> str:
    """The autoencoder card's opening paragraph, from the trained model's config."""
    cfg = model.config
    published = PUBLISHED_FIGURES["autoencoder"]
    highpass = (
        f" The error adds the high-pass residual error with weight {cfg.highpass_weight}, in training and "
        f"scoring, because the pixel error alone is dominated by coarse content."
        if cfg.highpass_weight
        else ""
    )
    return (
        f"A residual convolutional autoencoder trained on **real images only**; its reconstruction error is the "
        f"fake-ness score. {len(cfg.hidden_sizes)} downsampling stages with residual blocks "
        f"(channels {cfg.hidden_sizes}), a {cfg.latent_dim}-d latent, a symmetric decoder with a tanh output, "
        f"{cfg.image_size}x{cfg.image_size} input in [-1, 1], {_millions(model)} parameters "
        f"(the published {published['image_size']}x{published['image_size']} configuration, "
        f"{published['parameters_millions']}M parameters, is `ResidualAutoencoderConfig()`; this smaller "
        f"one keeps the weights a few MB and matches CIFAKE's native {cfg.image_size}x{cfg.image_size})."
        + highpass
        + complexity_sentence(cfg)
    )


def svdd_ensemble_intro(svdd: Any) -> str:
    """The SVDD + autoencoder card's opening paragraphs, from the trained Deep SVDD's config."""
    cfg = svdd.config
    return (
        "Deep SVDD + residual autoencoder, both trained on **real images only**, combined by a 50/50 weighted "
        "vote of their calibrated scores (each member's score in standard deviations above its mean on real "
        "validation images). The decision threshold adapts to the data: by default the 95th percentile of the "
        "combined score on real validation images.\n\n"
        f"- **Deep SVDD** (Ruff et al., 2018): bias-free conv encoder (channels {cfg.hidden_sizes}, "
        f"{cfg.rep_dim}-d embedding), centre fixed from the initial mean embedding, score = squared distance to "
        f"the centre; input = the image plus its high-pass residual ({_millions(svdd)} parameters)."
        + complexity_sentence(cfg)
        + "\n"
        "- **Residual autoencoder**: see `deepfake-autoencoder` (reconstruction error).\n\n"
        f"The published SVDD + autoencoder ensemble reported "
        f"{PUBLISHED_FIGURES['svdd_autoencoder']['accuracy_cifar10_vs_mnist']}% accuracy on CIFAR-10 vs MNIST, a "
        "much easier task than CIFAKE, where fakes were generated to look like CIFAR-10 photos."
    )


def _members_table(detector: EnsembleDeepfakeDetector, test: dict[str, Any]) -> str:
    if not test.get("members"):
        return ""
    return "\n### Members on CIFAKE test\n\n| member | weight | AUROC | AP |\n|---|---|---|---|\n" + "\n".join(
        f"| {m['name']} | {m['weight']} | {test['members'][m['name']]['auroc']:.4f} | "
        f"{test['members'][m['name']]['average_precision']:.4f} |"
        for m in detector.config.members
    )


def card_body(
    title: str, intro: str, detector: EnsembleDeepfakeDetector, results: dict[str, Any], repo: str, training: str
) -> str:
    """The Markdown card of the autoencoder or the SVDD + autoencoder repo.

    Args:
        title: the card's title.
        intro: its opening paragraph(s) (:func:`autoencoder_intro`, :func:`svdd_ensemble_intro`).
        detector: the detector as published.
        results: :func:`~deepfake_detectors.evaluation.ablation.evaluate_all`'s results plus ``command``.
        repo: the repo folder (its name is the Hub id's).
        training: the *Training* section's text.

    Example:
        >>> card_body("Residual autoencoder", intro, detector, results, "hub_repos/x", "`{}`")  # doctest: +SKIP
    """
    test, noise = results["test"], results["noise_sanity_check"]
    rows = [("CIFAKE test (re-split)", test), ("sanity check: real vs uniform noise", noise)]
    if results.get("aiart_test"):
        rows.append(("AI-art test (second domain, not tuned)", results["aiart_test"]))
    use = USE_SNIPPET.format(name=Path(repo).name, lines="""score, is_fake = detector.predict("image.jpg")
detector.set_threshold("strict")          # strict / balanced / sensitive / optimal, or a probability such as 0.9
results = detector.predict(["a.jpg", "b.png"])""")
    return f"""
# {title}

{intro}

Part of the `deepfake-detectors` package: every number on this card was produced by the commands under
*Reproduce* on the code and weights in this folder.

## Use

{use}

or `deepfake-detect detect PATH... --model {repo}`.

The score is in standard deviations above the mean score of real validation images (higher = more likely fake).

## Results

Threshold: `{test['threshold_name']}` = {test['threshold']:.3f}. False-alarm rate = share of real images flagged.

{metrics_table(rows)}

**How the real fakes compare with the published sanity check.** Against uniform random noise (the check the
published autoencoder reported) the detector reaches AUROC {noise['auroc']:.3f} and flags
{100 * noise['recall']:.1f}% of the noise images. Against the Stable Diffusion fakes of CIFAKE it reaches AUROC
{test['auroc']:.3f} and flags {100 * test['recall']:.1f}% of them at {100 * test['fpr']:.1f}% false alarms: these
fakes were made to look like CIFAR-10 photos, so their content and colours are in-distribution for a model of real
photos.
{_members_table(detector, test)}

**What limits it.** {limits_paragraph(detector, results)}

{ablation_table(results)}

{plots_markdown(test)}

### Robustness (CIFAKE test, same threshold)

{robustness_table(test)}

### Thresholds (`thresholds_calibrated.json`)

{thresholds_table(detector)}

## Training

{training}

{limitations_section(detector, results)}
## Reproduce

```bash
{results['command']}
```
{rebuild_sentence(repo)}"""


def write_repo_card(
    out: Path, detector: EnsembleDeepfakeDetector, results: dict[str, Any], *, title: str, intro: str,
    training: str, tags: list[str],
) -> None:
    """Write ``README.md`` of the autoencoder or SVDD + autoencoder repo (see :func:`card_body`)."""
    out = Path(out)
    write_card_with_extras(
        out, results, lambda merged: card_body(title, intro, detector, merged, str(out), training), tags=tags
    )
