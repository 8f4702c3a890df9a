"""Model-card text for detectors evaluated on real-world images (wild test first, CIFAKE test second).

The card is built only from result files (``results_summary.json``, ``results_extra.json``) and the model's own
config, so no figure in it can drift from what was measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .hub import group_table, metrics_table, plots_markdown
from .pipeline.thresholds import OUT_OF_DOMAIN_DEFAULT_THRESHOLD

#: The limitations of a supervised detector trained on wild photos and CIFAKE.
SUPERVISED_PHOTO_LIMITATIONS = (
    "Trained on photos against Stable Diffusion 1.x / 2.x images (wild train) and on CIFAKE; other generators leave "
    "other traces: the per-generator rows above show how many of each generator's images it catches.",
    "Its evidence is pixel-level: heavy JPEG compression, downscaling or blur weaken it, and screenshots or resized "
    "copies of AI images may pass as real.",
    "The training photos (ImageNet, Sun-Hays, Urban100 samples) carry no licence of their own: research and "
    "evaluation use.",
)


@dataclass(frozen=True)
class NativeCropCardText:
    """What the card of one kind of native-crop detector says in words (the figures come from result files).

    Args:
        description: what the model is, in a paragraph.
        score: what one crop's score is ("fake logit", "reconstruction error").
        limitations: the bullet points of the Limitations section.
        provenance: which data each fitted number came from, in Markdown (shown under Training when given).

    Example:
        >>> NativeCropCardText("A CNN.").score
        'fake logit'
    """

    description: str
    score: str = "fake logit"
    limitations: tuple[str, ...] = SUPERVISED_PHOTO_LIMITATIONS
    provenance: str = ""


def _percent(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def plain_summary(wild: dict[str, Any]) -> str:
    """Two sentences in plain words: how often real photos are flagged and fakes caught on wild test, per group."""
    sources = wild.get("by_source", {})
    real_sources = {name: row for name, row in sources.items() if row["n_real"] and not row["n_fake"]}
    generators = wild.get("by_generator", {})
    worst_real = max(real_sources.items(), key=lambda item: item[1]["flagged"], default=None)
    weakest = min(generators.items(), key=lambda item: item[1]["flagged"], default=None)
    parts = [
        f"On photos and AI images from sources it never saw (wild test), it calls {_percent(wild.get('fpr'))} of "
        f"real photos fake and catches {_percent(wild.get('recall'))} of AI images (AUROC {wild['auroc']:.3f})."
    ]
    if worst_real is not None:
        parts.append(
            f"It is least reliable on `{worst_real[0]}` real photos ({_percent(worst_real[1]['flagged'])} flagged)"
            + (f" and on `{weakest[0]}` images ({_percent(weakest[1]['flagged'])} caught)." if weakest else ".")
        )
    return " ".join(parts)


def calibration_error_sentence(calibration: Optional[dict], fitted_on: str, test: dict[str, Any]) -> str:
    """How well P(fake) means what it says: expected calibration error on the validation data the Platt scaling was
    fitted on (cross-fitted and in-sample, when the calibration recorded them) and on wild test.

    Args:
        calibration: the detector's ``config.calibration`` (a :class:`~deepfake_detectors.calibration.
            ScoreCalibration` as a dict).
        fitted_on: words naming the validation data, e.g. "validation splits of ['../shared/data/wild']".
        test: the results of ``evaluate_detector`` on wild test.

    Example:
        >>> calibration_error_sentence(None, "CIFAKE validation", {"expected_calibration_error": 0.2})[:60]
        'Expected calibration error of P(fake) (15 bins): wild test 0'
    """
    recorded = (calibration or {}).get("calibration_error") or {}
    parts = []
    if recorded.get("cross_fitted") is not None:
        parts.append(
            f"on the data the scaling was fitted on, {recorded['cross_fitted']:.3f} cross-fitted (refitted on "
            f"{recorded['folds'] - 1} of {recorded['folds']} folds, measured on the fold left out) and "
            f"{recorded['in_sample']:.3f} in-sample"
        )
    parts.append(f"wild test {test.get('expected_calibration_error', float('nan')):.3f}")
    opening = f"Expected calibration error of P(fake) (15 bins): {'; '.join(parts)}."
    platt = (calibration or {}).get("platt")
    if platt is None or platt[0] > 0:
        return f"{opening} Platt scaling fitted on the {fitted_on}."
    if platt[0] == 0:
        share = calibration["n_fake"] / (calibration["n_real"] + calibration["n_fake"])
        return (
            f"{opening} On the {fitted_on} a higher score was not more likely AI, so the Platt slope is held at 0: "
            f"P(fake) is the share of AI images there, {share:.0%}, whatever the score. The verdict comes from the "
            "threshold alone, and only its false-alarm rate on real validation images is controlled."
        )
    return (
        f"{opening} The Platt slope fitted on the {fitted_on} was negative (a higher score was not more likely AI "
        "there), so it is not used: P(fake) is a logistic centred on `balanced`, which is **not** a calibrated "
        "probability."
    )


def reduced_precision_sentence(members: dict[str, Any]) -> str:
    """The card's line on ``--precision bfloat16`` for the members that offer it (empty when none does).

    Args:
        members: member name -> loaded model (its class says whether it supports bfloat16 and what was measured).

    Example:
        >>> reduced_precision_sentence({"npr": object()})
        ''
    """
    offering = {name: model for name, model in members.items() if getattr(model, "supports_reduced_precision", False)}
    if not offering:
        return ""
    measured = "; ".join(f"for `{name}` {getattr(model, 'reduced_precision_measured', 'not measured')}"
                         for name, model in offering.items())
    return (
        "**Faster, as an option:** `detector.set_precision(\"bfloat16\")` or `--precision bfloat16` runs the "
        f"autoencoder of {', '.join(f'`{name}`' for name in offering)} in bfloat16. Measured {measured}. "
        "Thresholds and every figure on this card are float32, the default; bfloat16 scores also shift a little with "
        "how images are batched, so a verdict very near the threshold can change."
    )


