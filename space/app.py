"""Gradio Space of deepfake-detectors: analyse one image or a batch with any of the bundled detectors.

Run locally with ``make demo`` (or ``python space/app.py``) and open http://127.0.0.1:7860.

Models: the repos in ``hub_repos/`` beside this folder when they exist (a checkout of the project), otherwise the
published repos ``<DEEPFAKE_DETECTORS_NAMESPACE>/<name>`` on the Hub. ``DEEPFAKE_DETECTORS_MODELS`` adds or
replaces detectors: ``"Label=dir_or_repo_id;Other label=..."``.

API (``gradio_client``): ``/analyze`` (one image -> verdict, confidences, member scores, explanations, EXIF),
``/predict`` (one image -> a JSON verdict, the simplest call), ``/batch`` (many images or a zip -> table + CSV).

Example:
    >>> from gradio_client import Client, handle_file  # doctest: +SKIP
    >>> client = Client("http://127.0.0.1:7860")  # doctest: +SKIP
    >>> client.predict(handle_file("examples/fake_01.jpg"), "ELA + CNN", "default", 0.5, api_name="/predict")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import functools
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Optional, Sequence

import gradio as gr
from matplotlib.figure import Figure
from PIL import Image

from deepfake_detectors import REGISTRY, EnsembleDeepfakeDetector, ImageLoadError
from deepfake_detectors.cli import apply_precision
from deepfake_detectors.scan_output import escape_cell
from deepfake_detectors.explanations import exif_metadata, explain_image
from deepfake_detectors.provenance import read_provenance

HERE = Path(__file__).resolve().parent
HUB_DIR = Path(os.environ.get("DEEPFAKE_DETECTORS_HUB_DIR", HERE.parent / "hub_repos"))
#: Where models not in hub_repos/ come from: the env var, else the namespace publish.py wrote, else the project's.
_SETTINGS = HERE / "space_settings.json"
NAMESPACE = os.environ.get("DEEPFAKE_DETECTORS_NAMESPACE") or (
    json.loads(_SETTINGS.read_text()).get("model_namespace", "deepfake-detectors") if _SETTINGS.is_file() else "deepfake-detectors"
)
EXAMPLES_DIR = next((p for p in (HERE / "examples", HERE.parent / "examples") if p.is_dir()), None)

#: The detectors shown first: label -> repo folder name in hub_repos/ (and on the Hub).
MAIN_DETECTORS: dict[str, str] = {
    "Default: EfficientNet for small CIFAKE-like images, reconstruction error for photos": "deepfake-detector",
    "NPR detector (photos, native resolution)": "deepfake-npr-detector",
    "9-member one-class ensemble": "fake-image-detection-ensemble",
    "9-member one-class ensemble (photos, native resolution)": "fake-image-detection-ensemble-photos",
    "Deep SVDD + autoencoder ensemble": "deepfake-ensemble-detector",
    "Zero-shot entropy (photos, one-class)": "deepfake-zero-shot-entropy",
    "Reconstruction error (photos, training-free)": "deepfake-reconstruction-error",
    "Reconstruction ratio (photos, training-free)": "deepfake-reconstruction-ratio",
    "Residual autoencoder (photos, one-class)": "deepfake-autoencoder-photos",
    "EfficientNet classifier": "deepfake-efficientnet",
    "ELA + CNN": "deepfake-ela-cnn",
}
#: Short names of the two ensembles, for their members' labels.
ENSEMBLE_SHORT_NAMES: dict[str, str] = {
    "9-member ensemble": "fake-image-detection-ensemble",
    "SVDD + AE ensemble": "deepfake-ensemble-detector",
}
#: "default" is the threshold the detector's own config names (``optimal`` for the supervised classifiers,
#: ``balanced`` for the others); "custom" is a probability of fake, set with the slider.
THRESHOLD_PRESETS = ["default", "strict", "balanced", "sensitive", "optimal", "custom"]
BATCH_HEADER = ["file", "verdict", "confidence", "score", "p_fake", "in_domain", "error", "metadata", "precision"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
#: Images scored per call to the detector in the batch tab (the progress bar moves once per chunk).
BATCH_CHUNK = 64
#: Abuse limits: images per upload from zip archives, uncompressed bytes per zip entry, bytes per uploaded file.
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_ENTRY_BYTES = 50 * 2**20
MAX_UPLOAD = "100mb"
#: Where the batch tab's CSVs go (older than an hour: deleted); Gradio's own cache is cleaned by delete_cache.
RESULTS_DIR = Path(tempfile.gettempdir()) / "deepfake_space_results"
RESULTS_DIR.mkdir(exist_ok=True)

ABOUT_DESCRIPTIONS: dict[str, str] = {
    "deepfake-detector": "The default: each image is judged by one of two detectors. The EfficientNet classifier "
    "judges the small images like CIFAKE's that its domain check accepts; the reconstruction-error detector every "
    "other image (photos and AI images at their own resolution). Each verdict is exactly that detector's own.",
    "deepfake-npr-detector": "A small CNN on the neighbouring-pixel residual of native-resolution crops (NPR), "
    "trained on the wild train split's photos and AI images plus 10,000 CIFAKE images. The only supervised "
    "detector trained on photos, and 6 to 11 times faster on them than the reconstruction-error detector "
    "(make bench, 12 MP and 1 MP photos).",
    "fake-image-detection-ensemble": "Nine one-class models (frequency VAE, edge flow, semantic Deep SVDD, texture "
    "One-Class SVM, Isolation Forest, LOF, Gaussian mixture, colour and statistical Mahalanobis models) trained on "
    "CIFAKE's real 32 px images only, combined by weighted voting. Flags what does not look like the real images "
    "it saw, so nearly every larger photo.",
    "fake-image-detection-ensemble-photos": "The same nine one-class models refitted on native-resolution crops of "
    "real photographs only (no fakes); an image is flagged when its crops look unlike those photos. It rarely "
    "flags a real photo, and on AI images from other sources it is close to chance: see its card.",
    "deepfake-ensemble-detector": "Deep SVDD and a residual convolutional autoencoder, trained on CIFAKE's real "
    "32 px images only, 50/50 vote of their calibrated scores.",
    "deepfake-zero-shot-entropy": "A pixel model of real photographs (after ZED), trained on real photos only (no "
    "fakes): it predicts each pixel from its neighbours and measures how many bits the image costs against how "
    "many it expected. Generated images tend to be more predictable than real photos; its map shows where.",
    "deepfake-reconstruction-error": "A pretrained image autoencoder (the FLUX.2 tiny autoencoder) and the first "
    "layers of an ImageNet network, both used as published, after AEROBLADE: an image whose features the "
    "autoencoder reproduces closely is scored as generated. Nothing was trained; only its thresholds were set, on "
    "photos. Its map shows where the reconstruction is most faithful.",
    "deepfake-reconstruction-ratio": "A pretrained image autoencoder (the FLUX.2 tiny autoencoder), used as "
    "published, after AEROBLADE: an image it reconstructs more easily than its own reconstruction is scored as "
    "generated. Nothing was trained; only its thresholds were set, on photos. Its map shows where.",
    "deepfake-autoencoder-photos": "The residual convolutional autoencoder at its published size (34.8M "
    "parameters), trained on native-resolution crops of real photos only (no fakes); an image it reconstructs "
    "badly is unlike those photos. Trained on the CPU for a short time: see its card.",
    "deepfake-efficientnet": "EfficientNet-Lite0 pretrained on ImageNet and fine-tuned on labelled real and "
    "fake images; Grad-CAM shows where its evidence lies.",
    "deepfake-ela-cnn": "Error Level Analysis (JPEG re-save difference) stacked with the image and fed to a "
    "compact CNN trained on labelled real and fake images.",
}


def _model_source(folder: str) -> str:
    local = HUB_DIR / folder
    return str(local) if local.is_dir() else f"{NAMESPACE}/{folder}"


def detector_sources() -> dict[str, str]:
    """Label -> directory or repo id of every detector the app offers (main detectors, then single members)."""
    sources = {label: _model_source(folder) for label, folder in MAIN_DETECTORS.items()}
    for short, folder in ENSEMBLE_SHORT_NAMES.items():  # each member of the two ensembles on its own too
        members = HUB_DIR / folder / "members"
        if members.is_dir():
            for member in sorted(p.name for p in members.iterdir() if (p / "config.json").is_file()):
                sources[f"{short} member: {member}"] = str(members / member)
    for entry in filter(None, (part.strip() for part in os.environ.get("DEEPFAKE_DETECTORS_MODELS", "").split(";"))):
        label, _, source = entry.rpartition("=")
        sources[label.strip() or source.strip()] = source.strip()
    return sources


SOURCES = detector_sources()


def space_precision() -> str:
    """``DEEPFAKE_DETECTORS_PRECISION``: ``float32`` (default) or ``bfloat16`` (the reconstruction-error detector's
    autoencoder, about twice as fast on CPUs with native bfloat16; see ``EnsembleDeepfakeDetector.set_precision``).

    Raises:
        ValueError: for any other value, naming the variable.
    """
    precision = os.environ.get("DEEPFAKE_DETECTORS_PRECISION", "").strip().lower() or "float32"
    if precision not in ("float32", "bfloat16"):
        raise ValueError(f"DEEPFAKE_DETECTORS_PRECISION={precision!r}: use float32 or bfloat16")
    return precision


@functools.lru_cache(maxsize=None)
def load_detector(label: str) -> EnsembleDeepfakeDetector:
    """Load (once) the detector offered under ``label``, in the precision :func:`space_precision` sets."""
    if label not in SOURCES:
        raise gr.Error(f"Unknown detector {label!r}; choose one of: {', '.join(SOURCES)}")
    try:
        detector = EnsembleDeepfakeDetector.from_pretrained(SOURCES[label], device="cpu")
    except Exception as exc:  # missing files, no network for a repo id...
        raise gr.Error(f"Could not load the detector {label!r} from {SOURCES[label]}: {exc}") from exc
    apply_precision(detector, space_precision())  # its notes go to the server log, not to the visitor
    return detector


def _threshold(preset: str, value: Optional[float]) -> Any:
    """The threshold to pass to ``predict`` (per request: the shared detectors are never mutated).

    ``default`` is the detector's own (``None``); ``custom`` is a probability of fake between 0 and 1.
    """
    if preset == "default":
        return None
    if preset == "custom":
        return float(value if value is not None else 0.5)
    if preset not in THRESHOLD_PRESETS:
        raise gr.Error(f"Unknown threshold {preset!r}; choose one of: {', '.join(THRESHOLD_PRESETS)}")
    return preset


def _predict(detector: EnsembleDeepfakeDetector, inputs: Any, preset: str, value: Optional[float]) -> Any:
    try:
        return detector.predict(inputs, threshold=_threshold(preset, value))
    except ValueError as exc:  # e.g. a named threshold on an uncalibrated detector
        raise gr.Error(str(exc)) from exc


def _display_name(path: str) -> str:
    return Path(path).name


class UploadedImage(gr.Image):
    """``gr.Image`` that passes the uploaded file through untouched and turns an unreadable upload into a plain error.

    With ``type="filepath"`` Gradio hands over the uploaded file itself (its bytes, JPEG history and EXIF intact,
    which the detectors and the EXIF table need); a file Pillow cannot open becomes a readable ``gr.Error``
    instead of a stack trace.
    """

    def get_block_name(self) -> str:
        return "image"

    def preprocess(self, payload: Any) -> Any:
        try:
            return super().preprocess(payload)
        except Exception as exc:
            name = getattr(payload, "orig_name", None) or Path(str(getattr(payload, "path", "upload"))).name
            raise gr.Error(f"{name} could not be read as an image ({type(exc).__name__}). Upload a JPEG, PNG or WebP file.") from exc


def _for_display(picture: Image.Image, minimum: int = 256) -> Image.Image:
    """Enlarge small explanation images (CIFAKE is 32 x 32) with visible pixels instead of browser blur."""
    factor = -(-minimum // max(1, min(picture.size)))
    if factor <= 1:
        return picture
    return picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.NEAREST)


def member_score_figure(member_scores: dict[str, float], score: float, threshold: float, threshold_name: str) -> Figure:
    """Bar chart of each member's calibrated score and the combined score, with the threshold marked (one member:
    its score, named: a single detector, or the member of a domain-routed detector that judged the image)."""
    names = [*member_scores, "combined"] if len(member_scores) > 1 else [f"score ({name})" for name in member_scores] or ["score"]
    values = [*member_scores.values(), score] if len(member_scores) > 1 else [score]
    figure = Figure(figsize=(5.6, 1.5 + 0.34 * len(names)), layout="constrained")
    axis = figure.subplots()
    colours = ["#c0392b" if v >= threshold else "#2e86c1" for v in values]
    colours[-1] = "#7b241c" if score >= threshold else "#1b4f72"
    axis.barh(names, values, color=colours, height=0.6)
    axis.axvline(threshold, color="black", linestyle="--")
    axis.invert_yaxis()
    axis.margins(y=0.15)
    figure.suptitle(" ", fontsize=14)  # room for the panel's own label above the axes
    figure.supxlabel(  # centred on the figure, not on the axes that the member names push right: never clipped
        f"score (standard deviations above real validation images)\ndashed: {threshold_name} threshold "
        f"{threshold:.2f}; red bars are on the fake side", fontsize=9,
    )
    axis.tick_params(labelsize=9)
    return figure


def _verdict(detector_label: str, image_path: Optional[str], preset: str, value: Optional[float]):
    if not image_path:
        raise gr.Error("Upload, paste or pick an image first.")
    detector = load_detector(detector_label)
    result = _predict(detector, image_path, preset, value)
    if result.error is not None:
        raise gr.Error(result.error.replace(str(Path(image_path).parent) + os.sep, ""))
    return detector, result


def analyze(image_path: Optional[str], detector_label: str, preset: str, custom_threshold: Optional[float]):
    """Analyse one image: verdict and confidence, member scores, explanation images and EXIF metadata.

    Args:
        image_path: the uploaded image file.
        detector_label: one of the offered detectors.
        preset: strict | balanced | sensitive | optimal | custom.
        custom_threshold: the threshold when ``preset`` is ``custom`` (calibrated score scale).

    Returns:
        Confidences for ``gr.Label``, a Markdown summary, the member-score chart, explanation images for
        ``gr.Gallery`` and the EXIF table.
    """
    if not image_path:  # the button pressed with no image: a message, not four error boxes
        gr.Warning("Upload, paste or pick an image first.")
        return None, "Upload, paste or pick an image first, then press **Analyse**.", None, [], []
    detector, result = _verdict(detector_label, image_path, preset, custom_threshold)
    confidences = {row["label"]: row["score"] for row in result.as_pipeline_output()}
    summary = verdict_markdown(result, detector_label, detector.precision) + "\n\n" + provenance_markdown(image_path)
    figure = member_score_figure(result.member_scores, result.score, result.threshold, result.threshold_name)
    gallery = [(_for_display(picture), caption) for caption, picture in explain_image(detector, image_path).items()]
    exif = exif_metadata(image_path)
    table = [[key, value] for key, value in exif.items()] or [["(none)", "no EXIF metadata in this file"]]
    return confidences, summary, figure, gallery, table


def verdict_markdown(result: Any, detector_label: str, precision: str = "float32") -> str:
    """The verdict in words: the label, its shown confidence (the same number as the Verdict panel), the threshold,
    and the precision when it is not float32."""
    label = result.label.upper()
    line = (
        f"**{label}** with {detector_label}: {result.confidence:.0%} {result.label} at the "
        f"`{result.threshold_name}` threshold (score {result.score:.2f}, threshold {result.threshold:.2f}, in "
        f"standard deviations above real validation images)."
    )
    if result.calibrated_probability is not None:
        line += f" Calibrated P(fake) on validation data, whatever the threshold: {result.calibrated_probability:.0%}."
    if precision != "float32":
        line += " Scored in bfloat16 (faster; thresholds were set in float32, so a score very near one may differ)."
    if result.calibration_domain not in (None, "in-domain", "out-of-domain"):  # a domain-routed ensemble's judge
        line += f" Judged by its `{result.calibration_domain}` member, the one that knows images like this."
    if result.calibration_domain == "out-of-domain":
        line += (
            " Threshold and P(fake) come from this detector's out-of-domain calibration, fitted on labelled "
            "validation images as unlike its training images as this one: they say how little its score means here."
        )
    if result.in_domain is False:
        line = (
            f"**Warning: this image is unlike anything this detector was trained on; the verdict is unreliable** "
            f"({result.domain_note}).\n\n{line}"
        )
    return line


def provenance_markdown(image_path: str) -> str:
    """What the file's own metadata declares (AI labels, Content Credentials), beside the verdict, never in it."""
    provenance = read_provenance(image_path)
    text = provenance.summary()
    sentence = f"{text[0].upper()}{text[1:]}."
    return f"**Metadata: {sentence}**" if provenance.declares_ai else f"**Metadata:** {sentence}"


