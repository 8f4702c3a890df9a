"""The nine-member one-class ensemble: member recipes, training, weighting, calibration and its repo.

Members: frequency VAE, edge normalizing flow and semantic Deep SVDD (``transformers.Trainer``); texture
One-Class SVM, Isolation Forest, Local Outlier Factor and Gaussian mixture (scikit-learn, ``.skops``); colour
distribution and statistical Mahalanobis models (torch buffers). Feature members share one feature computation.

Weights are stacked on the labelled *validation* split (never the test split), see :func:`member_weights`; the
combined score is then expressed relative to real validation images of the same brightness (fitted on real images
only) and the adaptive threshold is the 95th percentile of combined real validation scores.
``scripts/train_one_class_ensemble.py`` is the command line of :func:`build_one_class_ensemble`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import datasets
import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from transformers import set_seed

from ..calibration import nonnegative_logistic_weights
from ..evaluation import evaluate_detector
from ..features import FeatureCache
from ..one_class_cards import (
    autoencoder_intro,
    svdd_ensemble_intro,
    write_one_class_ensemble_card,
    write_repo_card,
)
from ..pipeline import EnsembleDeepfakeDetector, load_member
from ..processing import DeepfakeImageProcessor, load_image, mean_luma
from ..processing_crops import NativeCropImageProcessor
from ..registry import DetectorSpec, detector_spec, detectors
from .data import (
    ImageTransform,
    collate_pixel_values,
    load_image_dataset,
    select_label,
    random_subset,
)
from .trainer import OneClassTrainingConfig, train_one_class

Members = dict[str, tuple[Any, DeepfakeImageProcessor]]


def one_class_members(kind: Optional[str] = None) -> dict[str, DetectorSpec]:
    """The possible members of the one-class ensemble: every registered detector with a one-class recipe
    (:class:`~deepfake_detectors.registry.OneClassRecipe`), in registry order (deep members first).

    Args:
        kind: ``"deep"`` (trained by ``transformers.Trainer``) or ``"features"`` (fitted on shared image
            features) to keep one kind; every member when ``None``.

    Example:
        >>> list(one_class_members("deep"))
        ['frequency_vae', 'edge_flow', 'semantic_svdd']
    """
    if kind not in (None, "deep", "features"):
        raise ValueError(f"kind must be 'deep', 'features' or None, not {kind!r}")
    members = {spec.name: spec for spec in detectors() if spec.one_class_recipe is not None}
    if kind is None:
        return members
    return {name: spec for name, spec in members.items() if spec.deep == (kind == "deep")}


WEIGHTING_METHODS = ("logistic", "validation_auroc", "equal")
#: The size and batch size at which the feature members see the training images.
FEATURE_IMAGE_SIZE, FEATURE_BATCH_SIZE = 32, 512


@dataclass
class OneClassEnsembleOptions:
    """Everything :func:`build_one_class_ensemble` needs (the defaults of ``train_one_class_ensemble.py``).

    Args:
        dataset: a `datasets` directory, imagefolder or Hub id with train / validation / test splits.
        max_train_samples: real training images.
        max_calibration_samples: validation images per class (complexity correction, weights, calibration).
        test_limit: test images (``None`` = all).
        second_domain: a second labelled dataset evaluated untuned ("" or missing = skipped).
        members: member names (see :func:`one_class_members`).
        epochs / batch_size / init_batches: deep-member training and the batches for their initial statistics.
        weights: one of :data:`WEIGHTING_METHODS` (see :func:`member_weights`).
        reuse_members / retrain: reload the members in ``output_dir`` (and train only ``retrain`` again).
        complexity_adjustment: ``none``, ``png`` or ``auto`` (see :func:`fit_complexity_adjustments`).
        normalise_brightness: express the combined score relative to real images of the same mean luma.
        crops_per_side: 0 = every member sees the whole image resized to its input size (the CIFAKE ensemble);
            ``n`` = every member sees an ``n x n`` grid of crops at the image's native resolution, each of its own
            input size, is trained on those crops of the real training images, and scores an image by the mean of
            its crops' scores (:func:`native_crop_processor`).
        cifake_test_limit: with native crops, CIFAKE test images also scored for the card (0 = none).
        seed: random seed.
        output_dir: the repo folder written.

    Example:
        >>> OneClassEnsembleOptions(max_train_samples=200).members[:2]
        ['frequency_vae', 'edge_flow']
    """

    dataset: str = "../shared/data/cifake"
    max_train_samples: Optional[int] = 10000
    max_calibration_samples: Optional[int] = 1500
    test_limit: Optional[int] = None
    second_domain: Optional[str] = "../shared/data/aiart"
    members: list[str] = field(default_factory=lambda: list(one_class_members()))
    epochs: float = 2.0
    batch_size: int = 128
    init_batches: int = 20
    weights: str = "logistic"
    reuse_members: bool = False
    retrain: list[str] = field(default_factory=list)
    complexity_adjustment: str = "auto"
    normalise_brightness: bool = True
    crops_per_side: int = 0
    cifake_test_limit: int = 2000
    seed: int = 0
    output_dir: str = "hub_repos/fake-image-detection-ensemble"


def check_retrain(retrain: Sequence[str], reuse_members: bool) -> None:
    """Raise ``ValueError`` unless ``retrain`` names known members and comes with ``reuse_members``."""
    unknown = sorted(set(retrain) - set(one_class_members()))
    if unknown or (retrain and not reuse_members):
        raise ValueError(f"--retrain takes member names and needs --reuse-members (unknown: {unknown})")


def _shared_features(
    models: dict[str, Any], processor: DeepfakeImageProcessor, images: list, batch_size: int
) -> dict[str, torch.Tensor]:
    """Each feature member's features of ``images``, computed batch by batch with one shared cache per batch."""
    features: dict[str, list[torch.Tensor]] = {name: [] for name in models}
    for start in range(0, len(images), batch_size):
        unit = processor(images[start : start + batch_size])["pixel_values"]
        cache = FeatureCache(unit)
        for name, model in models.items():
            features[name].append(model.features(unit, cache))
    return {name: torch.cat(values) for name, values in features.items()}