def native_crop_card_body(
    *,
    title: str,
    repo_id: str,
    text: NativeCropCardText,
    model: Any,
    processor: Any,
    wild: dict[str, Any],
    cifake: Optional[dict[str, Any]],
    aiart: Optional[dict[str, Any]],
    selection: str,
    reproduce: str,
    looked_at: str,
    rebuilt: str = "",
    member_name: str = "",
) -> str:
    """The Markdown body of the card of a detector on native-resolution crops.

    Args:
        title: the card's title.
        repo_id: the Hub repo id shown in the snippets (``namespace/name``).
        text: what the card says in words about this kind of detector.
        model: the loaded model (its ``config.training`` and parameter count are shown).
        processor: its :class:`~deepfake_detectors.NativeCropImageProcessor`.
        wild: the wild-test results (with ``by_source`` / ``by_generator``).
        cifake: the CIFAKE-test results, if measured.
        aiart: the AI-art-test results, if measured.
        selection: how the recipe was chosen (which data, never a test split), in Markdown.
        reproduce: the shell commands that rebuild the repo.
        looked_at: how often each test split was scored for this release.
        rebuilt: what a rebuild from the reproduce commands gave (:func:`rebuild_sentence`), if checked.
        member_name: the model's name in its detector (for :func:`reduced_precision_sentence`).
    """
    rows = [("wild test (sources never seen in training)", wild)]
    rows += [("CIFAKE test (32 px)", cifake)] if cifake else []  # the n columns show a subset
    rows += [("AI-art test (second domain, not tuned)", aiart)] if aiart else []
    training = getattr(model.config, "training", None) or {}
    parameters = sum(p.numel() for p in model.parameters()) / 1e6
    threshold = f"`{wild['threshold_name']}` = {wild['threshold']:.3f}"
    limitations = "\n".join(f"- {item}" for item in text.limitations)
    size = f"{processor.crop_size} x {processor.crop_size} pixels"
    if processor.crops_per_side == 1:
        crops_text = f"one centred crop of {size}, at the image's own resolution (never resized)."
    else:
        crops_text = (
            f"{processor.crops_per_side ** 2} crops of {size} on a grid over the image, at the image's own resolution "
            f"(never resized); the crops' {text.score}s are combined (`{model.config.crop_aggregation}`)."
        )
    precision_text = reduced_precision_sentence({member_name or type(model).__name__: model})
    precision_text = f"\n{precision_text}\n" if precision_text else ""
    small_images = (
        "Images smaller than a crop are first upscaled (bilinear) until their shorter side fills a crop, as in training."
        if getattr(processor, "upscale_small", False)
        else "Smaller images are scored whole, at their own size."
    )
    return f"""
# {title}

**What it is for:** telling AI-generated images from real photographs at the size people actually check them
(a few hundred to a few thousand pixels). {plain_summary(wild)} Treat a verdict as one piece of evidence, never as
proof.

{text.description}

## Use

```bash
pip install -e .   # in a checkout of the deepfake-detectors package: the code this model needs (no remote code)
```

```python
from deepfake_detectors import EnsembleDeepfakeDetector

detector = EnsembleDeepfakeDetector.from_pretrained("{repo_id}")
score, is_fake = detector.predict("photo.jpg")          # default threshold: {wild['threshold_name']}
result = detector.predict("photo.jpg")
print(result.label, result.confidence)                   # the verdict and its shown probability
result.calibrated_probability                            # P(fake) on validation data, whatever the threshold
```

From the command line: `deepfake-detect detect photos/ --model {repo_id}`.
{precision_text}
**Input:** {crops_text} {small_images} {parameters:.2f}M parameters.

## Results

Default threshold {threshold} (score = the {text.score} in standard deviations above its mean on real validation
images). Every figure below comes from `deepfake-detect evaluate` on the split named; {looked_at}

{metrics_table(rows)}

{calibration_error_sentence(model.config.calibration, training.get("calibration", "validation data"), wild)}

### Wild test per source (flagged = false alarms for real sources, recall for AI sources)

{group_table(wild, "source", "source")}

### Wild test per generator

{group_table(wild, "generator", "generator")}

{plots_markdown(wild, heading="### Plots (wild test)")}

## How it was chosen

{selection}

## Training

{training_table(training)}
{text.provenance}
## Limitations

{limitations}

## Reproduce

```bash
{reproduce.strip()}
```
{rebuilt}"""