def predict_json(image_path: Optional[str], detector_label: str, preset: str, custom_threshold: Optional[float]) -> dict:
    """The verdict on one image as JSON: label, confidence, score, threshold, P(fake), member scores, and the
    ``pipeline`` view (``[{"label", "score"}, ...]``, verdict first)."""
    _, result = _verdict(detector_label, image_path, preset, custom_threshold)
    row = result.to_dict()
    row["source"] = _display_name(image_path or "")
    row["pipeline"] = result.as_pipeline_output()  # the Verdict panel's view: the verdict's label first
    return row


def _batch_inputs(paths: list[str]) -> list[tuple[str, Any]]:
    """(display name, path, bytes or refusal) of every uploaded image; zip archives read in memory, never extracted.

    Zip entries are capped: at most :data:`MAX_ZIP_ENTRIES` images per upload, each at most
    :data:`MAX_ZIP_ENTRY_BYTES` uncompressed (read through a size-checking stream, so a lying header cannot make
    it more); an entry over the cap becomes a :class:`ImageLoadError` row instead of being read.
    """
    inputs: list[tuple[str, Any]] = []
    for path in paths:
        if Path(path).suffix.lower() != ".zip":
            inputs.append((_display_name(path), path))
            continue
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    if member.is_dir() or Path(member.filename).suffix.lower() not in IMAGE_SUFFIXES:
                        continue
                    name = f"{_display_name(path)}/{member.filename}"
                    if len(inputs) >= MAX_ZIP_ENTRIES:
                        inputs.append((name, ImageLoadError(name, f"more than {MAX_ZIP_ENTRIES} images in one upload")))
                        break
                    inputs.append((name, _read_capped(archive, member, name)))
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):  # corrupt, truncated or encrypted archive
            inputs.append((_display_name(path), ImageLoadError(_display_name(path), "not a readable zip archive")))
    return inputs


