#!/usr/bin/env python
"""Publishable repo of a trained supervised detector: weights, processor, evaluation, plots and model card.

Evaluates on the CIFAKE test split (with the robustness sweep) and, untuned, on the AI-art test split, at the
``optimal`` threshold (best F1 on the validation split, stored at calibration time).

Example:
    python scripts/build_supervised_repo.py --model runs/ela_cnn --name deepfake-ela-cnn \
        --title "Error Level Analysis + CNN" --reproduce-script scripts/ela_cnn_weights.sh
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Optional, Sequence

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.evaluation import evaluate_detector
from deepfake_detectors.hub import metrics_table, plots_markdown, write_model_card


def robustness_rows(results: dict) -> str:
    lines = ["| perturbation (CIFAKE test) | accuracy | recall | false-alarm rate | AUROC |", "|---|---|---|---|---|"]
    entries = {"none": {k: results[k] for k in ("accuracy", "recall", "fpr", "auroc")}, **results["robustness"]}
    for name, f in entries.items():
        lines.append(f"| {name} | {f['accuracy']:.4f} | {f['recall']:.4f} | {f['fpr']:.4f} | {f['auroc']:.4f} |")
    return "\n".join(lines)


ELA_LIMIT = "Error Level Analysis depends on JPEG history: re-compression and resizing change the map (see the robustness table)."
RESAMPLING_LIMIT = ("Its evidence includes fine detail: downscaling, blur and strong JPEG compression cost accuracy (see the "
                    "robustness table), and larger photos are shrunk to the model's input size first.")


def training_table(training: dict) -> str:
    """The ``training`` record of the model's config as a two-column Markdown table (nested dicts flattened)."""
    lines = ["| setting | value |", "|---|---|"]

    def add(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{prefix}.{key}" if prefix else key, inner)
        else:
            lines.append(f"| {prefix} | {value} |")

    add("", training)
    return "\n".join(lines) if len(lines) > 2 else "(no training record in config.json)"


def save_explanation_examples(detector: EnsembleDeepfakeDetector, out: Path, examples: Path = Path("examples")) -> str:
    """Verdict + explanation panels for one real and one fake example image, stacked in one PNG in the repo."""
    from PIL import Image

    from deepfake_detectors.explanations import explain_image, prediction_figure

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


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="trained model directory (save_pretrained output)")
    parser.add_argument("--name", required=True, help="repo folder name under --hub-dir")
    parser.add_argument("--title", required=True)
    parser.add_argument("--description", default="")
    parser.add_argument("--notes", default="", help="a paragraph after the results (context, published figures)")
    parser.add_argument("--dataset", default="../shared/data/cifake")
    parser.add_argument("--second-domain", default="../shared/data/aiart")
    parser.add_argument("--threshold", default="optimal")
    parser.add_argument("--hub-dir", default="hub_repos")
    parser.add_argument("--reproduce-script", required=True)
    parser.add_argument("--cards-only", action="store_true",
                        help="rewrite the card from the repo's existing results files (no copy, no evaluation)")
    args = parser.parse_args(argv)

    out = Path(args.hub_dir) / args.name
    if not args.cards_only:
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(args.model, out, ignore=shutil.ignore_patterns("checkpoint-*", "runs", "*.bin"))
    detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    detector.set_threshold(args.threshold)
    if args.cards_only:
        test = json.loads((out / "results_summary.json").read_text())
        aiart = json.loads((out / "results_extra.json").read_text()).get("aiart_test")
    else:
        detector.save_thresholds(out)  # the calibration in config.json, also as the repo's thresholds_calibrated.json
        test = evaluate_detector(detector, args.dataset, "test", output_dir=str(out), model_name=args.name, robustness=True)
        (out / "results.json").rename(out / "results_summary.json")
        aiart = evaluate_detector(detector, args.second_domain, "test", model_name=args.name) if Path(args.second_domain).exists() else None
        (out / "results_extra.json").write_text(json.dumps({"aiart_test": aiart}, indent=2) + "\n")
    model = next(iter(detector.members.values()))
    is_ela = "ela" in model.config.model_type
    history = getattr(model.config, "training_history", None) or []
    explanation_png = save_explanation_examples(detector, out)
    training = getattr(model.config, "training", None) or {}
    rows = [("CIFAKE test (re-split)", test)] + ([("AI-art test (second domain, not tuned)", aiart)] if aiart else [])
    body = f"""
# {args.title}

{args.description}

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

{args.notes}

{plots_markdown(test)}

### Robustness (CIFAKE test, same threshold)

{robustness_rows(test)}

## Training

{training_table(training)}
{"".join(f"{chr(10)}Earlier stage {index + 1} (this run started from its result):{chr(10)}{chr(10)}{training_table(stage)}{chr(10)}" for index, stage in enumerate(history))}
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
{Path(args.reproduce_script).read_text().strip()}
```
"""
    write_model_card(
        out,
        model_name=args.name,
        body=body,
        evaluations=[(test, "CIFAKE (re-split)", "cifake", "test")]
        + ([(aiart, "AI art vs real (web-scraped)", "aiart", "test")] if aiart else []),
        tags=["supervised", "error-level-analysis"],
    )
    print(json.dumps({k: test[k] for k in ("auroc", "accuracy", "precision", "recall", "f1", "fpr")}, indent=2))


if __name__ == "__main__":
    main()
