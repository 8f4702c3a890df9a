"""The zero-shot entropy detector's entropy from the CDF at the bin edges (commit 3b4bbfb) against the earlier
computation (log-probability of each of the 256 bins, two sigmoids per bin, all crops at once): scores, verdicts and
time on 160 wild validation images (seed 0 draw), with the published repo.

    python docs/experiments/entropy_fast_check.py > docs/experiments/entropy_fast_check.log   (about 2 minutes)
"""

from __future__ import annotations

import glob
import io
import time

import numpy as np
import pyarrow.parquet as pq
import torch
from PIL import Image

import deepfake_detectors.modeling.zero_shot_entropy as zero_shot_entropy
from deepfake_detectors import EnsembleDeepfakeDetector

REPO = "hub_repos/deepfake-zero-shot-entropy"


def earlier_entropy(mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """The computation before 3b4bbfb: every bin's log-probability, then -sum p log p (nats)."""
    log_p = zero_shot_entropy.discretized_logistic_log_prob(torch.arange(256.0), mean[..., None], log_scale[..., None])
    return -(log_p.exp() * log_p).sum(-1)


def timed_predict(images: list) -> tuple[list, float]:
    detector = EnsembleDeepfakeDetector.from_pretrained(REPO, device="cpu")
    detector.predict(images[:16], batch_size=16)  # warm-up
    started = time.perf_counter()
    results = detector.predict(images, batch_size=16)
    return results, time.perf_counter() - started


def main() -> None:
    table = pq.read_table(sorted(glob.glob("../shared/data/wild/data/validation-*.parquet"))[0]).to_pandas()
    images = [Image.open(io.BytesIO(cell["bytes"])).convert("RGB")
              for cell in table.sample(160, random_state=0)["image"]]
    fast, fast_seconds = timed_predict(images)
    chunk = zero_shot_entropy.ENTROPY_CHUNK
    zero_shot_entropy.discretized_logistic_entropy, zero_shot_entropy.ENTROPY_CHUNK = earlier_entropy, 10**6
    earlier, earlier_seconds = timed_predict(images)
    new_scores, old_scores = (np.array([result.score for result in rows]) for rows in (fast, earlier))
    changed = sum(a.is_fake != b.is_fake for a, b in zip(fast, earlier))
    print(f"images {len(images)}; largest score difference {np.abs(new_scores - old_scores).max():.2e} "
          f"(score spread {new_scores.std():.3f}); verdicts changed {changed}")
    print(f"seconds: edges in chunks of {chunk} crops {fast_seconds:.1f}, earlier {earlier_seconds:.1f} "
          f"({earlier_seconds / fast_seconds:.2f}x)")


if __name__ == "__main__":
    main()