def _read_capped(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> Any:
    """The entry's bytes, or an ImageLoadError when it is (or turns out to be) larger than the cap."""
    if member.file_size > MAX_ZIP_ENTRY_BYTES:
        return ImageLoadError(name, f"larger than {MAX_ZIP_ENTRY_BYTES // 2**20} MB uncompressed")
    with archive.open(member) as stream:
        data = stream.read(MAX_ZIP_ENTRY_BYTES + 1)
    if len(data) > MAX_ZIP_ENTRY_BYTES:
        return ImageLoadError(name, f"larger than {MAX_ZIP_ENTRY_BYTES // 2**20} MB uncompressed")
    return data


def analyze_batch(
    files: Optional[list[str]],
    detector_label: str,
    preset: str,
    custom_threshold: Optional[float],
    progress: gr.Progress = gr.Progress(),
):
    """Score many images (or zips of images): a results table and a CSV file to download.

    Args:
        files: uploaded image files and/or zip archives.
        detector_label: one of the offered detectors.
        preset: strict | balanced | sensitive | optimal | custom.
        custom_threshold: the threshold when ``preset`` is ``custom``.

    Returns:
        Rows ``[file, verdict, confidence, score, P(fake), in_domain, error, metadata, precision]`` (confidence: the
        shown probability of the verdict; metadata: what the file declares, see :func:`batch_metadata_cell`;
        precision: float32 or bfloat16, as the Space's ``DEEPFAKE_DETECTORS_PRECISION`` set it, so that a downloaded
        table says how it was scored) and the path of the same table as CSV.
    """
    if not files:
        raise gr.Error("Upload at least one image or zip file.")
    detector = load_detector(detector_label)
    inputs = _batch_inputs([str(f) for f in files])
    if not inputs:
        raise gr.Error("No images found in the upload (zip archives are searched for image files).")
    rows: list[list[Any]] = []
    chunks = [inputs[start : start + BATCH_CHUNK] for start in range(0, len(inputs), BATCH_CHUNK)]
    for chunk in progress.tqdm(chunks, desc="scoring"):
        readable = [source for _, source in chunk if not isinstance(source, ImageLoadError)]
        scored = iter(_predict(detector, readable, preset, custom_threshold) if readable else [])
        for name, source in chunk:
            if isinstance(source, ImageLoadError):
                rows.append([name, "error", None, None, None, None, f"{name}: {source.reason}", None, None])
                continue
            result = next(scored)
            error = None if result.error is None else f"{name}: could not be read as an image"
            rows.append([
                name,
                result.label,
                None if result.confidence is None else round(result.confidence, 4),
                None if result.score is None else round(result.score, 4),
                None if result.probability is None else round(result.probability, 4),
                {True: "yes", False: "no (unreliable)", None: None}[result.in_domain],
                error,
                batch_metadata_cell(source),
                detector.precision,
            ])
    header = BATCH_HEADER
    _remove_old_results()
    handle = tempfile.NamedTemporaryFile(
        "w", suffix=".csv", prefix="deepfake_results_", dir=RESULTS_DIR, delete=False, newline=""
    )
    with handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[escape_cell(cell) for cell in row] for row in rows])
    return rows, handle.name


