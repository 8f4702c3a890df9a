"""Channels-last convolutions: time and outputs of the convolutional detectors in both memory layouts.

``deepfake_detectors.modeling.base.convolution_layout`` puts a network's input in channels-last layout before its
first convolution (``CHANNELS_LAST = True``). This script times each network's forward pass in the default layout
and in channels-last, interleaved (best of ``--rounds``), on inputs of the shapes the bundled repos see, and checks
that the layout changes no verdict: the bundled repos score validation images (never a test split) in both layouts
and the largest score difference and the verdicts that differ are printed.

What the log beside this file shows: the EfficientNet backbone and the photo autoencoder now run faster in the
pipeline, with the same verdicts. The NPR detector's scores are bit-identical in both layouts because its pipeline
input was channels-last already (its crops are cut from height x width x channel arrays); its saving shows in
training and wherever a caller passes default-layout tensors. The log's run had about a third of the CPU time taken
by the hypervisor (steal), so read the columns against each other, not as this machine's speed.

Run from the repository root on an otherwise idle machine:
    python docs/experiments/channels_last_speed.py > docs/experiments/channels_last_speed.log
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.modeling import base
from deepfake_detectors.training.data import load_image_dataset

#: repo -> (input shape of one forward pass, what it stands for, validation data it is checked on)
CASES = {
    "deepfake-npr-detector": ((81, 3, 96, 96), "9 photos x 9 crops of 96 px", ("../shared/data/wild", None)),
    "deepfake-efficientnet": ((64, 3, 128, 128), "64 images at 128 px", ("../shared/data/cifake", 1000)),
    "deepfake-autoencoder-photos": ((36, 3, 128, 128), "9 photos x 4 crops of 128 px", ("../shared/data/wild", 100)),
    "deepfake-autoencoder": ((64, 3, 32, 32), "64 images at 32 px", ("../shared/data/cifake", 1000)),
}


def forward_seconds(model: torch.nn.Module, batch: torch.Tensor, channels_last: bool) -> float:
    base.CHANNELS_LAST = channels_last
    start = time.perf_counter()
    with torch.inference_mode():
        model(batch)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| repo | forward pass of | default layout ms | channels-last ms | time saved |")
    print("|---|---|---|---|---|")
    checks = []
    for repo, (shape, what, (dataset, limit)) in CASES.items():
        detector = EnsembleDeepfakeDetector.from_pretrained(f"hub_repos/{repo}", device="cpu")
        model = next(iter(detector.members.values())).eval()
        batch = torch.rand(shape)
        if repo.startswith("deepfake-autoencoder"):  # its input is in [-1, 1]
            batch = batch * 2 - 1
        forward_seconds(model, batch, True), forward_seconds(model, batch, False)  # warm-up
        best = {False: float("inf"), True: float("inf")}
        for _ in range(args.rounds):
            for channels_last in (False, True):
                best[channels_last] = min(best[channels_last], forward_seconds(model, batch, channels_last))
        saved = 1 - best[True] / best[False]
        print(f"| {repo} | {what} | {best[False] * 1e3:.1f} | {best[True] * 1e3:.1f} | {saved:.0%} |")

        split = load_image_dataset(dataset, "validation")
        if limit is not None:
            split = split.shuffle(seed=0).select(range(limit))
        images = list(split["image"])
        results = {}
        for channels_last in (False, True):
            base.CHANNELS_LAST = channels_last
            results[channels_last] = detector.predict(images, batch_size=32)
        scores = [np.array([r.score for r in results[layout]]) for layout in (False, True)]
        flips = sum(a.is_fake != b.is_fake for a, b in zip(results[False], results[True]))
        checks.append((repo, f"{dataset} validation", len(images), float(np.abs(scores[0] - scores[1]).max()), flips))
    base.CHANNELS_LAST = True
    print("\n| repo | images | largest score difference | verdicts that differ |")
    print("|---|---|---|---|")
    for repo, data, count, difference, flips in checks:
        print(f"| {repo} | {count} of {data} | {difference:.2e} | {flips} |")


if __name__ == "__main__":
    main()
