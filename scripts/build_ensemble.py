#!/usr/bin/env python
"""Build the publishable repos of the SVDD + autoencoder detectors from trained members.

Calibrates on held-out validation images, evaluates on the test split (and, untuned, on a second domain), runs
the published sanity check (real images vs uniform noise) and writes, for each repo, the weights, configs,
``thresholds_calibrated.json``, ``results_summary.json``, plots and a model card:

- ``hub_repos/deepfake-autoencoder``: the residual autoencoder alone;
- ``hub_repos/deepfake-ensemble-detector``: Deep SVDD + autoencoder, 50/50 weighted vote.

Example:
    python scripts/build_ensemble.py --autoencoder runs/autoencoder --deep-svdd runs/deep_svdd
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from PIL import Image

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.evaluation import compute_metrics, evaluate_detector
from deepfake_detectors.hub import metrics_table, plots_markdown, write_model_card
from deepfake_detectors.pipeline import load_member
from deepfake_detectors.training import load_image_dataset, select_label, take


def noise_sanity_check(detector: EnsembleDeepfakeDetector, dataset: str, split: str, count: int, seed: int) -> dict:
    """The published autoencoder check: real test images (label 0) vs uniform random noise images (label 1)."""
    rng = np.random.default_rng(seed)
    real = list(take(select_label(load_image_dataset(dataset, split), "real"), count, seed)["image"])
    noise = [Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(count)]
    scores, _, _ = detector.score_images(real + noise)
    labels = np.r_[np.zeros(count, int), np.ones(count, int)]
    value, name = detector.threshold
    return compute_metrics(labels, scores, value, name)


def complexity_ablation(detector: EnsembleDeepfakeDetector, dataset: str, split: str, limit: Optional[int]) -> dict:
    """Each member's AUROC on ``split`` with and without its input-complexity correction (what it adds)."""
    from sklearn.metrics import roc_auc_score

    adjusted = {name: m.config.complexity_adjustment for name, m in detector.members.items()}
    if not any(adjusted.values()):
        return {}
    data = load_image_dataset(dataset, split)
    real = list(take(select_label(data, "real"), None if limit is None else limit // 2, 0)["image"])
    fake = list(take(select_label(data, "fake"), None if limit is None else limit // 2, 0)["image"])
    labels = np.r_[np.zeros(len(real), int), np.ones(len(fake), int)]
    corrected = detector.raw_scores(real + fake)
    try:
        for member in detector.members.values():
            member.config.complexity_adjustment = None
        uncorrected = detector.raw_scores(real + fake)
    finally:
        for name, member in detector.members.items():
            member.config.complexity_adjustment = adjusted[name]
    return {
        name: {
            "auroc_corrected": float(roc_auc_score(labels, corrected[name])),
            "auroc_uncorrected": float(roc_auc_score(labels, uncorrected[name])),
            "slope": None if adjusted[name] is None else adjusted[name]["slope"],
        }
        for name in detector.members
    }


def evaluate_all(detector: EnsembleDeepfakeDetector, args: argparse.Namespace, out: Path, name: str) -> dict[str, Any]:
    """CIFAKE test (written as results_summary.json + plots), the second domain, and the noise check.

    With ``--cards-only`` the results already in ``out`` are reused (to rewrite the card text alone).
    """
    if args.cards_only:
        test = json.loads((out / "results_summary.json").read_text())
        return {"test": test, **json.loads((out / "results_extra.json").read_text())}
    started = time.time()
    test = evaluate_detector(
        detector, args.dataset, args.test_split, limit=args.test_limit, output_dir=str(out), model_name=name,
        robustness=True,
    )
    test["seconds"] = round(time.time() - started, 1)
    (out / "results.json").rename(out / "results_summary.json")
    extra: dict[str, Any] = {"noise_sanity_check": noise_sanity_check(detector, args.dataset, args.test_split, 500, 0)}
    extra["complexity_ablation"] = complexity_ablation(detector, args.dataset, args.test_split, args.test_limit)
    if args.second_domain and Path(args.second_domain).exists():
        extra["aiart_test"] = evaluate_detector(detector, args.second_domain, "test", model_name=name)
    (out / "results_extra.json").write_text(json.dumps(extra, indent=2) + "\n")
    return {"test": test, **extra}


def robustness_table(results: dict[str, Any]) -> str:
    lines = ["| perturbation (CIFAKE test) | accuracy | recall | false-alarm rate | AUROC |", "|---|---|---|---|---|"]
    lines.append(
        f"| none | {results['accuracy']:.4f} | {results['recall']:.4f} | {results['fpr']:.4f} | {results['auroc']:.4f} |"
    )
    for name, figures in results.get("robustness", {}).items():
        lines.append(
            f"| {name} | {figures['accuracy']:.4f} | {figures['recall']:.4f} | {figures['fpr']:.4f} | {figures['auroc']:.4f} |"
        )
    return "\n".join(lines)


def thresholds_table(detector: EnsembleDeepfakeDetector) -> str:
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


COMMON_LIMITS = """\
## Limitations

- Trained on **32x32 CIFAKE** images only (CIFAR-10 photos vs Stable Diffusion 1.4 imitations). Every input is
  resized to 32x32, so the detector only sees coarse colour, texture and high-frequency statistics of that size.
- It is a **one-class** detector: it learned what the real training photos look like and flags what differs. Real
  photos unlike CIFAR-10 (other cameras, screenshots, heavy edits, drawings) are flagged too, and fakes that sit
  close to real photo statistics are missed. The second-domain row above shows how much is lost off CIFAKE.
- Its evidence is mostly fine high-frequency detail: blurring or downscaling an image removes it, and then the
  detector flags almost nothing (see the robustness table), while heavy JPEG compression adds artefacts that
  raise false alarms.
- Scores are calibrated on CIFAKE validation images; on another domain recalibrate (``calibrate()``) before
  trusting the named thresholds.
- Do not use a single score as proof. Treat it as one piece of evidence next to provenance and metadata.
"""


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


def limits_paragraph(results: dict[str, Any], detector: EnsembleDeepfakeDetector) -> str:
    """What limits the AUROC, in words, from the measured figures."""
    test = results["test"]
    aiart = results.get("aiart_test")
    members = test.get("members") or {}
    ablation = results.get("complexity_ablation") or {}
    corrected = {name: row for name, row in ablation.items() if row.get("slope") is not None}
    complexity = ""
    if corrected:
        raw = ", ".join(
            f"`{name}` {row['auroc_uncorrected']:.3f} -> {row['auroc_corrected']:.3f}" for name, row in corrected.items()
        )
        complexity = (
            " A raw one-class score is largely a measure of how busy an image is: detailed real photos reconstruct "
            "worse, and sit further from the centre, than smooth ones, whatever their origin. Subtracting the "
            f"complexity term (fitted on real images only) raises the test AUROC ({raw}; table below)."
        )
    domain = ""
    if aiart:
        domain = (
            f" The correction is fitted on CIFAR-10-like photos; on the AI-art domain the detector is at or below "
            f"chance (AUROC {aiart['auroc']:.3f}), so recalibrate, or do not use it, off CIFAKE."
        )
    if len(members) < 2:
        return (
            "**What limits it.** The reconstruction error mostly measures how much fine detail an image has and "
            "how unusual its content is for the training photos. CIFAKE fakes match CIFAR-10 content, so only their "
            "somewhat different high-frequency detail separates them, and many real photos are just as unusual."
            + complexity
            + domain
        )
    best = max(members, key=lambda name: members[name]["auroc"])
    worst = min(members, key=lambda name: members[name]["auroc"])
    return (
        f"**What limits it.** The combination is only as good as its members allow: `{best}` alone reaches AUROC "
        f"{members[best]['auroc']:.3f}, `{worst}` {members[worst]['auroc']:.3f}, and the fixed 50/50 vote of the "
        f"published design gives {test['auroc']:.3f}"
        + (" - below the better member alone." if test["auroc"] < members[best]["auroc"] else ".")
        + " Both members were trained on real images only and both mainly react to fine high-frequency detail, "
        "so their errors are correlated; the fakes' content and colours look like CIFAR-10 by construction."
        + complexity
        + domain
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


def card_body(
    title: str, intro: str, detector: EnsembleDeepfakeDetector, results: dict[str, Any], repo: str, training: str
) -> str:
    test, noise = results["test"], results["noise_sanity_check"]
    rows = [("CIFAKE test (re-split)", test), ("sanity check: real vs uniform noise", noise)]
    aiart = results.get("aiart_test")
    if aiart:
        rows.append(("AI-art test (second domain, not tuned)", aiart))
    members = ""
    if test.get("members"):
        members = "\n### Members on CIFAKE test\n\n| member | weight | AUROC | AP |\n|---|---|---|---|\n" + "\n".join(
            f"| {m['name']} | {m['weight']} | {test['members'][m['name']]['auroc']:.4f} | "
            f"{test['members'][m['name']]['average_precision']:.4f} |"
            for m in detector.config.members
        )
    return f"""
# {title}

{intro}

Part of the `deepfake-detectors` package: every number on this card was produced by the commands under
*Reproduce* on the code and weights in this folder.

## Use

```python
from deepfake_detectors import EnsembleDeepfakeDetector

detector = EnsembleDeepfakeDetector.from_pretrained("deepfake-detectors/{Path(repo).name}")
score, is_fake = detector.predict("image.jpg")
detector.set_threshold("strict")          # strict / balanced / sensitive / optimal, or a probability such as 0.9
results = detector.predict(["a.jpg", "b.png"])
```

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
photos, and what remains is mostly their fine high-frequency detail.
{members}

{limits_paragraph(results, detector)}

{ablation_table(results)}

{plots_markdown(test)}

### Robustness (CIFAKE test, same threshold)

{robustness_table(test)}

### Thresholds (`thresholds_calibrated.json`)

{thresholds_table(detector)}

## Training

{training}

{COMMON_LIMITS}
## Reproduce

```bash
{results['command']}
```
"""


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autoencoder", required=True, help="trained autoencoder directory")
    parser.add_argument("--deep-svdd", required=True, help="trained Deep SVDD directory")
    parser.add_argument("--weights", type=float, nargs=2, default=[0.5, 0.5], help="autoencoder, deep_svdd")
    parser.add_argument("--dataset", default="../shared/data/cifake")
    parser.add_argument("--calibration-split", default="validation")
    parser.add_argument("--max-calibration-samples", type=int, default=2500, help="per class")
    parser.add_argument("--test-split", default="test")
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--second-domain", default="../shared/data/aiart")
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--cards-only", action="store_true", help="reuse the saved results, rewrite the cards")
    parser.add_argument("--reproduce-script", default=None, help="a script with every command, quoted in the cards")
    args = parser.parse_args(argv)
    invocation = "python scripts/build_ensemble.py " + " ".join(argv if argv is not None else sys.argv[1:])
    command = Path(args.reproduce_script).read_text().strip() if args.reproduce_script else invocation

    calibration = load_image_dataset(args.dataset, args.calibration_split)
    real = list(take(select_label(calibration, "real"), args.max_calibration_samples, 0)["image"])
    fake = list(take(select_label(calibration, "fake"), args.max_calibration_samples, 0)["image"])

    autoencoder, ae_processor = load_member(Path(args.autoencoder))
    svdd, svdd_processor = load_member(Path(args.deep_svdd))
    trainings = {"autoencoder": autoencoder.config.training, "deep_svdd": svdd.config.training}

    # 1. the autoencoder alone
    ae_detector = EnsembleDeepfakeDetector.from_members({"autoencoder": (autoencoder, ae_processor)}, device="cpu")
    ae_detector.calibrate(real, fake)
    ae_dir = Path(args.hub_dir) / "deepfake-autoencoder"
    if not args.cards_only:
        if ae_dir.exists():
            shutil.rmtree(ae_dir)
        ae_dir.mkdir(parents=True)
        autoencoder.save_pretrained(ae_dir)
        ae_processor.save_pretrained(ae_dir)
    single = EnsembleDeepfakeDetector.from_pretrained(ae_dir, device="cpu")  # evaluate exactly what is published
    single.save_thresholds(ae_dir)  # its config.json calibration, also as thresholds_calibrated.json
    ae_results = evaluate_all(single, args, ae_dir, "deepfake-autoencoder")
    ae_results["command"] = command
    cfg = autoencoder.config
    intro = (
        f"A residual convolutional autoencoder trained on **real images only**; its reconstruction error is the "
        f"fake-ness score. {len(cfg.hidden_sizes)} downsampling stages with residual blocks "
        f"(channels {cfg.hidden_sizes}), a {cfg.latent_dim}-d latent, a symmetric decoder with a tanh output, "
        f"{cfg.image_size}x{cfg.image_size} input in [-1, 1], "
        f"{sum(p.numel() for p in autoencoder.parameters()) / 1e6:.2f}M parameters "
        f"(the published 128x128 configuration, 34.8M parameters, is `ResidualAutoencoderConfig()`; this smaller "
        f"one keeps the weights a few MB and matches CIFAKE's native 32x32)."
        + (
            f" The error adds the high-pass residual error with weight {cfg.highpass_weight}, in training and "
            f"scoring, because the pixel error alone is dominated by coarse content."
            if cfg.highpass_weight
            else ""
        )
        + complexity_sentence(cfg)
    )
    training = f"`{json.dumps(trainings['autoencoder'])}`"
    body = card_body("Residual autoencoder deepfake detector", intro, single, ae_results, str(ae_dir), training)
    write_model_card(
        ae_dir,
        model_name="deepfake-autoencoder",
        body=body,
        evaluations=[(ae_results["test"], "CIFAKE (re-split)", "cifake", "test")]
        + ([(ae_results["aiart_test"], "AI art vs real (web-scraped)", "aiart", "test")] if "aiart_test" in ae_results else []),
        tags=["autoencoder", "one-class", "anomaly-detection"],
    )

    # 2. the 50/50 ensemble
    ensemble = EnsembleDeepfakeDetector.from_members(
        {"autoencoder": (autoencoder, ae_processor), "deep_svdd": (svdd, svdd_processor)},
        weights={"autoencoder": args.weights[0], "deep_svdd": args.weights[1]},
        weighting="fixed 50/50 vote of the members' calibrated scores, as published",
        device="cpu",
    )
    ensemble.calibrate(real, fake)
    ens_dir = Path(args.hub_dir) / "deepfake-ensemble-detector"
    if not args.cards_only:
        if ens_dir.exists():
            shutil.rmtree(ens_dir)
        ensemble.save_pretrained(ens_dir)
    loaded = EnsembleDeepfakeDetector.from_pretrained(ens_dir, device="cpu")
    ens_results = evaluate_all(loaded, args, ens_dir, "deepfake-ensemble-detector")
    ens_results["command"] = command
    scfg = svdd.config
    intro = (
        "Deep SVDD + residual autoencoder, both trained on **real images only**, combined by a 50/50 weighted "
        "vote of their calibrated scores (each member's score in standard deviations above its mean on real "
        "validation images). The decision threshold adapts to the data: by default the 95th percentile of the "
        "combined score on real validation images.\n\n"
        f"- **Deep SVDD** (Ruff et al., 2018): bias-free conv encoder (channels {scfg.hidden_sizes}, "
        f"{scfg.rep_dim}-d embedding), centre fixed from the initial mean embedding, score = squared distance to "
        f"the centre; input = the image plus its high-pass residual "
        f"({sum(p.numel() for p in svdd.parameters()) / 1e6:.2f}M parameters)."
        + complexity_sentence(scfg)
        + "\n"
        "- **Residual autoencoder**: see `deepfake-autoencoder` (reconstruction error).\n\n"
        "The published SVDD + autoencoder ensemble reported 77.5% accuracy on CIFAR-10 vs MNIST, a much easier "
        "task than CIFAKE, where fakes were generated to look like CIFAR-10 photos."
    )
    training = "\n".join(f"- {name}: `{json.dumps(value)}`" for name, value in trainings.items())
    body = card_body("SVDD + autoencoder ensemble deepfake detector", intro, loaded, ens_results, str(ens_dir), training)
    write_model_card(
        ens_dir,
        model_name="deepfake-ensemble-detector",
        body=body,
        evaluations=[(ens_results["test"], "CIFAKE (re-split)", "cifake", "test")]
        + ([(ens_results["aiart_test"], "AI art vs real (web-scraped)", "aiart", "test")] if "aiart_test" in ens_results else []),
        tags=["deep-svdd", "autoencoder", "one-class", "ensemble", "anomaly-detection"],
    )
    summary = {
        "autoencoder": {k: ae_results["test"][k] for k in ("auroc", "accuracy", "recall", "fpr")},
        "ensemble": {k: ens_results["test"][k] for k in ("auroc", "accuracy", "recall", "fpr")},
        "ensemble_members": ens_results["test"].get("members"),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
