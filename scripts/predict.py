#!/usr/bin/env python
"""Analyse one image: verdict, confidence and explanation heatmaps side by side.

Shows the input image, the verdict with its confidence (P(fake) from the detector's calibration) and every
explanation the detector offers: the whole-image evidence map for the NPR detector, a Grad-CAM heatmap for the EfficientNet detector, the ELA map for the ELA + CNN
detector, the reconstruction-error map for autoencoders, and the image's FFT spectrum. For many images use
``deepfake-detect detect`` (batched, with a progress bar and a CSV / JSONL report).

Example:
    python scripts/predict.py examples/photo_fake_01.jpg --save prediction.png
    python scripts/predict.py photo.jpg --model hub_repos/deepfake-ela-cnn --threshold strict --visualize
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.cli import parse_threshold
from deepfake_detectors.explanations import explain_image, prediction_figure


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="the image file")
    parser.add_argument("--model", default="hub_repos/deepfake-npr-detector", help="model directory or repo id")
    parser.add_argument("--threshold", type=parse_threshold, default=None, help="strict | balanced | sensitive | optimal | a number")
    parser.add_argument("--visualize", action="store_true", help="show the figure in a window")
    parser.add_argument("--save", default=None, help="write the figure to this file (PNG, PDF, SVG...)")
    args = parser.parse_args(argv)

    detector = EnsembleDeepfakeDetector.from_pretrained(args.model)
    if args.threshold is not None:
        detector.set_threshold(args.threshold)
    result = detector.predict(args.image)
    print(json.dumps(result.to_dict()))
    if result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    if args.visualize or args.save:
        figure = prediction_figure(args.image, result, explain_image(detector, args.image))
        if args.save:
            figure.savefig(args.save, dpi=120)
            print(f"saved {args.save}", file=sys.stderr)
        if args.visualize:
            import matplotlib.pyplot as plt

            manager = plt.figure().canvas.manager  # a pyplot window for the prepared figure
            manager.canvas.figure = figure
            figure.set_canvas(manager.canvas)
            plt.show()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