def fit_feature_members(
    images: list, names: Sequence[str], batch_size: int = FEATURE_BATCH_SIZE
) -> tuple[Members, dict[str, float], float]:
    """Compute the features of all training images once (shared cache per batch) and fit each feature member.

    Args:
        images: real training images (PIL).
        names: feature member names (see :func:`one_class_members`).
        batch_size: images per feature batch.

    Returns:
        ``(members, fit_seconds, feature_seconds)``: ``{name: (model, processor)}`` in eval mode, each member's
        fitting time and the time of the shared feature extraction.

    Example:
        >>> members, _, _ = fit_feature_members(images, ["statistical"])  # doctest: +SKIP
    """
    processor = DeepfakeImageProcessor(size=FEATURE_IMAGE_SIZE, image_mean=[0.0] * 3, image_std=[1.0] * 3)
    models = {name: detector_spec(name).build() for name in names}
    started = time.time()
    features = _shared_features(models, processor, images, batch_size)
    feature_seconds = time.time() - started
    fit_seconds = {}
    for name, model in models.items():
        started = time.time()
        model.fit(features[name])
        fit_seconds[name] = time.time() - started
    return {name: (model.eval(), processor) for name, model in models.items()}, fit_seconds, feature_seconds


def train_deep_member(
    name: str, train: Any, *, epochs: float, batch_size: int, init_batches: int, seed: int
) -> tuple[Any, DeepfakeImageProcessor, float]:
    """Train one deep member with ``transformers.Trainer`` on real training images.

    The model first fits its initial statistics (``fit_initial_statistics``: SVDD centre, flow normalisation) on
    un-augmented training batches, then trains on augmented ones with the recipe's learning rate and weight decay.

    Args:
        name: a deep member name (see :func:`one_class_members`).
        train: a `datasets.Dataset` of real training images (``image`` column).
        epochs / batch_size / seed: Trainer settings.
        init_batches: batches for the initial statistics (all of them when the recipe says so).

    Returns:
        ``(model, processor, seconds)``: the trained model on the CPU in eval mode, its processor, the time taken.
    """
    spec = detector_spec(name)
    recipe = spec.one_class_recipe
    model = spec.build()
    processor = DeepfakeImageProcessor(size=model.config.image_size)
    started = time.time()
    plain = train.with_transform(ImageTransform(processor))
    loader = torch.utils.data.DataLoader(plain, batch_size=batch_size, collate_fn=collate_pixel_values)
    count = len(loader) if recipe.statistics_on_all_images else init_batches
    model.fit_initial_statistics(batch["pixel_values"] for _, batch in zip(range(count), loader))
    settings = OneClassTrainingConfig(
        output_dir=f"runs/one_class/{name}", epochs=epochs, batch_size=batch_size,
        learning_rate=recipe.learning_rate, weight_decay=recipe.weight_decay, seed=seed,
    )
    trainer = train_one_class(model, train.with_transform(ImageTransform(processor, augment=True)), settings)
    return trainer.model.cpu().eval(), processor, time.time() - started


