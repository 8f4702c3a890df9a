"""The model card of the nine-member one-class ensemble refitted on photographs (native-resolution crops).

Wild test is the headline; CIFAKE test (a stratified subset) and AI-art test follow. Every figure comes from the
result files the training run wrote (``results_summary.json`` = wild test, ``results_extra.json``) and from the
detector's own config, so nothing in the card can drift from what was measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .calibration import THRESHOLD_PERCENTILES
from .cards import plain_summary, rebuild_sentence
from .hub import group_table, metrics_table, plots_markdown, write_model_card
from .one_class_cards import (
    NUMBER_WORDS,
    USE_SNIPPET,
    brightness_sentence,
    member_row,
)
from .pipeline import EnsembleDeepfakeDetector

#: How the photo ensemble was made and what its members can see (a feature study), embedded in its card.
SELECTION_PATH = Path(__file__).resolve().parents[2] / "docs" / "one_class_photos_selection.md"
#: The script that rebuilds the repo: training, then the domain description and its card section.
REBUILD_SCRIPT = "scripts/one_class_ensemble_photos_weights.sh"

PHOTO_LIMITATIONS = (
    "Fitted on ImageNet, Sun-Hays and Urban100 photographs (wild train). Photos unlike them (portraits, night "
    "shots, heavily edited or re-encoded web images) can look unusual to it: the per-source rows show the false "
    "alarms of each kind of photo.",
    "A one-class detector flags what is unlike its training photos, not what is generated: an AI image that looks "
    "like an ordinary photograph at the pixel level passes, and an unusual real photo is flagged. The per-generator "
    "rows show how many of each generator's images it catches.",
    "Each member sees small crops (32 px; 64 px for the semantic member), so it judges texture, noise, colour and "
    "edges, not the content of the scene.",
    "The training photos carry no licence of their own: research and evaluation use.",
)


def provenance_table(detector: EnsembleDeepfakeDetector, results: dict[str, Any], max_train_samples: int) -> str:
    """Which data every fitted number of the ensemble came from (Markdown table).

    Args:
        detector: the published ensemble.
        results: its results (``test``, ``timing``, ``complexity_adjustment``).
        max_train_samples: the real training photos of the run that trained the members.
    """
    processor = next(iter(detector.processors.values()))
    crops = processor.crops_per_side**2
    calibration = detector.calibration
    kept = [name for name, row in (results.get("complexity_adjustment") or {}).items() if row["kept"]]
    normalisation = detector.config.get_brightness_normalisation()
    rows = [
        ("every member's parameters (network weights, SVDD centre, flow normalisation, One-Class SVM, Isolation "
         "Forest, LOF neighbours, Gaussian mixture, Mahalanobis means and precisions)",
         f"wild **train**, real photos only: {max_train_samples:,} photos, {crops} crops each; no fake image"),
        ("complexity corrections (members: " + (", ".join(kept) if kept else "none kept") + ")",
         "slopes fitted on wild **validation** real photos; kept only where they raised the member's validation "
         "AUROC (labelled validation, real and fake)"),
        ("each member's real-score mean and spread (scores in standard deviations)",
         f"wild **validation** real photos ({calibration.n_real})"),
        ("member weights", "wild **validation**, real and fake (labelled), as the published system weighted its "
         "members on labelled data"),
        ("brightness normalisation", f"wild **validation** real photos ({normalisation.n_real})" if normalisation
         else "not used"),
        ("`strict` / `balanced` / `sensitive` thresholds", " / ".join(f"{p:g}th" for p in THRESHOLD_PERCENTILES.values())
         + f" percentile of the combined score of {calibration.n_real} wild **validation** real photos"),
        ("`optimal` threshold and P(fake) (Platt scaling)", f"wild **validation**, {calibration.n_real} real and "
         f"{calibration.n_fake} fake images"),
        ("domain description (`domain.safetensors`)", "wild **train** real photos only (see *Domain*)"),
    ]
    lines = ["| fitted | data |", "|---|---|"] + [f"| {what} | {data} |" for what, data in rows]
    return "\n".join(lines)


def one_class_photo_card_body(
    detector: EnsembleDeepfakeDetector,
    results: dict[str, Any],
    repo_name: str,
    max_train_samples: int,
    repo_dir: Optional[Path] = None,
) -> str:
    """The Markdown card of the one-class ensemble refitted on photographs.

    Args:
        detector: the ensemble as published.
        results: ``{"test": results_summary (wild test), **results_extra}`` (``cifake_test``, ``aiart_test``,
            ``validation_auroc``, ``complexity_adjustment``, ``timing``, ``commands``).
        repo_name: the repo folder's name.
        max_train_samples: real training photos of the run that trained the members.
        repo_dir: the repo folder, whose ``rebuild_check.json`` (if any) the *Reproduce* section quotes.

    Example:
        >>> body = one_class_photo_card_body(detector, results, "fake-image-detection-ensemble-photos", 1687)  # doctest: +SKIP
    """
    wild, cifake, aiart = results["test"], results.get("cifake_test"), results.get("aiart_test")
    rows = [("wild test (sources never seen in training)", wild)]
    rows += [("CIFAKE test (32 px, stratified subset)", cifake)] if cifake else []
    rows += [("AI-art test (second domain, not tuned)", aiart)] if aiart else []
    count = len(detector.members)
    processor = next(iter(detector.processors.values()))
    sizes = sorted({p.crop_size for p in detector.processors.values()})
    timing = results["timing"]
    total_training = sum(value for entry in timing.values() for value in entry.values())
    use = USE_SNIPPET.format(
        name=repo_name, lines='result = detector.predict("photo.jpg")\nresult.score, result.is_fake, result.in_domain'
    )
    member_rows = "\n".join(member_row(detector, member, results) for member in detector.config.members)
    return f"""
