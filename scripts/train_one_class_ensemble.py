#!/usr/bin/env python
"""Train the 9-member one-class ensemble on real images only, calibrate, weight, evaluate and write its repo.

Members: frequency VAE, edge normalizing flow and semantic Deep SVDD (``transformers.Trainer``); texture
One-Class SVM, Isolation Forest, Local Outlier Factor and Gaussian mixture (scikit-learn, ``.skops``); colour
distribution and statistical Mahalanobis models (torch buffers). Feature members share one feature computation.

Weights: stacked on the labelled *validation* split (never the test split), see :func:`member_weights`; the
combined score is then expressed relative to real validation images of the same brightness (``--normalise-
brightness``, fitted on real images only) and the adaptive threshold is the 95th percentile of combined real
validation scores.

Example:
    python scripts/train_one_class_ensemble.py --dataset ../shared/data/cifake --max-train-samples 10000
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from transformers import set_seed

from deepfake_detectors import (
    ColourDistributionConfig,
    ColourDistributionModel,
    EdgeFlowConfig,
    EdgeFlowModel,
    EnsembleDeepfakeDetector,
    FrequencyVAEConfig,
    FrequencyVAEModel,
    GaussianMixtureConfig,
    GaussianMixtureModel,
    IsolationForestConfig,
    IsolationForestModel,
    LocalOutlierFactorConfig,
    LocalOutlierFactorModel,
    SemanticSVDDConfig,
    SemanticSVDDModel,
    StatisticalConfig,
    StatisticalModel,
    TextureOCSVMConfig,
    TextureOCSVMModel,
)
from deepfake_detectors.calibration import nonnegative_logistic_weights
from deepfake_detectors.evaluation import evaluate_detector
from deepfake_detectors.features import FeatureCache
from deepfake_detectors.hub import metrics_table, plots_markdown, write_model_card
from deepfake_detectors.processing import DeepfakeImageProcessor, load_image, mean_luma
from deepfake_detectors.training import (
    ImageTransform,
    OneClassTrainingConfig,
    collate_pixel_values,
    load_image_dataset,
    select_label,
    take,
    train_one_class,
)

FEATURE_MEMBERS = {
    "texture_ocsvm": (TextureOCSVMConfig, TextureOCSVMModel),
    "isolation_forest": (IsolationForestConfig, IsolationForestModel),
    "local_outlier_factor": (LocalOutlierFactorConfig, LocalOutlierFactorModel),
    "gaussian_mixture": (GaussianMixtureConfig, GaussianMixtureModel),
    "colour_distribution": (ColourDistributionConfig, ColourDistributionModel),
    "statistical": (StatisticalConfig, StatisticalModel),
}
DEEP_MEMBERS = {
    "frequency_vae": (FrequencyVAEConfig, FrequencyVAEModel),
    "edge_flow": (EdgeFlowConfig, EdgeFlowModel),
    "semantic_svdd": (SemanticSVDDConfig, SemanticSVDDModel),
}
#: Settings of the deep members that differ from their config defaults. The semantic SVDD sees the channel
#: statistics of EfficientNet-Lite0's first 3 stages at 64 px (rather than the pooled last layer at 128 px),
#: which trains about 5x faster; its measured AUROC is in the ensemble's card.
DEEP_MEMBER_SETTINGS: dict[str, dict[str, Any]] = {
    "semantic_svdd": dict(image_size=64, backbone_image_size=64, backbone_stages=3, hidden_size=256, rep_dim=64),
    # 1008 wavelet edge coefficients: small couplings keep the weights at a few MB (the whitening is 4 MB).
    "edge_flow": dict(num_coupling_layers=4, hidden_size=32),
}
#: Deep members whose normalisation is fitted on every training image, not ``--init-batches``: the edge flow's
#: whitening is a 1008 x 1008 covariance, which needs many images.
NORMALISE_ON_ALL_IMAGES = {"edge_flow"}
#: Learning rates of the deep members (Adam, cosine decay).
DEEP_LEARNING_RATES = {"frequency_vae": 1e-3, "edge_flow": 1e-3, "semantic_svdd": 1e-4}


def fit_feature_members(images: list, names: list[str], batch_size: int) -> tuple[dict, dict[str, float], float]:
    """Compute the features of all training images once (shared cache per batch) and fit each member."""
    processor = DeepfakeImageProcessor(size=32, image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0])
    models = {name: FEATURE_MEMBERS[name][1](FEATURE_MEMBERS[name][0]()) for name in names}
    started = time.time()
    features: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    for start in range(0, len(images), batch_size):
        unit = processor(images[start : start + batch_size])["pixel_values"]
        cache = FeatureCache(unit)
        for name, model in models.items():
            features[name].append(model.features(unit, cache))
    feature_seconds = time.time() - started
    fit_seconds = {}
    for name, model in models.items():
        started = time.time()
        model.fit(torch.cat(features[name]))
        fit_seconds[name] = time.time() - started
    return {name: (model.eval(), processor) for name, model in models.items()}, fit_seconds, feature_seconds


def train_deep_member(name: str, train, args: argparse.Namespace) -> tuple[Any, DeepfakeImageProcessor, float]:
    """Train one deep member with Trainer on the real training images."""
    config_class, model_class = DEEP_MEMBERS[name]
    config = config_class(**DEEP_MEMBER_SETTINGS.get(name, {}))
    model = model_class(config)
    processor = DeepfakeImageProcessor(size=config.image_size)
    started = time.time()
    plain = train.with_transform(ImageTransform(processor))
    loader = torch.utils.data.DataLoader(plain, batch_size=args.batch_size, collate_fn=collate_pixel_values)
    init_batches = len(loader) if name in NORMALISE_ON_ALL_IMAGES else args.init_batches
    batches = (batch["pixel_values"] for _, batch in zip(range(init_batches), loader))
    if hasattr(model, "fit_normalisation"):
        model.fit_normalisation(batches)
    elif hasattr(model, "initialize_center"):
        model.initialize_center(batches)
    settings = OneClassTrainingConfig(
        output_dir=f"runs/one_class/{name}",
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=DEEP_LEARNING_RATES[name],
        weight_decay=1e-6 if name != "semantic_svdd" else 5e-4,
        seed=args.seed,
    )
    trainer = train_one_class(model, train.with_transform(ImageTransform(processor, augment=True)), settings)
    return trainer.model.cpu().eval(), processor, time.time() - started


def train_members(args: argparse.Namespace) -> tuple[dict[str, tuple[Any, DeepfakeImageProcessor]], dict]:
    """Train the deep members and fit the feature members on real training images; return them and timings."""
    train = take(select_label(load_image_dataset(args.dataset, "train"), "real"), args.max_train_samples, args.seed)
    members: dict[str, tuple[Any, DeepfakeImageProcessor]] = {}
    timing: dict[str, dict[str, float]] = {}
    for name in [m for m in args.members if m in DEEP_MEMBERS]:
        model, processor, seconds = train_deep_member(name, train, args)
        members[name] = (model, processor)
        timing[name] = {"train_seconds": round(seconds, 1)}
        print(f"{name}: trained in {seconds:.0f} s", flush=True)
    feature_names = [m for m in args.members if m in FEATURE_MEMBERS]
    if feature_names:
        images = [load_image(image) for image in train["image"]]
        fitted, fit_seconds, feature_seconds = fit_feature_members(images, feature_names, 512)
        members.update(fitted)
        for name in feature_names:
            timing[name] = {"fit_seconds": round(fit_seconds[name], 1)}
        timing["shared_feature_extraction"] = {"seconds": round(feature_seconds, 1)}
        print(f"features in {feature_seconds:.0f} s; fits {fit_seconds}", flush=True)
    return members, timing


def member_weights(method: str, raw: dict[str, np.ndarray], is_real: np.ndarray) -> tuple[dict[str, float], str]:
    """Weights of the members from labelled validation scores, and how they were chosen (for the card).

    ``logistic``: the coefficients of a logistic regression (C = 0.1) fitted with every coefficient constrained to
    be >= 0 (:func:`~deepfake_detectors.calibration.nonnegative_logistic_weights`) on the members' validation
    scores in standard deviations above their real mean (clipped to +-10), normalised to sum to 1 - members that
    do not add evidence get weight 0. ``validation_auroc``: ``max(AUROC - 0.5, 0)``. ``equal``: 1 each.
    """

    labels = (~is_real).astype(int)
    names = list(raw)
    if method == "equal":
        return {name: 1.0 for name in names}, "equal weights"
    if method == "validation_auroc":
        weights = {name: round(max(roc_auc_score(labels, raw[name]) - 0.5, 0.0), 4) for name in names}
        return weights, "weight = max(AUROC - 0.5, 0) of each member on the labelled CIFAKE validation split"
    standardised = np.stack(
        [np.clip((raw[n] - raw[n][is_real].mean()) / raw[n][is_real].std(), -10, 10) for n in names], axis=1
    )
    coefficients = nonnegative_logistic_weights(standardised, labels, C=0.1)
    coefficients = coefficients / coefficients.sum()
    weights = {name: round(float(value), 4) for name, value in zip(names, coefficients)}
    how = (
        "coefficients of a logistic regression (C = 0.1) fitted with every coefficient constrained to be >= 0, "
        "stacked on the members' calibrated scores of the labelled CIFAKE validation split (never the test split), "
        "normalised to sum to 1; 0 = the member adds no evidence beyond the others"
    )
    return weights, how


def fit_complexity_adjustments(
    ensemble: EnsembleDeepfakeDetector, real: list, fake: list, mode: str, batch_size: int
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Fit each member's input-complexity correction on the real validation images, and keep it where it helps.

    ``mode``: ``none`` (remove any correction), ``png`` (correct every member) or ``auto`` (correct a member only
    when that raises its AUROC on the labelled validation split; the test split is never used).

    Returns:
        ``(raw, report)``: every member's validation scores as finally configured (real images first), and per
        member the validation AUROC without and with the correction, the slope, and whether it was kept.
    """
    labels = np.r_[np.zeros(len(real), int), np.ones(len(fake), int)]
    for member in ensemble.members.values():
        member.config.complexity_adjustment = None
    uncorrected = ensemble.raw_scores(real + fake, progress=True, description="validation, raw")
    if mode == "none":
        return uncorrected, {}
    for name, member in ensemble.members.items():
        processor = ensemble.processors[name]
        batches = (processor(real[i : i + batch_size])["pixel_values"] for i in range(0, len(real), batch_size))
        member.fit_complexity_adjustment(batches, processor.image_mean, processor.image_std)
    corrected = ensemble.raw_scores(real + fake, progress=True, description="validation, corrected")
    raw, report = {}, {}
    for name, member in ensemble.members.items():
        before = float(roc_auc_score(labels, uncorrected[name]))
        after = float(roc_auc_score(labels, corrected[name]))
        keep = mode == "png" or after > before
        report[name] = {
            "validation_auroc_raw": before,
            "validation_auroc_corrected": after,
            "slope": member.config.complexity_adjustment["slope"],
            "log_score": member.config.complexity_adjustment["log_score"],
            "kept": keep,
        }
        if not keep:
            member.config.complexity_adjustment = None
        raw[name] = corrected[name] if keep else uncorrected[name]
    return raw, report


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="../shared/data/cifake")
    parser.add_argument("--max-train-samples", type=int, default=10000, help="real training images")
    parser.add_argument("--max-calibration-samples", type=int, default=1500, help="per class, validation split")
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--second-domain", default="../shared/data/aiart")
    parser.add_argument("--members", nargs="+", default=list(DEEP_MEMBERS) + list(FEATURE_MEMBERS))
    parser.add_argument("--epochs", type=float, default=2.0, help="epochs of the deep members")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--init-batches", type=int, default=20, help="batches for centres / normalisation")
    parser.add_argument("--weights", choices=["logistic", "validation_auroc", "equal"], default="logistic")
    parser.add_argument(
        "--reuse-members", action="store_true",
        help="skip training: reload the members already in --output-dir, then re-weight, calibrate and evaluate",
    )
    parser.add_argument(
        "--retrain", nargs="+", default=[], metavar="MEMBER",
        help="with --reuse-members: train these members again (same data options) and reuse the others",
    )
    parser.add_argument(
        "--cards-only", action="store_true",
        help="rewrite the model card from the results already in --output-dir (no training, no evaluation)",
    )
    parser.add_argument(
        "--complexity-adjustment", choices=["none", "png", "auto"], default="auto",
        help="correct member scores for input complexity (fitted on real validation images); auto = only members "
        "whose validation AUROC it raises",
    )
    parser.add_argument(
        "--normalise-brightness", action=argparse.BooleanOptionalAction, default=True,
        help="express the combined score relative to real validation images of the same mean luma (fitted on the "
        "real validation images only) before setting the thresholds",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="hub_repos/fake-image-detection-ensemble")
    args = parser.parse_args(argv)
    if args.cards_only:
        out = Path(args.output_dir)
        extra = json.loads((out / "results_extra.json").read_text())
        test = json.loads((out / "results_summary.json").read_text())
        total = sum(value for entry in extra["timing"].values() for value in entry.values())
        loaded = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
        # The card describes the data of the command that trained the members, not this one's defaults.
        trained_with = parser.parse_args(shlex.split(extra["commands"][0])[2:])
        write_card(out, loaded, test, extra["aiart_test"], extra["validation_auroc"], extra["timing"], total,
                   trained_with, "\n".join(extra["commands"]), extra.get("complexity_adjustment"))
        return
    set_seed(args.seed)
    command = "python scripts/train_one_class_ensemble.py " + " ".join(argv if argv is not None else sys.argv[1:])

    out = Path(args.output_dir)
    unknown = sorted(set(args.retrain) - set(DEEP_MEMBERS) - set(FEATURE_MEMBERS))
    if unknown or (args.retrain and not args.reuse_members):
        parser.error(f"--retrain takes member names and needs --reuse-members (unknown: {unknown})")
    if args.reuse_members:
        previous = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
        members = {name: (previous.members[name], previous.processors[name]) for name in previous.members}
        earlier = json.loads((out / "results_extra.json").read_text())
        timing = earlier["timing"]
        commands = list(earlier.get("commands", [earlier.get("command")]))
        if commands[-1] != command:  # the same re-weighting run again reproduces the repo: listed once
            commands.append(command)
        if args.retrain:
            args.members = [name for name in previous.members if name in args.retrain]
            retrained, new_timing = train_members(args)
            members.update(retrained)
            if set(FEATURE_MEMBERS) - set(args.members):
                # Some feature members were kept: the earlier run extracted the features they all share, and
                # that time stays what the card reports.
                new_timing.pop("shared_feature_extraction", None)
            timing.update(new_timing)
    else:
        members, timing = train_members(args)
        commands = [command]
    total_training = sum(value for entry in timing.values() for value in entry.values())

    # Calibrate every member and weight them on the labelled validation split (never the test split).
    validation = load_image_dataset(args.dataset, "validation")
    real = list(take(select_label(validation, "real"), args.max_calibration_samples, args.seed)["image"])
    fake = list(take(select_label(validation, "fake"), args.max_calibration_samples, args.seed)["image"])
    ensemble = EnsembleDeepfakeDetector.from_members(members, device="cpu")
    raw, complexity = fit_complexity_adjustments(ensemble, real, fake, args.complexity_adjustment, args.batch_size)
    is_real = np.r_[np.ones(len(real), bool), np.zeros(len(fake), bool)]
    labels = (~is_real).astype(int)
    validation_auroc = {name: float(roc_auc_score(labels, values)) for name, values in raw.items()}
    weights, ensemble.config.weighting = member_weights(args.weights, raw, is_real)
    for member in ensemble.config.members:
        member["weight"] = weights[member["name"]]
    brightness = mean_luma([load_image(image) for image in real + fake]) if args.normalise_brightness else None
    ensemble.calibrate_from_raw(raw, is_real, brightness)

    if out.exists():
        shutil.rmtree(out)
    ensemble.save_pretrained(out)
    loaded = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    test = evaluate_detector(
        loaded, args.dataset, "test", limit=args.test_limit, output_dir=str(out), model_name=out.name, progress=True
    )
    (out / "results.json").rename(out / "results_summary.json")
    aiart = None
    if args.second_domain and Path(args.second_domain).exists():
        aiart = evaluate_detector(loaded, args.second_domain, "test", model_name=out.name)
    extra = {
        "aiart_test": aiart,
        "validation_auroc": validation_auroc,
        "complexity_adjustment": complexity,
        "timing": timing,
        "commands": commands,
    }
    (out / "results_extra.json").write_text(json.dumps(extra, indent=2) + "\n")
    write_card(out, loaded, test, aiart, validation_auroc, timing, total_training, args, "\n".join(commands), complexity)
    print(json.dumps({k: test[k] for k in ("auroc", "accuracy", "precision", "recall", "f1", "fpr")}, indent=2))


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