def native_crop_processor(processor: DeepfakeImageProcessor, crops_per_side: int) -> NativeCropImageProcessor:
    """The processor that shows a member a grid of native-resolution crops of its own input size (and its own
    normalisation), instead of the whole image resized.

    Offsets stay on the 8-pixel JPEG grid (the statistical member reads JPEG block statistics); an image smaller
    than a crop is upscaled to one crop, as the members were trained on upscaled crops of such images too.

    Example:
        >>> native_crop_processor(DeepfakeImageProcessor(size=32), 4).crop_size
        32
    """
    return NativeCropImageProcessor(
        crop_size=processor.size, crops_per_side=crops_per_side, image_mean=processor.image_mean,
        image_std=processor.image_std, upscale_small=True, offset_multiple=8,
    )


def crop_dataset(images: datasets.Dataset, processor: NativeCropImageProcessor) -> datasets.Dataset:
    """Every crop ``processor`` cuts out of ``images`` (an ``image`` column) as a dataset of real images."""
    crops = [crop for image in images["image"] for crop in processor.crop_images(load_image(image))]
    return datasets.Dataset.from_dict(
        {"image": crops, "label": [0] * len(crops)},
        features=datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64")}),
    )


def train_members(options: OneClassEnsembleOptions, names: Sequence[str]) -> tuple[Members, dict[str, dict]]:
    """Train the deep members and fit the feature members among ``names`` on real training images.

    Returns:
        ``(members, timing)``: ``{name: (model, processor)}`` and, per member, its seconds (plus the shared
        feature extraction), rounded to 0.1 s as the card reports them.
    """
    data = load_image_dataset(options.dataset, "train")
    train = random_subset(select_label(data, "real"), options.max_train_samples, options.seed)
    crops: dict[int, datasets.Dataset] = {}  # with native crops: the training crops of each input size

    def training_images(size: int) -> datasets.Dataset:
        if not options.crops_per_side:
            return train
        if size not in crops:
            processor = native_crop_processor(DeepfakeImageProcessor(size=size), options.crops_per_side)
            crops[size] = crop_dataset(train, processor)
            print(f"{len(crops[size])} native crops of {size} px from {len(train)} real images", flush=True)
        return crops[size]

    def as_member(model: Any, processor: DeepfakeImageProcessor) -> tuple[Any, Any]:
        if options.crops_per_side:
            return model, native_crop_processor(processor, options.crops_per_side)
        return model, processor

    members: Members = {}
    timing: dict[str, dict[str, float]] = {}
    for name in [name for name in names if name in one_class_members("deep")]:
        model, processor, seconds = train_deep_member(
            name, training_images(detector_spec(name).build_config().image_size), epochs=options.epochs,
            batch_size=options.batch_size, init_batches=options.init_batches, seed=options.seed,
        )
        members[name] = as_member(model, processor)
        timing[name] = {"train_seconds": round(seconds, 1)}
        print(f"{name}: trained in {seconds:.0f} s", flush=True)
    feature_names = [name for name in names if name in one_class_members("features")]
    if feature_names:
        images = [load_image(image) for image in training_images(FEATURE_IMAGE_SIZE)["image"]]
        fitted, fit_seconds, feature_seconds = fit_feature_members(images, feature_names)
        members.update({name: as_member(*member) for name, member in fitted.items()})
        timing.update({name: {"fit_seconds": round(fit_seconds[name], 1)} for name in feature_names})
        timing["shared_feature_extraction"] = {"seconds": round(feature_seconds, 1)}
        print(f"features in {feature_seconds:.0f} s; fits {fit_seconds}", flush=True)
    return members, timing


