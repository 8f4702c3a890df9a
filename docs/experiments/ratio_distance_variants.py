"""Which distance should the reconstruction ratio use? (2026-12-05, inference only, no test split)

The released `deepfake-reconstruction-ratio` scores log(e2 / e1), with e1 the mean absolute pixel error between an
image and its reconstruction through the FLUX.2 tiny autoencoder and e2 the same between the reconstruction and its
own reconstruction. AEROBLADE (Ricker et al., CVPR 2024) found a perceptual distance (LPIPS on early VGG layers) far
better than pixel error; LPIPS's learned layer weights and VGG are not available offline, so this measures
LPIPS-style distances on the early stages of the ImageNet EfficientNet-Lite0 (channel-normalised features, squared
difference, spatial mean; no learned weights), plus squared error, luminance, a high-pass residual, block-wise
ratios and a third reconstruction.

Phase 1 caches the image and three successive reconstructions per image (float16, /tmp/ratio_cache, ~25 min on 2
CPU cores); phase 2 scores every variant in a few minutes. Sets: wild validation (the released detector's
calibration split; nothing was trained on it) and the five public sources of runs/photo_sources (the second
selection set). Decision rule written before the run: a variant replaces the released score only if it beats it by
at least 0.02 AUROC on both sets.

Usage: python docs/experiments/ratio_distance_variants.py TAESD_DIR   (log: ratio_distance_variants.log)
"""
import glob
import io
import os
import sys

import numpy as np
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.metrics import roc_auc_score

from deepfake_detectors.evaluation import auroc_against_other_class
from deepfake_detectors.features.backbones import EFFICIENTNET_LITE_INPUT, load_efficientnet_lite0
from deepfake_detectors.modeling.tiny_autoencoder import tiny_decoder, tiny_encoder, load_tiny_weights

torch.set_num_threads(2)
CACHE = "/tmp/ratio_cache"
SETS = {
    "wild validation": sorted(glob.glob("/work/shared/data/wild/data/validation-*.parquet")),
    "new sources": sorted(glob.glob("runs/photo_sources/data/*.parquet")),
}


def cache_set(name, paths, encoder, decoder):
    path = f"{CACHE}/{name.replace(' ', '_')}.npz"
    if os.path.exists(path):
        return
    table = pq.read_table(paths).to_pandas()
    arrays = {"labels": table["label"].values.astype(np.int64)}
    with torch.no_grad():
        for i, cell in enumerate(table["image"]):
            image = Image.open(io.BytesIO(cell["bytes"])).convert("RGB")
            w, h = image.width // 8 * 8, image.height // 8 * 8
            x = torch.from_numpy(np.asarray(image.crop((0, 0, w, h)), dtype=np.float32) / 255).permute(2, 0, 1)[None]
            arrays[f"x{i}"] = (x[0] * 255).round().byte().numpy()
            current = x
            for k in (1, 2, 3):
                current = decoder(encoder(current)).clamp(0, 1)
                arrays[f"r{k}_{i}"] = current[0].half().numpy()
            if i % 100 == 0:
                print(f"cached {name} {i}/{len(table)}", flush=True)
    np.savez(path, **arrays)


def main() -> None:
    os.makedirs(CACHE, exist_ok=True)
    encoder, decoder = tiny_encoder(32, True), tiny_decoder(32, True)
    load_tiny_weights(encoder, f"{sys.argv[1]}/taef2_encoder.pth")
    load_tiny_weights(decoder, f"{sys.argv[1]}/taef2_decoder.pth")
    encoder.eval(), decoder.eval()
    for name, paths in SETS.items():
        cache_set(name, paths, encoder, decoder)

    lite0 = load_efficientnet_lite0(num_classes=0)
    mean = torch.tensor(EFFICIENTNET_LITE_INPUT["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(EFFICIENTNET_LITE_INPUT["std"]).view(1, 3, 1, 1)

    def stages(t):
        """Channel-normalised features after the stem and after blocks 0, 1, 2 (strides 2, 2, 4, 8)."""
        h = lite0.bn1(lite0.conv_stem((t - mean) / std))
        out = [h]
        for b in lite0.blocks[:3]:
            h = b(h)
            out.append(h)
        return [f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10) for f in out]

    gray = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    high = lambda z: z - F.avg_pool2d(F.pad(z, (1, 1, 1, 1), mode="replicate"), 3, 1)

    def block_log_ratio(a, b, c, size=32):
        e1 = F.avg_pool2d((a - b).abs().mean(1, keepdim=True), size, ceil_mode=True)
        e2 = F.avg_pool2d((b - c).abs().mean(1, keepdim=True), size, ceil_mode=True)
        return torch.log((e2 + 1e-6) / (e1 + 1e-6)).flatten()

    for name in SETS:
        data = np.load(f"{CACHE}/{name.replace(' ', '_')}.npz")
        y = data["labels"]
        src = np.array(pq.read_table(SETS[name], columns=["source"]).column("source").to_pylist(), dtype=str)
        rows = {}
        with torch.no_grad():
            for i in range(len(y)):
                x = torch.from_numpy(data[f"x{i}"]).float()[None] / 255
                r1, r2, r3 = (torch.from_numpy(data[f"r{k}_{i}"]).float()[None] for k in (1, 2, 3))
                d = lambda a, b, f=lambda z: z, p=1: (f(a) - f(b)).abs().pow(p).mean().item()
                s = {}
                e1, e2, e3 = d(x, r1), d(r1, r2), d(r2, r3)
                s["L1 log(e2/e1) (released)"] = np.log(e2 / e1)
                s["-L1 e1"] = -e1
                s["L1 log(e3/e2)"] = np.log(e3 / e2)
                s["L1 log(e2/e1) - log(e3/e2)"] = np.log(e2 / e1) - np.log(e3 / e2)
                s["L2 log(e2/e1)"] = np.log(d(r1, r2, p=2) / d(x, r1, p=2))
                g = lambda z: (z * gray).sum(1, keepdim=True)
                s["luma L1 log(e2/e1)"] = np.log(d(r1, r2, g) / d(x, r1, g))
                s["high-pass L1 log(e2/e1)"] = np.log(d(r1, r2, high) / d(x, r1, high))
                br = block_log_ratio(x, r1, r2)
                s["32px blocks: median log ratio"] = br.median().item()
                s["32px blocks: 25th pct log ratio"] = br.quantile(0.25).item()
                fx, f1, f2 = stages(x), stages(r1), stages(r2)
                lp1 = [(a - b).pow(2).sum(1).mean().item() for a, b in zip(fx, f1)]
                lp2 = [(a - b).pow(2).sum(1).mean().item() for a, b in zip(f1, f2)]
                for k in range(4):
                    s[f"Lite0 stage {k} log(e2/e1)"] = np.log(lp2[k] / lp1[k])
                    s[f"Lite0 stage {k} -e1"] = -lp1[k]
                s["Lite0 stages 0-3 summed log(e2/e1)"] = np.log(sum(lp2) / sum(lp1))
                for key, value in s.items():
                    rows.setdefault(key, []).append(value)
        print(f"== {name}: {len(y)} images, {int(y.sum())} AI", flush=True)
        for key, values in rows.items():
            v = np.nan_to_num(np.asarray(values), nan=0.0)
            per_source = auroc_against_other_class(y, v, src)
            line = f"{key:38s} AUROC {roc_auc_score(y, v):.3f}"
            print(line + "".join(f" | {g} {a:.3f}" for g, a in per_source.items()), flush=True)


if __name__ == "__main__":
    main()