# One-class ensemble of {count} detectors for photographs (native resolution)

**What it is for:** flagging images that do not look like real photographs at the pixel level, without ever having
seen an AI image in training. {plain_summary(wild)} Treat a verdict as one piece of evidence, never as proof.

{NUMBER_WORDS.get(count, str(count)).capitalize()} detectors of different kinds (the published one-class system),
each fitted on **real photographs only** (wild train: {max_train_samples:,} photos). Each member looks at a
{processor.crops_per_side} x {processor.crops_per_side} grid of crops of its own input size
({" and ".join(f"{size} px" for size in sizes)}) cut out of the image **at its native resolution** (offsets on the
8-pixel JPEG grid; an image smaller than a crop is upscaled to one crop), scores every crop as it scored a whole
CIFAKE image, and gives the image the mean of its crops' scores. The members' scores, in standard deviations above
their mean on real validation photos, are combined by a weighted vote with an adaptive threshold: `balanced` is
the 95th percentile of the combined score of real validation photos.

Weights: {detector.config.weighting.replace("CIFAKE", "wild")}.{brightness_sentence(detector)}

The CIFAKE-trained version (`fake-image-detection-ensemble`) stays as it was, for 32 px images.

## Use

{use}

## Results

Default threshold `{wild['threshold_name']}` = {wild['threshold']:.3f}. Every figure below was measured once, after
training and calibration, by the command under *Reproduce*.

{metrics_table(rows)}

Expected calibration error of P(fake) on wild test: {wild.get('expected_calibration_error', float('nan')):.3f}.

### Wild test per source (flagged = false alarms for real sources, recall for AI sources)

{group_table(wild, "source", "source")}

### Wild test per generator

{group_table(wild, "generator", "generator")}

{plots_markdown(wild, heading="### Plots (wild test)")}

## Members

AUROC on wild validation (used for the weights) and on wild test; `delta AUROC` = ensemble test AUROC minus the
AUROC without that member (positive = the member helps). Members of weight 0 are not run. Time = training (deep)
or fitting (others) on a 2-core CPU.

| member | input | weight | validation AUROC | complexity correction | test AUROC | delta AUROC (leave-one-out) | seconds |
|---|---|---|---|---|---|---|---|
{member_rows}

Total training time: {total_training / 60:.1f} minutes on 2 CPU cores.

{_selection_section()}## Where every fitted number came from

No member saw a fake image. Labelled fakes (wild validation only, never test) were used only where the published
system used labelled data: for the member weights (and which complexity corrections to keep), the `optimal`
threshold and P(fake).

{provenance_table(detector, results, max_train_samples)}

## Limitations

{chr(10).join(f"- {item}" for item in PHOTO_LIMITATIONS)}

## Reproduce

```bash
bash {REBUILD_SCRIPT}
```

It runs the training command below, then fits the domain description on the wild train real photos and writes the
card's *Domain* section. {rebuild_sentence(repo_dir) if repo_dir else ""}

The training command{"s that made these weights, in order" if len(results["commands"]) > 1 else ""}:

```bash
{chr(10).join(results["commands"])}
```
"""


def _selection_section(path: Path = SELECTION_PATH) -> str:
    """The card section from ``docs/one_class_photos_selection.md`` ("" when the file is not there)."""
    if not path.is_file():
        return ""
    return "## How it was made, and what its members can see\n\n" + path.read_text().strip() + "\n\n"


def write_one_class_photo_card(
    out: Path, detector: EnsembleDeepfakeDetector, results: dict[str, Any], max_train_samples: int
) -> None:
    """Write ``README.md`` of the photo ensemble's repo (see :func:`one_class_photo_card_body`), with the wild,
    CIFAKE and AI-art test figures in its model-index."""
    out = Path(out)
    evaluations = [(results["test"], "wild (native-resolution photos and AI images)", "wild", "test")]
    if results.get("cifake_test"):
        evaluations.append((results["cifake_test"], "CIFAKE (re-split)", "cifake", "test"))
    write_model_card(
        out,
        model_name=out.name,
        body=one_class_photo_card_body(detector, results, out.name, max_train_samples, out),
        evaluations=evaluations,
        tags=["one-class", "ensemble", "anomaly-detection", "native-resolution"],
        datasets=["wild", "cifake"],
    )
