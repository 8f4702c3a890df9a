"""The reconstruction error measured against a JPEG re-save of the same crop (2026-12-06; rule fixed before the run).

AEROBLADE's known weakness is content: a smooth image is reconstructed closely by any autoencoder, generated or
not. The complexity correction fitted on PNG bits (``reconstruction_complexity_correction.py``) subtracts a constant
among images of equal PNG bits, so it cannot rank them better (``reconstruction_complexity_within_strata.py``).
Here the yardstick is per image and fits nothing: how far the same Lite0 features move when the crop is re-saved as
a JPEG. A generic lossy codec loses little on smooth crops and much on detailed ones, as the autoencoder does;
an image the autoencoder reproduces better *than JPEG would* is what this score calls generated:

    score = -log(e_autoencoder) + log(e_jpeg)

with both distances the released one (unit-normalised Lite0 features after block 2, squared difference summed over
channels, mean over positions), on the released processor's 256 px crop. Two variants, nothing fitted or searched:
JPEG quality 75 and quality 90 (PIL, 4:2:0).

Rule, written before the run: a variant replaces the released score only if it beats it by at least 0.02 AUROC on
**both** wild validation and the five new public sources of ``runs/photo_sources``, and its AUROC within fifths of
the PNG bits is not lower than the released score's on either. AI-art train (re-encoded as JPEG q90) is reported,
not used. No test split is read. The autoencoder distances come from the cache of
``learned_reconstruction_distance.py`` (``runs/learned_distance``; that script rebuilds it).

Run from the repository root (2 CPU cores: a few minutes with that cache):
    python docs/experiments/reconstruction_over_jpeg.py > docs/experiments/reconstruction_over_jpeg.log
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.modeling.base import convolution_layout
from deepfake_detectors.modeling.reconstruction_error import _ERROR_FLOOR as ERROR_FLOOR

_spec = importlib.util.spec_from_file_location(
    "learned", Path(__file__).with_name("learned_reconstruction_distance.py"))
learned = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(learned)

QUALITIES = (75, 90)
MIN_GAIN = 0.02
BLOCK_2 = learned.stage_slices()[learned.RELEASED_STAGE]


def jpeg_resaved(pixels: torch.Tensor, quality: int) -> torch.Tensor:
    """Crops ``[batch, 3, h, w]`` in [0, 1] after a JPEG round trip at ``quality`` (8-bit, PIL's 4:2:0)."""
    out = []
    for crop in pixels:
        array = (crop.permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), dtype=np.float32) / 255.0
        out.append(torch.from_numpy(decoded).permute(2, 0, 1))
    return torch.stack(out)


@torch.no_grad()
def jpeg_distances(detector: EnsembleDeepfakeDetector, images: list) -> np.ndarray:
    """``[n, len(QUALITIES)]``: the released feature distance between each crop and its JPEG re-save."""
    model, processor = detector.members["reconstruction_error"], detector.processors["reconstruction_error"]
    rows = []
    for start in range(0, len(images), learned.BATCH):
        pixel_values = processor(images[start:start + learned.BATCH], return_tensors="pt")["pixel_values"]
        pixels = (pixel_values.reshape(-1, *pixel_values.shape[-3:]).float() + 1.0) / 2.0
        pixels = (pixels * 255).round() / 255  # the 8-bit crop, as the re-save sees it
        columns = []
        for quality in QUALITIES:
            both = torch.cat([pixels, jpeg_resaved(pixels, quality)])
            features = model.features(convolution_layout(model.feature_input(both)))
            features = features / (features.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            original, resaved = features.chunk(2)
            columns.append((original - resaved).pow(2).sum(1).flatten(1).mean(1))
        rows.append(torch.stack(columns, 1).numpy())
    return np.concatenate(rows)


def main() -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(learned.RELEASED)
    stages = torch.nn.Sequential(*detector.members["reconstruction_error"].features,
                                 *learned.lite0_stages(learned.STAGES - 1, pretrained=True)[4:]).eval()
    sets = {
        "wild validation": lambda: learned.wild_split("validation"),
        "new sources": lambda: learned.first_run.selection_set("new sources"),
        "aiart train re-encoded (reported only)": lambda: learned.tiebreak.aiart_train(reencode=True),
    }
    print("| set | score | AUROC | within PNG-bits fifths |")
    print("|---|---|---|---|")
    outcome: dict[str, dict[str, tuple[float, float]]] = {}
    for set_name, load in sets.items():
        images, labels, sources = load()
        distances, bits = learned.cached(detector, stages, set_name.split(" (")[0].replace(" ", "_"), images)
        # both floored as the released score is (a flat crop is reproduced exactly by either)
        autoencoder = np.maximum(distances[:, BLOCK_2].astype(float).sum(1), ERROR_FLOOR)
        jpeg = np.maximum(jpeg_distances(detector, images).astype(float), ERROR_FLOOR)
        scores = {"released": -np.log(autoencoder)}
        for column, quality in enumerate(QUALITIES):
            scores[f"over JPEG q{quality}"] = -np.log(autoencoder) + np.log(jpeg[:, column])
        scores["JPEG q75 distance alone (minus log)"] = -np.log(jpeg[:, 0])
        outcome[set_name] = learned.report_scores(set_name, labels, sources, bits, scores)

    print("\nRule: >= +0.02 AUROC on both wild validation and new sources, within-fifths AUROC not lower on either.")
    for quality in QUALITIES:
        name = f"over JPEG q{quality}"
        gains = [outcome[s][name][0] - outcome[s]["released"][0] for s in ("wild validation", "new sources")]
        within = [outcome[s][name][1] - outcome[s]["released"][1] for s in ("wild validation", "new sources")]
        passed = min(gains) >= MIN_GAIN and min(within) >= 0
        print(f"{name}: AUROC gains {gains[0]:+.3f} / {gains[1]:+.3f}, within-fifths {within[0]:+.3f} / "
              f"{within[1]:+.3f} -> {'passes' if passed else 'fails'}")


if __name__ == "__main__":
    main()