LOGISTIC_WEIGHTING = (
    "coefficients of a logistic regression (C = 0.1) fitted with every coefficient constrained to be >= 0, "
    "stacked on the members' calibrated scores of the labelled CIFAKE validation split (never the test split), "
    "normalised to sum to 1; 0 = the member adds no evidence beyond the others"
)


def member_weights(method: str, raw: dict[str, np.ndarray], is_real: np.ndarray) -> tuple[dict[str, float], str]:
    """Weights of the members from labelled validation scores, and how they were chosen (for the card).

    ``logistic``: the coefficients of a logistic regression (C = 0.1) fitted with every coefficient constrained to
    be >= 0 (:func:`~deepfake_detectors.calibration.nonnegative_logistic_weights`) on the members' validation
    scores in standard deviations above their real mean (clipped to +-10), normalised to sum to 1 - members that
    do not add evidence get weight 0. ``validation_auroc``: ``max(AUROC - 0.5, 0)``. ``equal``: 1 each.

    Args:
        method: one of :data:`WEIGHTING_METHODS`.
        raw: each member's raw validation scores (higher = more likely fake).
        is_real: ``True`` for the real images among them.

    Returns:
        ``({name: weight}, description)``, weights rounded to 4 decimals.

    Example:
        >>> weights, _ = member_weights("equal", {"a": np.zeros(4)}, np.array([True, True, False, False]))
        >>> weights
        {'a': 1.0}
    """
    labels = (~is_real).astype(int)
    names = list(raw)
    if method == "equal":
        return {name: 1.0 for name in names}, "equal weights"
    if method == "validation_auroc":
        weights = {name: round(max(roc_auc_score(labels, raw[name]) - 0.5, 0.0), 4) for name in names}
        return weights, "weight = max(AUROC - 0.5, 0) of each member on the labelled CIFAKE validation split"
    if method != "logistic":
        raise ValueError(f"unknown weighting {method!r}; expected one of {WEIGHTING_METHODS}")
    standardised = np.stack(
        [np.clip((raw[n] - raw[n][is_real].mean()) / raw[n][is_real].std(), -10, 10) for n in names], axis=1
    )
    coefficients = nonnegative_logistic_weights(standardised, labels, C=0.1)
    coefficients = coefficients / coefficients.sum()
    return {name: round(float(value), 4) for name, value in zip(names, coefficients)}, LOGISTIC_WEIGHTING


def _fit_member_corrections(ensemble: EnsembleDeepfakeDetector, real: list, batch_size: int) -> None:
    def batches(processor: Any) -> Iterator[torch.Tensor]:
        for start in range(0, len(real), batch_size):
            images = real[start : start + batch_size]
            if isinstance(processor, NativeCropImageProcessor):  # fitted on crops, as each crop is corrected
                yield processor.normalise_tensor(processor.flat_crops([load_image(image) for image in images]))
            else:
                yield processor(images)["pixel_values"]

    for name, member in ensemble.members.items():
        processor = ensemble.processors[name]
        member.fit_complexity_adjustment(batches(processor), processor.image_mean, processor.image_std)