def limits_paragraph(
    detector: EnsembleDeepfakeDetector, test: dict[str, Any], complexity: Optional[dict[str, Any]] = None
) -> str:
    """What limits the ensemble, in words, from the measured member figures."""
    members = test["members"]
    ranked = sorted(members, key=lambda name: members[name]["auroc"], reverse=True)
    dct = [name for name in ranked if "jpeg_dct_stats" in getattr(detector.members[name].config, "feature_names", [])]
    strongest = ", ".join(f"`{name}` {members[name]['auroc']:.3f}" for name in ranked[:3])
    text = (
        f"The ensemble reaches AUROC {test['auroc']:.3f} and catches {test['recall']:.1%} of the fakes at a "
        f"{test['fpr']:.1%} false-alarm rate; its best members alone reach {strongest}. "
    )
    if dct:
        text += (
            "The strongest evidence is low-level: the per-frequency statistics of the 8x8 block DCT on the JPEG grid "
            f"(`jpeg_dct_stats`, used by {', '.join(f'`{name}`' for name in dct)}); the same statistics on a grid "
            "shifted by 4 pixels separate far less (validation AUROC 0.70 against 0.81 for one real-image Gaussian; "
            "`docs/FEATURES.md`, written by `scripts/feature_study.py`), so the trace is how each image's detail "
            "survived JPEG quantisation. "
        )
    blocks = [name for name in ranked if getattr(detector.members[name].config, "block_feature", None)]
    if blocks:
        weights = ", ".join(
            f"{detector.members[name].config.whole_image_weight:g} for `{name}`" for name in blocks
        )
        text += (
            "Pooling over the image hides where the trace is: "
            f"{', '.join(f'`{name}`' for name in blocks)} also fits one Gaussian to the DCT coefficients of single "
            "8x8 blocks of real images and scores an image by its least typical blocks, which finds fakes the pooled "
            "statistics miss (`jpeg_block_dct` in `docs/FEATURES.md`); the whole-image statistics enter that score "
            f"with a smaller weight ({weights}), since on validation they separated less. "
        )
    flow = detector.members.get("edge_flow")
    correction = (complexity or {}).get("edge_flow") or {}
    if flow is not None and flow.config.edge_representation == "wavelet" and correction.get("kept"):
        text += (
            f"`edge_flow` models all {flow.config.feature_dim} Haar wavelet edge coefficients of the luma jointly, so "
            "it sees where each edge sits on the 8x8 grid; its likelihood alone mostly measures how busy an image "
            "is, and only the complexity correction turns it into evidence (validation AUROC "
            f"{correction['validation_auroc_raw']:.3f} -> {correction['validation_auroc_corrected']:.3f}). "
        )
    text += (
        "Members that share evidence make correlated errors, so stacking adds only a few points over the best "
        "member; the colour members and the pretrained-CNN member add little, because CIFAKE's fakes were made to "
        "look like CIFAR-10 in content and colour. A one-class model never sees a fake, so it can only flag what is "
        "rare among real photos: the fakes that look statistically typical are missed."
    )
    return text


