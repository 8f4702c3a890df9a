"""Two inference switches of the convolutional detectors: time and outputs with each switch off and on.

- ``--switch channels_last``: ``deepfake_detectors.modeling.base.convolution_layout`` puts a network's input in
  channels-last layout before its first convolution (``base.CHANNELS_LAST``).
- ``--switch fold_batch_norm``: ``base.convolve_and_normalise`` folds each eval-mode batch norm into the
  convolution before it (``base.FOLD_BATCH_NORM``).

The script times each network's forward pass with the switch off and on, interleaved (best of ``--rounds``), on
inputs of the shapes the bundled repos see, and checks that the switch changes no verdict: the bundled repos score
validation images (never a test split) both ways and the largest score difference and the verdicts that differ are
printed.

What the channels-last log shows: the EfficientNet backbone and the photo autoencoder run faster in the pipeline,
with the same verdicts. The NPR detector's scores are bit-identical in both layouts because its pipeline input was
channels-last already (its crops are cut from height x width x channel arrays); its saving shows in training and
wherever a caller passes default-layout tensors. That run had about a third of the CPU time taken by the hypervisor
(steal), so read the columns against each other, not as this machine's speed. It was written by this script's
first version (`channels_last_speed.py`, commit b37a8b6), the same measurement with the columns named "default
layout" and "channels-last".

What the fold log shows: folding saves 16% of the NPR network's forward pass and 4% of the photo autoencoder's
(the small CIFAKE autoencoder: within noise), with no validation verdict changed (largest score difference about
1e-6). That run had no steal.

What the reconstruction log shows (2026-12-06, ``--repos deepfake-reconstruction-error
deepfake-reconstruction-ratio``, written after the tiny autoencoder and the Lite0 feature stages started taking their
input through ``convolution_layout``): channels-last saves about a fifth of their forward pass on a default-layout
tensor, and their pipeline scores are bit-identical both ways: as with NPR, the processor's crops (cut from height x
width x channel arrays) already reach the network channels-last, so ``predict`` and the default detector run no
faster; the change only spares callers who pass their own default-layout tensors.

Run from the repository root on an otherwise idle machine, one log per switch:
    python docs/experiments/inference_speed_switches.py --switch channels_last \
        > docs/experiments/inference_speed_switches_channels_last.log
    python docs/experiments/inference_speed_switches.py --switch fold_batch_norm \
        > docs/experiments/inference_speed_switches_fold_batch_norm.log
    python docs/experiments/inference_speed_switches.py --switch channels_last \
        --repos deepfake-reconstruction-error deepfake-reconstruction-ratio \
        > docs/experiments/inference_speed_switches_channels_last_reconstruction.log
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.modeling import base
from deepfake_detectors.training.data import load_image_dataset

#: switch -> the module-level flag of ``modeling.base`` it sets.
SWITCHES = {"channels_last": "CHANNELS_LAST", "fold_batch_norm": "FOLD_BATCH_NORM"}
#: switch -> repos it changes anything for (EfficientNet-Lite has no batch norm of ours to fold).
SWITCH_REPOS = {
    "channels_last": ("deepfake-npr-detector", "deepfake-efficientnet", "deepfake-autoencoder-photos",
                      "deepfake-autoencoder", "deepfake-reconstruction-error", "deepfake-reconstruction-ratio"),
    "fold_batch_norm": ("deepfake-npr-detector", "deepfake-autoencoder-photos", "deepfake-autoencoder"),
}
#: repo -> (input shape of one forward pass, what it stands for, validation data it is checked on)
CASES = {
    "deepfake-npr-detector": ((81, 3, 96, 96), "9 photos x 9 crops of 96 px", ("../shared/data/wild", None)),
    "deepfake-efficientnet": ((64, 3, 128, 128), "64 images at 128 px", ("../shared/data/cifake", 1000)),
    "deepfake-autoencoder-photos": ((36, 3, 128, 128), "9 photos x 4 crops of 128 px", ("../shared/data/wild", 100)),
    "deepfake-autoencoder": ((64, 3, 32, 32), "64 images at 32 px", ("../shared/data/cifake", 1000)),
    "deepfake-reconstruction-error": ((4, 3, 256, 256), "4 photos x 1 crop of 256 px", ("../shared/data/wild", 100)),
    "deepfake-reconstruction-ratio": ((4, 3, 256, 256), "4 photos x 1 crop of 256 px", ("../shared/data/wild", 100)),
}
#: repos whose network input is in [-1, 1] (the others take [0, 1] or normalised pixels; random [0, 1] is fine there).
SIGNED_INPUT = ("deepfake-autoencoder", "deepfake-autoencoder-photos", "deepfake-reconstruction-error",
                "deepfake-reconstruction-ratio")


def forward_seconds(model: torch.nn.Module, batch: torch.Tensor, flag: str, on: bool) -> float:
    setattr(base, flag, on)
    start = time.perf_counter()
    with torch.inference_mode():
        model(batch)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switch", choices=sorted(SWITCHES), default="channels_last")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repos", nargs="+", help="only these repos (default: every repo the switch changes)")
    args = parser.parse_args()
    flag = SWITCHES[args.switch]
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; switch: {args.switch}\n")
    print("| repo | forward pass of | switch off ms | switch on ms | time saved |")
    print("|---|---|---|---|---|")
    checks = []
    for repo in args.repos or SWITCH_REPOS[args.switch]:
        shape, what, (dataset, limit) = CASES[repo]
        detector = EnsembleDeepfakeDetector.from_pretrained(f"hub_repos/{repo}", device="cpu")
        model = next(iter(detector.members.values())).eval()
        batch = torch.rand(shape)
        if repo in SIGNED_INPUT:
            batch = batch * 2 - 1
        forward_seconds(model, batch, flag, True), forward_seconds(model, batch, flag, False)  # warm-up
        best = {False: float("inf"), True: float("inf")}
        for _ in range(args.rounds):
            for on in (False, True):
                best[on] = min(best[on], forward_seconds(model, batch, flag, on))
        saved = 1 - best[True] / best[False]
        print(f"| {repo} | {what} | {best[False] * 1e3:.1f} | {best[True] * 1e3:.1f} | {saved:.0%} |")

        split = load_image_dataset(dataset, "validation")
        if limit is not None:
            split = split.shuffle(seed=0).select(range(limit))
        images = list(split["image"])
        results = {}
        for on in (False, True):
            setattr(base, flag, on)
            results[on] = detector.predict(images, batch_size=32)
        scores = [np.array([r.score for r in results[on]]) for on in (False, True)]
        flips = sum(a.is_fake != b.is_fake for a, b in zip(results[False], results[True]))
        checks.append((repo, f"{dataset} validation", len(images), float(np.abs(scores[0] - scores[1]).max()), flips))
    setattr(base, flag, True)
    print("\n| repo | images | largest score difference | verdicts that differ |")
    print("|---|---|---|---|")
    for repo, data, count, difference, flips in checks:
        print(f"| {repo} | {count} of {data} | {difference:.2e} | {flips} |")


if __name__ == "__main__":
    main()