def batch_metadata_cell(source: Any) -> str:
    """The batch table's ``metadata`` cell: an AI label and its evidence, Content Credentials, or empty."""
    try:
        provenance = read_provenance(source)
    except OSError:
        return ""
    if provenance.declares_ai:
        return "declares AI: " + "; ".join(provenance.evidence)
    return "Content Credentials (not verified), no AI label" if provenance.content_credentials else ""


def _remove_old_results(max_age_seconds: float = 3600.0) -> None:
    """Delete result CSVs older than an hour (Gradio has served them by then)."""
    import time

    for path in RESULTS_DIR.glob("deepfake_results_*.csv"):
        try:
            if time.time() - path.stat().st_mtime > max_age_seconds:
                path.unlink()
        except OSError:
            pass


def _figures(path: Path, keys: Sequence[str]) -> list[str]:
    """Rounded figures from a results file, ``n/a`` where missing."""
    results = json.loads(path.read_text()) if path.is_file() else {}
    def shown(key: str) -> str:
        value = results.get(key)
        if not isinstance(value, (int, float)):
            return "n/a"
        return f"{value:.1%}" if key in ("fpr", "recall") else f"{value:.3f}"

    return [shown(key) for key in keys]


def about_markdown() -> str:
    """What each detector does and its model card's figures on wild test and CIFAKE test, from the results files."""
    lines = [
        "## The detectors",
        "",
        "| detector | wild test AUROC | real photos flagged (wild) | AI images caught (wild) | CIFAKE test AUROC |",
        "|:--|--:|--:|--:|--:|",
    ]
    for label, folder in MAIN_DETECTORS.items():
        repo = HUB_DIR / folder
        native = (repo / "results_wild_test.json").is_file()  # CIFAKE-trained repos: wild results on the side
        wild_file = repo / ("results_wild_test.json" if native else "results_summary.json")
        wild = _figures(wild_file, ("auroc", "fpr", "recall"))
        if native:
            cifake = _figures(repo / "results_summary.json", ("auroc",))
        else:
            extra = repo / "results_extra.json"
            cifake = [f"{json.loads(extra.read_text())['cifake_test']['auroc']:.3f}"] if extra.is_file() else ["n/a"]
        lines.append(f"| {label} | {' | '.join(wild + cifake)} |")
    lines += ["", "What each one does:", ""]
    lines += [f"- **{label}**: {ABOUT_DESCRIPTIONS[folder]}" for label, folder in MAIN_DETECTORS.items()]
    lines += ["", "Every detector type in the package (the registry; ensembles combine them):", ""]
    lines += [f"- `{spec.name}` ({spec.family}): {spec.description}" for spec in REGISTRY.values()]
    lines += [
        "",
        "Wild test: 1,041 photos and AI images at native resolution from sources no detector was trained on "
        "(camera JPEGs, Unsplash portraits, DALL-E 3, SDXL, Stable Cascade, Gemini); CIFAKE test: 10,000 32 px "
        "images. Figures at each repo's default threshold, from its results files.",
        "",
        "**Thresholds.** `default` is the one the detector's card reports (`optimal` for the EfficientNet and ELA + "
        "CNN classifiers, `balanced` for the others; the default detector uses the one of the detector that judged the "
        "image). `balanced` flags about 5% of real validation images, `strict` "
        "about 1%, `sensitive` about 10%; `optimal` is the best F1 on labelled validation images. `custom` is a "
        "probability: 0.8 calls an image fake when its calibrated P(fake) is at least 80%. The percentage shown "
        "with a verdict is 50% exactly at the threshold, so it always agrees with the verdict.",
        "",
        "## Limits, in plain words",
        "",
        "- The reconstruction-error detector (which judges every photo for the default) was trained on nothing and "
        "is the best of these on photos it never saw, yet it still misses most DALL-E 3, SDXL and Gemini images and "
        "flags about one real photo in ten. The detectors marked 'photos' were built for photos; every other model "
        "was trained on CIFAKE (32x32 CIFAR-10 photos against Stable Diffusion 1.4 imitations): larger images are "
        "shrunk to that size, and on real photos they are at or below chance.",
        "- The one-class detectors flag anything unusual, not only generated images: heavy editing, screenshots, "
        "scans or compression can raise their scores.",
        "- Resaving, resizing or blurring an image weakens the traces all of them rely on (see the robustness tables).",
        "- A verdict is one piece of evidence. Metadata (the EXIF table; an AI label or Content Credentials, named "
        "under the verdict) can be edited or removed as easily; weigh both, never treat either as proof.",
    ]
    return "\n".join(lines)


