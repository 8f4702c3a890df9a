#!/usr/bin/env python
"""Analyse one image: verdict, confidence and explanation heatmaps side by side.

Shows the input image, the verdict with its confidence (the shown P(fake), 50% at the threshold) and every
explanation the detector offers: the whole-image evidence map for the NPR detector, a Grad-CAM heatmap for the
EfficientNet detector, the ELA map for the ELA + CNN detector, the reconstruction-error map for autoencoders, and the
image's FFT spectrum. Without a display, ``--visualize`` saves the figure instead (``prediction.png`` unless
``--save`` names a file). For many images use ``deepfake-detect detect``.

Example:
    python scripts/predict.py examples/photo_fake_01.jpg --save runs/prediction.png
    python scripts/predict.py examples/photo_real_01.jpg --model hub_repos/deepfake-ela-cnn --threshold strict --visualize
    python scripts/predict.py examples/photo_real_01.jpg --precision bfloat16
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional, Sequence

from deepfake_detectors_cli import add_precision_argument, default_model, parse_threshold


def has_display() -> bool:
    """Whether a plot window can open (a desktop session, or a notebook-like interactive backend)."""
    import matplotlib

    if sys.platform in ("darwin", "win32"):
        return True
    interactive = matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo", "template")
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and interactive


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="the image file")
    parser.add_argument("--model", default=default_model(), help="model directory or repo id (default: hub_repos/deepfake-detector)")
    parser.add_argument(
        "--threshold", type=parse_threshold, default=None,
        help="strict | balanced | sensitive | optimal, a probability such as 0.8, or score:<number> (default: the model's)",
    )
    add_precision_argument(parser)
    parser.add_argument("--visualize", action="store_true", help="show the figure in a window (saved when there is no display)")
    parser.add_argument("--save", default=None, help="write the figure to this file (PNG, PDF, SVG...)")
    args = parser.parse_args(argv)

    from deepfake_detectors import EnsembleDeepfakeDetector, ImageLoadError
    from deepfake_detectors.cli import apply_precision
    from deepfake_detectors.explanations import explain_image, prediction_figure

    try:
        detector = EnsembleDeepfakeDetector.from_pretrained(args.model)
        if args.threshold is not None:
            detector.set_threshold(args.threshold)
        apply_precision(detector, args.precision)
        result = detector.predict(args.image)
    except (ImageLoadError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict()))
    print(f"{result.label.upper()}: {result.confidence:.0%} {result.label} at the {result.threshold_name} threshold", file=sys.stderr)
    save = args.save
    show = args.visualize and has_display()
    if args.visualize and not show and save is None:
        save = "prediction.png"
        print("no display: saving the figure instead of showing it", file=sys.stderr)
    if show or save:
        figure = prediction_figure(args.image, result, explain_image(detector, args.image))
        if save:
            os.makedirs(os.path.dirname(os.path.abspath(save)), exist_ok=True)
            figure.savefig(save, dpi=120)
            print(f"saved {save}", file=sys.stderr)
        if show:
            import matplotlib.pyplot as plt

            manager = plt.figure().canvas.manager  # a pyplot window for the prepared figure
            manager.canvas.figure = figure
            figure.set_canvas(manager.canvas)
            plt.show()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