def training_table(training: dict[str, Any]) -> str:
    """The ``training`` record of the model's config as a two-column Markdown table (nested dicts flattened).

    Args:
        training: the record (``config.training``).

    Example:
        >>> training_table({"epochs": 2, "phase": {"lr": 0.1}}).splitlines()[2:]
        ['| epochs | 2 |', '| phase.lr | 0.1 |']
    """
    lines = ["| setting | value |", "|---|---|"]

    def add(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{prefix}.{key}" if prefix else key, inner)
        else:
            lines.append(f"| {prefix} | {value} |")

    add("", training)
    return "\n".join(lines) if len(lines) > 2 else "(no training record in config.json)"


#: The heading of the card section written by :func:`wild_section` (found again by :func:`replace_card_section`).
WILD_HEADING = "## Real-world images (wild test)"


def wild_section(
    results: dict[str, Any],
    command: str,
    validation: Optional[dict[str, Any]] = None,
    out_of_domain: Optional[dict[str, Any]] = None,
    before: Optional[dict[str, Any]] = None,
    calibration_command: str = "python scripts/calibrate_out_of_domain.py",
) -> str:
    """A card section with the wild-test figures of a detector, overall, per source and per generator.

    Args:
        results: the results of ``evaluate_detector`` on wild test.
        command: the command that produced them.
        validation: the results of ``evaluate_detector`` on wild validation, when scored (``--validation``): its
            calibration error is shown beside wild test's.
        out_of_domain: the detector's ``out_of_domain_calibration`` (a
            :class:`~deepfake_detectors.calibration.ScoreCalibration` as a dict), when it has one: images its
            domain check rejects are judged on it, and the section says so.
        before: wild-test results of the same weights before the out-of-domain calibration, shown as a second row.
        calibration_command: the command that fitted the out-of-domain calibration.

    Example:
        >>> wild_section(results, "python scripts/evaluate_wild.py hub_repos/deepfake-ela-cnn")  # doctest: +SKIP
    """
    fitted_there = out_of_domain is not None
    where = ("where its out-of-domain calibration was fitted, in-sample" if fitted_there
             else "with this repo's calibration, which was not fitted there")
    validation_error = (
        f"; on wild validation ({where}): "
        f"{validation['expected_calibration_error']:.3f} (`results_wild_validation.json`, from `{command} "
        f"--validation`)"
        if validation
        else ""
    )
    recalibrated = ""
    if fitted_there:
        recalibrated = (
            f"\n\n**Out-of-domain calibration.** {_percent(results.get('out_of_domain_calibrated', 0.0))} of these "
            f"images are out of this detector's domain, so their threshold and P(fake) come from its out-of-domain "
            f"calibration: refitted on the {out_of_domain['n_real']} real and {out_of_domain['n_fake']} AI images of "
            f"wild validation that its domain check rejects (`{calibration_command}`; no weight "
            f"changed, so the AUROC did not either). The named thresholds mean the same there (`balanced` = 95th "
            f"percentile of those real scores, `optimal` = best F1 on them); unless a threshold is chosen, those "
            f"images are judged at `{OUT_OF_DOMAIN_DEFAULT_THRESHOLD}`, not at the repo's default, so that a "
            f"detector out of its depth keeps its false alarms near 5% of photos like the ones it was calibrated on."
            + _out_of_domain_probability_sentence(out_of_domain)
        )
    default = f"`{results['threshold_name']}`"
    if fitted_there and results.get("out_of_domain_calibrated"):
        default += f" (`{OUT_OF_DOMAIN_DEFAULT_THRESHOLD}` of its out-of-domain calibration for images out of its domain)"
    rows = [("wild test", results)]
    if before is not None:
        rows.append(("wild test, CIFAKE calibration only (the release before)", before))
    before_error = (
        f" (the release before, CIFAKE calibration only: {before['expected_calibration_error']:.3f})"
        if before is not None else ""
    )
    return f"""{WILD_HEADING}

Photos and AI images at native resolution from sources that share nothing with CIFAKE (camera JPEGs, Unsplash
portraits, DALL-E 3 / SDXL / Stable Cascade / Gemini images; `../shared/data/wild`, test split), at this repo's
default threshold {default}. {plain_summary(results)} This detector never saw such images in
training, so read these figures as a warning, not a feature.{recalibrated}

{metrics_table(rows)}

{group_table(results, "source", "source")}

{group_table(results, "generator", "generator")}

Expected calibration error of P(fake) on wild test: {results['expected_calibration_error']:.3f}{before_error}{validation_error}.
Command: `{command}` (`results_wild_test.json`, `predictions_wild_test.jsonl`). Wild test has been scored
{_times(results.get('test_looks', 1))} for this repo in all (`test_looks`); no weight, threshold or calibration was fitted on it.
"""


def _out_of_domain_probability_sentence(calibration: dict[str, Any]) -> str:
    """What P(fake) means for images judged on an out-of-domain calibration, from its Platt slope and its error."""
    recorded = calibration.get("calibration_error") or {}
    cross, slope = recorded.get("cross_fitted"), (calibration.get("platt") or [-1.0])[0]
    error = (f"its expected calibration error on those images is {cross:.3f} cross-fitted (refitted on "
             f"{recorded['folds'] - 1} of {recorded['folds']} folds, measured on the fold left out)"
             if cross is not None else "")
    if slope > 0:
        return (f" {error[0].upper() + error[1:]}. A weak score now gets a P(fake) near the base rate instead of "
                "100%: the ranking of images is no better than before, but the verdict no longer claims a "
                "confidence it does not have." if error else "")
    if slope == 0:
        share = calibration["n_fake"] / (calibration["n_real"] + calibration["n_fake"])
        return (f" On those images a higher score is not more likely AI, so P(fake) there is the share of AI images "
                f"among them, {share:.0%}, whatever the score (the Platt slope held at 0: the best scaling that does "
                f"not fall with the score){'; ' + error if error else ''}. Only the false-alarm rate of `balanced` "
                "is controlled: the verdict carries no evidence.")
    return (" On those images a higher score is not more likely AI (the Platt slope fitted there is not positive), "
            "so P(fake) falls back to a logistic centred on `balanced`, which is **not** a calibrated probability; "
            "only the false-alarm rate of `balanced` is controlled.")


def _times(count: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(int(count), f"{int(count)} times")


def without_section(text: str, heading: str) -> str:
    """``text`` without the section that starts with the line ``heading`` (up to the next ``## `` heading)."""
    if heading not in text:
        return text
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[:start] + (text[following + 1 :] if following != -1 else "")


def replace_card_section(card_path: Any, section: str) -> None:
    """Put ``section`` (starting with a ``## `` heading) into a card, replacing the section of that heading if any.

    The section goes before ``## Reproduce`` when the card has one, else at the end.
    """
    from pathlib import Path

    path = Path(card_path)
    text = without_section(path.read_text(), section.splitlines()[0])
    marker = text.find("## Reproduce")
    insert = section.rstrip() + "\n\n"
    text = text[:marker] + insert + text[marker:] if marker != -1 else text.rstrip() + "\n\n" + insert
    path.write_text(text)


#: The heading of the plain-words section put right under a card's title (:func:`put_after_title`).
PLAIN_WORDS_HEADING = "## In plain words"

#: What each CIFAKE-trained repo is for, in a sentence (the card's plain-words section starts with it).
CIFAKE_REPO_PURPOSES = {
    "fake-image-detection-ensemble": "a reimplementation, for research, of a published one-class ensemble of nine "
    "detectors that learn what real images look like (from real images only) and flag what differs",
    "deepfake-ensemble-detector": "a reimplementation, for research, of a published one-class detector (Deep SVDD "
    "plus a residual autoencoder) that learns real images only and flags what differs",
    "deepfake-autoencoder": "a reimplementation, for research, of a published residual autoencoder that learns to "
    "rebuild real images and flags the ones it rebuilds badly",
    "deepfake-efficientnet": "a reimplementation, for research, of a published transfer-learning classifier "
    "(EfficientNet fine-tuned on labelled real and fake images)",
    "deepfake-ela-cnn": "a reimplementation, for research, of a published Error Level Analysis + CNN classifier "
    "(the difference between an image and its JPEG re-save, fed to a small CNN)",
}


def plain_words_section(
    repo_name: str, wild: dict[str, Any], namespace: str = "deepfake-detectors", out_of_domain: bool = False
) -> str:
    """The section a CIFAKE-trained repo's card opens with: what it is for, where it fails, install, figures' splits.

    Args:
        repo_name: the repo folder name (a key of :data:`CIFAKE_REPO_PURPOSES`).
        wild: its wild-test results (``results_wild_test.json``): the failures are stated from them.
        namespace: the Hub namespace of the repo id in the snippet.
        out_of_domain: the repo has an out-of-domain calibration (fitted on wild validation).

    Example:
        >>> section = plain_words_section("deepfake-ela-cnn", json.load(open("results_wild_test.json")))  # doctest: +SKIP
    """
    purpose = CIFAKE_REPO_PURPOSES.get(repo_name, "a detector of AI-generated images")
    recalibrated = (
        " (for images out of its domain, such as photos: from the wild validation images its domain check rejects, so "
        "that its P(fake) says how little its score means there)" if out_of_domain else ""
    )
    return f"""{PLAIN_WORDS_HEADING}

**What it is for:** {purpose}. It was trained on CIFAKE only: 32 x 32 pixel CIFAR-10 photos against Stable
Diffusion 1.4 imitations of them. Use it to study that system or to compare detectors on small images like those.

**Where it fails:** on the images people actually check. {plain_summary(wild)} Larger images are shrunk to its
input size, which destroys the traces it learned. For photos, use `{namespace}/deepfake-detector` (the package's
default, best on wild test) or `{namespace}/deepfake-npr-detector` (second on wild test, 6 to 11 times faster on
photos in `make bench`); for any detector, treat a
verdict as one piece of evidence, never as proof.

**Install and use** (the code lives in the `deepfake-detectors` package; no remote code is run):

```bash
pip install -e .   # in a checkout of the deepfake-detectors package
```

```python
from deepfake_detectors import EnsembleDeepfakeDetector

detector = EnsembleDeepfakeDetector.from_pretrained("{namespace}/{repo_name}")
result = detector.predict("image.jpg")     # default threshold: {wild['threshold_name']}
print(result.label, result.confidence)     # the verdict and its shown probability (50% at the threshold)
```

**Which figures come from which split:** weights from CIFAKE train; thresholds, probabilities (and an
ensemble's member weights) from CIFAKE validation{recalibrated}; "CIFAKE test" figures from the CIFAKE test split, used for
nothing else; "wild test" figures from `../shared/data/wild` test, whose sources share nothing with any training data,
scored {_times(wild.get('test_looks', 1))} in all and never fitted on. "The published system" below is the
original project this repo reimplements; its reported figures are quoted only for comparison.
"""


#: Closes the section :func:`put_after_title` writes. That section is followed by the card's own text, not by a
#: ``## `` heading, so a rerun replaces exactly what it wrote up to this line and keeps the text after it.
SECTION_END = "<!-- end of section -->"


def put_after_title(card_path: Any, section: str) -> None:
    """Put ``section`` right under the card's ``# `` title, replacing an earlier section of the same heading.

    The section is closed by :data:`SECTION_END`; an earlier one is removed up to that line, or, in a card written
    before the line existed, where it matches ``section`` word for word (else up to the next ``## `` heading).

    Args:
        card_path: the card (``README.md``).
        section: the new section, starting with its ``## `` heading.

    Example:
        >>> put_after_title("hub_repos/deepfake-ela-cnn/README.md", plain_words_section(...))  # doctest: +SKIP
    """
    from pathlib import Path

    path = Path(card_path)
    text = path.read_text()
    body = section.rstrip()
    heading = body.splitlines()[0]
    if heading in text:
        start = text.index(heading)
        end = text.find(SECTION_END, start)
        if end != -1:
            text = text[:start] + text[end + len(SECTION_END) :].lstrip("\n")
        elif body in text:
            text = text.replace(body + "\n", "", 1)
        else:
            text = without_section(text, heading)
    title = 0 if text.startswith("# ") else text.index("\n# ") + 1  # after the metadata block, if any
    end_of_title = text.index("\n", title) + 1
    rest = text[end_of_title:].lstrip("\n")
    path.write_text(f"{text[:end_of_title]}\n{body}\n\n{SECTION_END}\n\n{rest}")


#: The heading of the card section written by :func:`domain_section`.
DOMAIN_HEADING = "## Domain: the images it knows"
#: The flag rates of the repo's domain check on the test splits (written by ``scripts/domain_report.py``).
DOMAIN_REPORT_FILE = "domain_report.json"


def domain_section(summary: str, report: dict[str, Any], command: str = "") -> str:
    """A card section stating the detector's domain and how often its domain check flags test images.

    Args:
        summary: :meth:`~deepfake_detectors.domain.DomainDescription.summary` of the repo's domain.
        report: ``domain_report.json`` (flag rates on wild test, per source, and on CIFAKE test).
        command: the command that fitted the domain description (``DomainDescription.command``), if recorded.

    Example:
        >>> domain_section(domain.summary(), report, domain.command)  # doctest: +SKIP
    """
    by_source = ", ".join(f"`{name}` {value:.1%}" for name, value in report["wild_test_by_source"].items())
    fitted_by = f"`{command}`" if command else "`scripts/fit_domain.py`, as in the Reproduce section below"
    return f"""{DOMAIN_HEADING}

Every verdict carries `in_domain`: whether the image looks like this detector's training images, judged by a
small Gaussian mixture over five cheap statistics (or the ones that matter to this detector) in
`domain.safetensors`, {summary}. An image below the 1st percentile of held-out training images is out of domain;
its verdict is marked unreliable, with the reason (the CLI prints an `in_domain` column, the Space a warning).
No fake image and no test image was used to fit it. Fitted by {fitted_by}.

Out-of-domain rate: wild test {report['wild_test']:.1%} ({by_source}); CIFAKE test {report['cifake_test']:.1%}.
Command: `{report['command']}` (`domain_report.json`).
"""


def restore_domain_section(repo_dir: Any) -> bool:
    """Write the card's domain section from the repo's own files (``domain.safetensors`` and ``domain_report.json``),
    as ``scripts/domain_report.py --cards-only`` does. :func:`~deepfake_detectors.hub.write_model_card` calls it, so a
    builder that rewrites the whole card never drops the section.

    Args:
        repo_dir: the repo folder (``README.md`` inside).

    Returns:
        ``False`` (the card untouched) when the repo lacks either file, e.g. before ``scripts/domain_report.py`` ran.

    Example:
        >>> restore_domain_section("hub_repos/deepfake-npr-detector")  # doctest: +SKIP
        True
    """
    from .domain import DOMAIN_FILE, DomainDescription

    repo = Path(repo_dir)
    if not (repo / DOMAIN_FILE).is_file() or not (repo / DOMAIN_REPORT_FILE).is_file():
        return False
    domain = DomainDescription.load(repo / DOMAIN_FILE)
    report = json.loads((repo / DOMAIN_REPORT_FILE).read_text())
    replace_card_section(repo / "README.md", domain_section(domain.summary(), report, domain.command))
    return True


def rebuild_sentence(repo_dir: Any) -> str:
    """What a rebuild of the repo from its card's command gave (``rebuild_check.json``), or ``""`` when none was
    recorded.

    Example:
        >>> rebuild_sentence("hub_repos/deepfake-autoencoder")  # doctest: +SKIP
        'Rebuilt from a clean checkout with `bash scripts/bundled_weights.sh` on commit ...'
    """
    from .evaluation.rebuild import REBUILD_FILE

    path = Path(repo_dir) / REBUILD_FILE
    if not path.is_file():
        return ""
    check = json.loads(path.read_text())
    published, rebuilt = check["published"], check["rebuilt"]
    verdict = "within" if check["reproduced"] else "outside"
    caveat = "" if check["reproduced"] else (
        " So the figures on this card vary from run to run by about that much; the weights here were kept (picking "
        "the better run by its test score would tune on the test split)."
    )
    repeatability = (
        "the rebuild wrote the same tensors, bit for bit" if check.get("identical_weights")
        else "training on the CPU is not bit-for-bit repeatable"
    )
    return (
        f"Rebuilt from a clean checkout with `{check['command']}` on {check['code']}: test AUROC "
        f"{rebuilt['auroc']:.4f} against {published['auroc']:.4f} here, a difference of "
        f"{check['auroc_difference']:.4f}, {verdict} the tolerance of {check['tolerance']} we hold a rebuild to "
        f"(accuracy {rebuilt['accuracy']:.4f} against {published['accuracy']:.4f}; {repeatability}).{caveat} "
        f"Recorded in `{REBUILD_FILE}`.\n"
    )


def judge_table(rows: list[tuple[str, dict[str, Any]]], names: list[str]) -> str:
    """Who judged the images of each evaluation of a domain-routed ensemble, and how well (``by_judge``).

    Args:
        rows: ``(evaluation name, results)`` pairs; each results dict has ``by_judge``.
        names: the ensemble's member names, in order.

    Example:
        >>> row = {"n": 2, "n_real": 1, "n_fake": 1, "share": 1.0, "flagged": 0.5, "accuracy": 1.0, "auroc": 1.0}
        >>> judge_table([("test", {"by_judge": {"npr": row}})], ["efficientnet", "npr"]).splitlines()[-1]
        '| test | npr | 100.0% | 1 / 1 | 100.0% | 50.0% | 1.000 |'
    """
    lines = ["| evaluation | judged by | share of images | real / fake | accuracy | flagged as fake | AUROC |",
             "|---|---|---|---|---|---|---|"]
    for evaluation, results in rows:
        for name in names:
            row = results.get("by_judge", {}).get(name)
            if row is None:
                continue
            auroc = "n/a" if row.get("auroc") is None else f"{row['auroc']:.3f}"
            lines.append(f"| {evaluation} | {name} | {_percent(row['share'])} | {row['n_real']} / {row['n_fake']} | "
                         f"{_percent(row['accuracy'])} | {_percent(row['flagged'])} | {auroc} |")
    return "\n".join(lines)


def routed_card_body(
    *,
    title: str,
    repo_id: str,
    names: list[str],
    member_repos: list[str],
    domain_summary: str,
    second_domain_summary: str,
    thresholds: list[str],
    wild: dict[str, Any],
    cifake: dict[str, Any],
    aiart: Optional[dict[str, Any]],
    validation: dict[str, dict[str, Any]],
    looked_at: str,
    command: str,
    precision_text: str = "",
) -> str:
    """The Markdown body of the card of a domain-routed ensemble (two detectors, each judging its own images).

    Args:
        title: the card's title.
        repo_id: the Hub repo id shown in the snippets.
        names: the two member names, in order (the first judges the images in its domain).
        member_repos: the repos they come from, in the same order (their cards hold their training details).
        domain_summary: :meth:`~deepfake_detectors.domain.DomainDescription.summary` of the first member's domain.
        second_domain_summary: the same for the second member (``"none"`` when it has no domain description).
        thresholds: each member's default threshold, in words (``"`optimal` = 1.647"``).
        wild, cifake, aiart: the test results (``aiart`` may be ``None``).
        validation: ``{detector: {"cifake": results, "wild": results}}`` on the validation splits, the routed
            ensemble and each member alone (the choice of the default; no test split).
        looked_at: how often each test split was scored for this repo.
        command: the command that built the repo.
        precision_text: :func:`reduced_precision_sentence` of its members (empty: nothing shown).
    """
    first, second = names
    precision_block = f"\n{precision_text}\n" if precision_text else ""
    rows = [("wild test (sources never seen in training)", wild), ("CIFAKE test (32 px)", cifake)]
    rows += [("AI-art test (second domain, not tuned)", aiart)] if aiart else []
    validation_rows = []
    for detector, splits in validation.items():
        for split, results in splits.items():
            validation_rows.append((f"{detector}, {split} validation", results))
    by_source = ", ".join(f"`{source}` {_percent(value)}" for source, value in wild.get("out_of_domain_by_source", {}).items())
    members = "\n".join(f"- `{name}`: `{repo}` (see its card for training, calibration and selection)"
                        for name, repo in zip(names, member_repos))
    return f"""
# {title}

**What it is for:** one detector for both kinds of image people bring: small CIFAKE-like images and photos or AI
images at their native resolution. {plain_summary(wild)} On CIFAKE test it is right on
{_percent(cifake['accuracy'])} of the images. Treat a verdict as one piece of evidence, never as proof.

**How it works:** two detectors, and each image is judged by one of them. `{first}` judges the images its
domain description accepts (images like its training images: see "Domain" below); `{second}` judges every other image. Each image gets exactly the
score, threshold and P(fake) its judge gives on its own (default thresholds: {thresholds[0]} for `{first}`,
{thresholds[1]} for `{second}`); nothing was refitted when joining them. The result says who judged
(`calibration_domain` = the member's name; `member_scores` holds that member only), and `in_domain` is the judge's
own domain check: an image neither detector knows is marked unreliable (see "Domain" below).

{members}

{DOMAIN_HEADING}

Every verdict carries `in_domain`, the domain check of the member that judged the image (a small Gaussian mixture
over cheap image statistics, fitted on real training images only (each member's card names them); no fake and no
test image was used):

- `{first}` (it also decides the route): {domain_summary}
- `{second}`: {second_domain_summary}

Marked out of domain by the judge: wild test {_percent(wild.get('out_of_domain'))} ({by_source}); CIFAKE test
{_percent(cifake.get('out_of_domain'))} (from `results_summary.json` and `results_extra.json`).

## Use

```bash
pip install -e .   # in a checkout of the deepfake-detectors package: the code this model needs (no remote code)
```

```python
from deepfake_detectors import EnsembleDeepfakeDetector

detector = EnsembleDeepfakeDetector.from_pretrained("{repo_id}")
score, is_fake = detector.predict("photo.jpg")
result = detector.predict("photo.jpg")
print(result.label, result.confidence, result.calibration_domain)   # the verdict, its probability, its judge
```

From the command line: `deepfake-detect detect photos/ --model {repo_id}` (the package's default detector).
{precision_block}
## Results

Every figure below comes from `deepfake-detect evaluate` on the split named, at each judge's default threshold;
{looked_at}

{metrics_table(rows)}

Who judged which images:

{judge_table(rows, names)}

Expected calibration error of P(fake) (15 bins): wild test {wild['expected_calibration_error']:.3f}, CIFAKE test
{cifake['expected_calibration_error']:.3f} (each judge's own Platt scaling, fitted on its own validation data).

### Wild test per source (flagged = false alarms for real sources, recall for AI sources)

{group_table(wild, "source", "source")}

### Wild test per generator

{group_table(wild, "generator", "generator")}

{plots_markdown(wild, heading="### Plots (wild test)")}

## Why it is the default

Chosen on validation splits only (`results_validation.json`): the routed pair against each member alone, at their
default thresholds. `{second}` alone is the better detector for photos but is weaker on CIFAKE-like images;
`{first}` alone is strong on CIFAKE and at chance on photos; routed, each judges what it knows.

{metrics_table(validation_rows)}

## Limitations

- On photos it is exactly `{second}`: read that card's limitations (generators and photos unlike its own data, heavy
  compression and resizing).
- The route is `{first}`'s own domain check on five cheap image statistics, which include the stored size and
  JPEG quality. A CIFAKE-like image it rejects is judged by `{second}`
  ({_percent(cifake.get('by_judge', {}).get(second, {}).get('share', 0.0))} of CIFAKE test; the judge table shows
  how well), and so is the same small image saved in another format or JPEG quality than its training images
  (CIFAKE's are all quality-75 JPEGs, so a 32 px PNG goes to `{second}`); an image that matches them, even if it is a
  tiny crop of a photo, is judged by `{first}`.

## Reproduce

```bash
{command}
```
"""