THRESHOLD_INFO = "default: the one the detector's card reports; strict / balanced / sensitive: about 1% / 5% / 10% of real photos flagged"
CUSTOM_LABEL = "Custom threshold (with 'custom'): call an image fake from this P(fake) on"


def example_label(path: Path) -> str:
    """What an example is, for its thumbnail: ``photo_real_01.jpg`` -> ``real photo 1 (camera JPEG)``.

    Example:
        >>> example_label(Path("examples/fake_02.jpg"))
        'AI image 2 (CIFAKE, 32 px)'
    """
    named = {"photo_fake_01": "AI image (SDXL)", "photo_fake_02": "AI image (DALL-E 3)"}  # see examples/README.md
    if path.stem in named:
        return named[path.stem]
    kinds = {
        "photo_real": "real photo {} (camera JPEG)",
        "real": "real {} (CIFAKE, 32 px)",
        "fake": "AI image {} (CIFAKE, 32 px)",
    }
    stem, _, number = path.stem.rpartition("_")
    template = kinds.get(stem, stem.replace("_", " ") + " {}")
    return template.format(int(number) if number.isdigit() else number)


def build_demo() -> gr.Blocks:
    """The Gradio app (three tabs: analyse one image, batch, about).

    Raises:
        ValueError: when ``DEEPFAKE_DETECTORS_PRECISION`` is neither float32 nor bfloat16 (at start, not per request).
    """
    space_precision()
    labels = list(SOURCES)
    with gr.Blocks(title="Deepfake detectors", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            "# Deepfake detectors\nIs this image real or AI-generated? The default detector (first) sends photos to "
            "the reconstruction-error detector, which works at their own resolution, and small CIFAKE-like images to "
            "the EfficientNet classifier; the other CIFAKE detectors were trained on 32 px images only."
        )
        with gr.Tab("Analyse one image"):
            with gr.Row():
                with gr.Column(scale=1):
                    image = UploadedImage(type="filepath", sources=["upload", "clipboard"], label="Image", elem_id="image-input")
                    detector = gr.Dropdown(labels, value=labels[0], label="Detector")
                    preset = gr.Radio(THRESHOLD_PRESETS, value="default", label="Threshold", info=THRESHOLD_INFO)
                    custom = gr.Slider(0.01, 0.99, value=0.5, step=0.01, label=CUSTOM_LABEL)
                    run = gr.Button("Analyse", variant="primary", elem_id="analyse-button")
                    if EXAMPLES_DIR is not None:
                        examples = sorted(EXAMPLES_DIR.glob("*.jpg"), key=lambda p: (not p.stem.startswith("photo"), p.name))
                        gr.Examples(
                            [str(p) for p in examples], inputs=image, example_labels=[example_label(p) for p in examples],
                            label="Examples (real photos, AI images, CIFAKE)",
                        )
                with gr.Column(scale=2):
                    verdict = gr.Label(num_top_classes=2, label="Verdict", elem_id="verdict")
                    summary = gr.Markdown(elem_id="summary")
                    plot = gr.Plot(label="Calibrated score of each member")
                    gallery = gr.Gallery(
                        label="Explanations (click one to enlarge; the caption says what it shows)", columns=2,
                        height="auto", object_fit="contain", preview=False, format="png", elem_id="explanations",
                    )
                    exif = gr.Dataframe(headers=["field", "value"], label="EXIF metadata", interactive=False)
            run.click(
                analyze,
                inputs=[image, detector, preset, custom],
                outputs=[verdict, summary, plot, gallery, exif],
                api_name="analyze",
            )
            json_out = gr.JSON(visible=False)
            gr.Button(visible=False).click(
                predict_json, inputs=[image, detector, preset, custom], outputs=json_out, api_name="predict"
            )
        with gr.Tab("Batch"):
            files = gr.File(file_count="multiple", file_types=["image", ".zip"], label="Images or zip archives")
            batch_detector = gr.Dropdown(labels, value=labels[0], label="Detector")
            batch_preset = gr.Radio(THRESHOLD_PRESETS, value="default", label="Threshold", info=THRESHOLD_INFO)
            batch_custom = gr.Slider(0.01, 0.99, value=0.5, step=0.01, label=CUSTOM_LABEL)
            batch_run = gr.Button("Score all", variant="primary")
            table = gr.Dataframe(headers=BATCH_HEADER, label="Results", interactive=False)
            download = gr.File(label="Results as CSV")
            batch_run.click(
                analyze_batch,
                inputs=[files, batch_detector, batch_preset, batch_custom],
                outputs=[table, download],
                api_name="batch",
            )
        with gr.Tab("About"):
            gr.Markdown(about_markdown())
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


demo = build_demo()

if __name__ == "__main__":
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        show_error=True,
        max_file_size=MAX_UPLOAD,
    )
