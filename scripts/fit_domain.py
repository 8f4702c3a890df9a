#!/usr/bin/env python
"""Fit a repo's domain description (``domain.safetensors``) on the real images of its training data only.

Each ``--source`` is ``dataset_dir:split:max_images``; only images labelled real (0) are used, never fakes and
never a test split. See :mod:`deepfake_detectors.domain`.

Example:
    python scripts/fit_domain.py hub_repos/deepfake-ela-cnn --source ../shared/data/cifake:train:3000 \
        --fitted-on "CIFAKE train real images (32 px)"
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.domain import DOMAIN_FILE, DomainDescription, statistics_of_sources
from deepfake_detectors.evaluation.data import load_labelled_images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", type=Path, help="repo folders sharing this training data")
    parser.add_argument("--source", action="append", required=True, help="dataset_dir:split:max_images (reals only)")
    parser.add_argument("--fitted-on", required=True, help="the data in words, for the card")
    parser.add_argument("--components", type=int, default=4)
    parser.add_argument("--features", nargs="+", default=None, help="image statistics to use (default: all five)")
    args = parser.parse_args()
    for repo in args.repos:
        detector = EnsembleDeepfakeDetector.from_pretrained(repo, device="cpu")
        parts = []
        for source in args.source:
            dataset, split, limit = source.rsplit(":", 2)
            if split == "test":
                raise SystemExit("a domain is fitted on training images, never on a test split")
            data = load_labelled_images(dataset, split=split)
            reals = np.flatnonzero(data.labels == 0)
            chosen = np.random.default_rng(0).permutation(reals)[: int(limit)]
            parts.append(statistics_of_sources([data.images[i] for i in chosen], detector.decode_min_size, True))
        domain = DomainDescription.fit(np.concatenate(parts), args.fitted_on, args.components, features=args.features)
        domain.command = shlex.join(["python", "scripts/fit_domain.py", *sys.argv[1:]])  # the card prints it
        domain.save(repo / DOMAIN_FILE)
        print(f"{repo}: {domain.summary()}")


if __name__ == "__main__":
    main()