def write_card(
    out, detector, test, aiart, validation_auroc, timing, total_training, args, command, complexity=None
) -> None:
    rows = [("CIFAKE test (re-split)", test)] + ([("AI-art test (second domain, not tuned)", aiart)] if aiart else [])
    member_rows = []
    for member in detector.config.members:
        name = member["name"]
        loo = test.get("leave_one_out", {}).get(name, {})
        seconds = timing.get(name, {})
        correction = (complexity or {}).get(name)
        corrected = (
            "-"
            if correction is None
            else f"{correction['validation_auroc_raw']:.4f} -> {correction['validation_auroc_corrected']:.4f}"
            + (" (kept)" if correction["kept"] else " (not kept)")
        )
        member_rows.append(
            f"| {name} | {member_inputs(detector.members[name])} | {member['weight']:.3f} | "
            f"{validation_auroc[name]:.4f} | {corrected} | "
            f"{test['members'][name]['auroc']:.4f} | {loo.get('delta_auroc', float('nan')):+.4f} | "
            f"{sum(seconds.values()):.0f} |"
        )
    shared = timing.get("shared_feature_extraction", {}).get("seconds", 0.0)
    body = f"""
# One-class ensemble of 9 detectors (fake image detection)

Nine detectors of different kinds, each trained on **real images only** (CIFAKE train, {args.max_train_samples}
real images), combined by a weighted vote of their calibrated scores with an adaptive threshold: the 95th
percentile of the combined score on real validation images (`balanced`). Every member's score is expressed in
standard deviations above its mean on real validation images before the weighted mean.

Weights: {detector.config.weighting}.{brightness_sentence(detector)}

## Use

```python
from deepfake_detectors import EnsembleDeepfakeDetector

detector = EnsembleDeepfakeDetector.from_pretrained("deepfake-detectors/{Path(out).name}")
result = detector.predict("image.jpg")
result.score, result.is_fake, result.member_scores
```

## Results

Threshold `{test['threshold_name']}` = {test['threshold']:.3f}. The published system reported 67.05% accuracy,
87.97% precision, 39.5% recall and 54.52% F1 on 1,000 real + 1,000 fake images.

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
{chr(10).join(member_rows)}

Total training time: {total_training / 60:.1f} minutes on 2 CPU cores.

## What limits it

{limits_paragraph(detector, test, complexity)}

## Limitations

- Trained and calibrated on 32x32 CIFAKE only; one-class members flag anything unlike CIFAR-10 photos, so it calls
  almost every larger real photo fake (wild test, below), and generated images close to real photo statistics are
  missed.
- On another domain, recalibrate before trusting the named thresholds (see the second-domain row).

## Reproduce

```bash
{command}
```
"""
    write_model_card(
        out,
        model_name=out.name,
        body=body,
        evaluations=[(test, "CIFAKE (re-split)", "cifake", "test")]
        + ([(aiart, "AI art vs real (web-scraped)", "aiart", "test")] if aiart else []),
        tags=["one-class", "ensemble", "anomaly-detection"],
    )


if __name__ == "__main__":
    main()