def fit_complexity_adjustments(
    ensemble: EnsembleDeepfakeDetector, real: list, fake: list, mode: str, batch_size: int
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Fit each member's input-complexity correction on the real validation images, and keep it where it helps.

    Args:
        ensemble: the detector whose members are corrected (in place).
        real / fake: labelled validation images; the corrections are fitted on ``real`` only.
        mode: ``none`` (remove any correction), ``png`` (correct every member) or ``auto`` (correct a member only
            when that raises its AUROC on the labelled validation split; the test split is never used).
        batch_size: images per batch while fitting.

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
    _fit_member_corrections(ensemble, real, batch_size)
    corrected = ensemble.raw_scores(real + fake, progress=True, description="validation, corrected")
    raw, report = {}, {}
    for name, member in ensemble.members.items():
        before = float(roc_auc_score(labels, uncorrected[name]))
        after = float(roc_auc_score(labels, corrected[name]))
        keep = mode == "png" or after > before
        adjustment = member.config.complexity_adjustment
        report[name] = {
            "validation_auroc_raw": before,
            "validation_auroc_corrected": after,
            "slope": adjustment["slope"],
            "log_score": adjustment["log_score"],
            "kept": keep,
        }
        if not keep:
            member.config.complexity_adjustment = None
        raw[name] = corrected[name] if keep else uncorrected[name]
    return raw, report


def _reused_members(options: OneClassEnsembleOptions, command: str) -> tuple[Members, dict, list[str]]:
    """The members already in ``output_dir`` (some retrained), their timing and the commands behind them."""
    out = Path(options.output_dir)
    previous = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    members = {name: (previous.members[name], previous.processors[name]) for name in previous.members}
    earlier = json.loads((out / "results_extra.json").read_text())
    timing = earlier["timing"]
    commands = list(earlier.get("commands", [earlier.get("command")]))
    if commands[-1] != command:  # the same re-weighting run again reproduces the repo: listed once
        commands.append(command)
    if options.retrain:
        options.members = [name for name in previous.members if name in options.retrain]
        retrained, new_timing = train_members(options, options.members)
        members.update(retrained)
        if set(one_class_members("features")) - set(options.members):
            # Some feature members were kept: the earlier run extracted the features they all share, and that
            # time stays what the card reports.
            new_timing.pop("shared_feature_extraction", None)
        timing.update(new_timing)
    return members, timing, commands


def calibrate_members(
    members: Members, options: OneClassEnsembleOptions
) -> tuple[EnsembleDeepfakeDetector, dict[str, float], dict[str, dict[str, Any]]]:
    """Correct, weight and calibrate the members on the labelled validation split (never the test split).

    Returns:
        ``(ensemble, validation_auroc, complexity_report)``.
    """
    validation = load_image_dataset(options.dataset, "validation")
    count, seed = options.max_calibration_samples, options.seed
    real = list(random_subset(select_label(validation, "real"), count, seed)["image"])
    fake = list(random_subset(select_label(validation, "fake"), count, seed)["image"])
    ensemble = EnsembleDeepfakeDetector.from_members(members, device="cpu")
    raw, complexity = fit_complexity_adjustments(
        ensemble, real, fake, options.complexity_adjustment, options.batch_size
    )
    is_real = np.r_[np.ones(len(real), bool), np.zeros(len(fake), bool)]
    labels = (~is_real).astype(int)
    validation_auroc = {name: float(roc_auc_score(labels, values)) for name, values in raw.items()}
    weights, ensemble.config.weighting = member_weights(options.weights, raw, is_real)
    for member in ensemble.config.members:
        member["weight"] = weights[member["name"]]
    brightness = mean_luma([load_image(image) for image in real + fake]) if options.normalise_brightness else None
    ensemble.calibrate_from_raw(raw, is_real, brightness)
    return ensemble, validation_auroc, complexity


#: The CIFAKE dataset an ensemble on native crops is also scored on (its card reports CIFAKE test too).
CIFAKE_DATASET = "../shared/data/cifake"


def _save_and_evaluate(
    ensemble: EnsembleDeepfakeDetector, options: OneClassEnsembleOptions
) -> tuple[EnsembleDeepfakeDetector, dict[str, Any], dict[str, Optional[dict[str, Any]]]]:
    """Write the repo, reload it and evaluate exactly what is published: the test split, the second domain and,
    for an ensemble on native crops, a stratified subset of CIFAKE test. Returns ``(detector, test, extra)``."""
    out = Path(options.output_dir)
    if out.exists():
        shutil.rmtree(out)
    ensemble.save_pretrained(out)
    loaded = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    test = evaluate_detector(
        loaded, options.dataset, "test", limit=options.test_limit, output_dir=str(out), model_name=out.name,
        progress=True,
    )
    (out / "results.json").rename(out / "results_summary.json")
    extra: dict[str, Optional[dict[str, Any]]] = {"aiart_test": None}
    if options.second_domain and Path(options.second_domain).exists():
        extra["aiart_test"] = evaluate_detector(loaded, options.second_domain, "test", model_name=out.name)
    if options.crops_per_side and options.cifake_test_limit and Path(CIFAKE_DATASET).exists():
        extra["cifake_test"] = evaluate_detector(
            loaded, CIFAKE_DATASET, "test", limit=options.cifake_test_limit, model_name=out.name
        )
    return loaded, test, extra


def build_one_class_ensemble(options: OneClassEnsembleOptions, command: str) -> dict[str, Any]:
    """Train (or reuse) the members, weight and calibrate them, evaluate, and write the repo with its card.

    Writes ``options.output_dir``: weights and configs, ``results_summary.json`` (test split, with plots),
    ``results_extra.json`` (second domain, validation AUROCs, complexity report, timing, commands), ``README.md``.

    Args:
        options: what to train and where to write it.
        command: the command line of this run, quoted in the card's *Reproduce* section.

    Returns:
        The test-split results.

    Example:
        >>> build_one_class_ensemble(OneClassEnsembleOptions(members=["statistical"]), "...")  # doctest: +SKIP
    """
    check_retrain(options.retrain, options.reuse_members)
    set_seed(options.seed)
    if options.reuse_members:
        members, timing, commands = _reused_members(options, command)
    else:
        (members, timing), commands = train_members(options, options.members), [command]
    ensemble, validation_auroc, complexity = calibrate_members(members, options)
    loaded, test, extra = _save_and_evaluate(ensemble, options)
    results = {
        **extra,
        "validation_auroc": validation_auroc,
        "complexity_adjustment": complexity,
        "timing": timing,
        "commands": commands,
    }
    out = Path(options.output_dir)
    (out / "results_extra.json").write_text(json.dumps(results, indent=2) + "\n")
    write_one_class_ensemble_card(out, loaded, {"test": test, **results}, options.max_train_samples)
    return test


# --- the SVDD + autoencoder repos (scripts/build_ensemble.py) ---


@dataclass
class SvddAutoencoderOptions:
    """Everything :func:`build_svdd_autoencoder_repos` needs (the defaults of ``build_ensemble.py``).

    Args:
        autoencoder / deep_svdd: trained member directories (``save_pretrained`` output).
        weights: the vote weights of the autoencoder and the Deep SVDD.
        dataset: labelled dataset; ``calibration_split`` (``max_calibration_samples`` per class) calibrates,
            ``test_split`` (``test_limit`` images, ``None`` = all) evaluates.
        second_domain: a second labelled dataset evaluated untuned ("" or missing = skipped).
        hub_dir: where the two repo folders are written.
        cards_only: reuse the results already in the repos; rewrite the cards only.
        command: the commands quoted in the cards' *Reproduce* section.

    Example:
        >>> SvddAutoencoderOptions("runs/autoencoder", "runs/deep_svdd").weights
        (0.5, 0.5)
    """

    autoencoder: str
    deep_svdd: str
    weights: tuple[float, float] = (0.5, 0.5)
    dataset: str = "../shared/data/cifake"
    calibration_split: str = "validation"
    max_calibration_samples: Optional[int] = 2500
    test_split: str = "test"
    test_limit: Optional[int] = None
    second_domain: Optional[str] = "../shared/data/aiart"
    hub_dir: str = "hub_repos"
    cards_only: bool = False
    command: str = ""


def _publish(out: Path, options: SvddAutoencoderOptions, save_thresholds: bool = False) -> dict[str, Any]:
    """Reload what is published in ``out`` and evaluate it (or, with ``cards_only``, read its saved results)."""
    from ..evaluation.ablation import (  # it imports this package: import late
        evaluate_all,
        load_saved_results,
    )

    loaded = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")  # evaluate exactly what is published
    if save_thresholds:
        loaded.save_thresholds(out)  # a single detector's config.json calibration, also as thresholds_calibrated.json
    if options.cards_only:
        results = load_saved_results(out)
    else:
        results = evaluate_all(
            loaded, out, out.name, dataset=options.dataset, test_split=options.test_split,
            test_limit=options.test_limit, second_domain=options.second_domain,
        )
    return {**results, "command": options.command, "detector": loaded}


def _fresh_folder(out: Path, options: SvddAutoencoderOptions) -> bool:
    """Empty ``out`` for a new build (``False``, leaving it alone, with ``cards_only``)."""
    if options.cards_only:
        return False
    if out.exists():
        shutil.rmtree(out)
    return True


def build_svdd_autoencoder_repos(options: SvddAutoencoderOptions) -> dict[str, Any]:
    """Calibrate the trained autoencoder and Deep SVDD, evaluate and write ``deepfake-autoencoder`` (the
    autoencoder alone) and ``deepfake-ensemble-detector`` (both, fixed weighted vote) with their cards.

    Args:
        options: the trained members, the data and where to write.

    Returns:
        Test AUROC, accuracy, recall and false-alarm rate of both repos, and the ensemble's member figures.

    Example:
        >>> build_svdd_autoencoder_repos(SvddAutoencoderOptions("runs/autoencoder", "runs/deep_svdd"))  # doctest: +SKIP
    """
    calibration = load_image_dataset(options.dataset, options.calibration_split)
    real = list(random_subset(select_label(calibration, "real"), options.max_calibration_samples, 0)["image"])
    fake = list(random_subset(select_label(calibration, "fake"), options.max_calibration_samples, 0)["image"])
    autoencoder, ae_processor = load_member(Path(options.autoencoder))
    svdd, svdd_processor = load_member(Path(options.deep_svdd))
    # Members are named like the registry's detectors: the autoencoder is "residual_autoencoder" everywhere.
    trainings = {"residual_autoencoder": autoencoder.config.training, "deep_svdd": svdd.config.training}

    single = EnsembleDeepfakeDetector.from_members({"residual_autoencoder": (autoencoder, ae_processor)}, device="cpu")
    single.calibrate(real, fake)
    ae_dir = Path(options.hub_dir) / "deepfake-autoencoder"
    if _fresh_folder(ae_dir, options):
        ae_dir.mkdir(parents=True)
        autoencoder.save_pretrained(ae_dir)
        ae_processor.save_pretrained(ae_dir)
    ae_results = _publish(ae_dir, options, save_thresholds=True)
    write_repo_card(
        ae_dir, ae_results.pop("detector"), ae_results, title="Residual autoencoder deepfake detector",
        intro=autoencoder_intro(autoencoder), training=f"`{json.dumps(trainings['residual_autoencoder'])}`",
        tags=["autoencoder", "one-class", "anomaly-detection"],
    )

    ensemble = EnsembleDeepfakeDetector.from_members(
        {"residual_autoencoder": (autoencoder, ae_processor), "deep_svdd": (svdd, svdd_processor)},
        weights={"residual_autoencoder": options.weights[0], "deep_svdd": options.weights[1]},
        weighting="fixed 50/50 vote of the members' calibrated scores, as published",
        device="cpu",
    )
    ensemble.calibrate(real, fake)
    ens_dir = Path(options.hub_dir) / "deepfake-ensemble-detector"
    if _fresh_folder(ens_dir, options):
        ensemble.save_pretrained(ens_dir)
    ens_results = _publish(ens_dir, options)
    write_repo_card(
        ens_dir, ens_results.pop("detector"), ens_results, title="SVDD + autoencoder ensemble deepfake detector",
        intro=svdd_ensemble_intro(svdd), training="\n".join(f"- {k}: `{json.dumps(v)}`" for k, v in trainings.items()),
        tags=["deep-svdd", "autoencoder", "one-class", "ensemble", "anomaly-detection"],
    )
    keys = ("auroc", "accuracy", "recall", "fpr")
    return {
        "autoencoder": {key: ae_results["test"][key] for key in keys},
        "ensemble": {key: ens_results["test"][key] for key in keys},
        "ensemble_members": ens_results["test"].get("members"),
    }
