"""Which crops should the released NPR detector trust? Crop selection by texture, inference only (2026-12-05).

Smooth crops (sky, skin, bokeh) carry almost no neighbouring-pixel residual after JPEG compression, so their logits
may be noise that the plain mean lets in. This scores a 5 x 5 grid of 96 px crops per image with the released
`hub_repos/deepfake-npr-detector` and combines the crop logits in several ways: the plain mean of the 3 x 3 grid (the
released setting), the plain mean of the 5 x 5 grid, the mean of the k most textured crops (texture = mean absolute
NPR residual of the crop) and a texture-weighted mean. Data: wild validation (the released model's own sources,
in-sample) and the five public sources of runs/photo_sources that it never saw. No test split is read.

Usage: python docs/experiments/npr_texture_crops.py   (log: npr_texture_crops.log)
"""
import io, glob, numpy as np, torch, torch.nn.functional as F, pyarrow.parquet as pq
from PIL import Image
from sklearn.metrics import roc_auc_score
from deepfake_detectors import NprDetectorForImageClassification, NativeCropImageProcessor
torch.set_num_threads(2)
model = NprDetectorForImageClassification.from_pretrained('hub_repos/deepfake-npr-detector').eval()

def load(paths):
    t = pq.read_table(paths).to_pandas()
    return [Image.open(io.BytesIO(b['bytes'])).convert('RGB') for b in t['image']], t['label'].values, t['source'].values

def crop_logits_and_texture(imgs, per_side):
    proc = NativeCropImageProcessor(crop_size=96, crops_per_side=per_side)
    logits, texture = [], []
    with torch.no_grad():
        for i in range(0, len(imgs), 16):
            pv = proc(imgs[i:i + 16])['pixel_values']; b, c = pv.shape[:2]; x = pv.reshape(b * c, *pv.shape[2:])
            out = model(pixel_values=x); lg = out.logits if out.logits.ndim == 1 else out.logits[:, -1]
            residual = x - F.interpolate(x[:, :, ::2, ::2], scale_factor=2, mode='nearest')
            logits.append(lg.reshape(b, c).numpy()); texture.append(residual.abs().mean((1, 2, 3)).reshape(b, c).numpy())
    return np.concatenate(logits), np.concatenate(texture)

sets = {'wild validation (in-sample sources)': load(sorted(glob.glob('/work/shared/data/wild/data/validation-*.parquet'))),
        'new sources (never trained on)': load(sorted(glob.glob('runs/photo_sources/data/*.parquet')))}
for name, (imgs, y, src) in sets.items():
    L3, _ = crop_logits_and_texture(imgs, 3); L5, T5 = crop_logits_and_texture(imgs, 5)
    order = np.argsort(-T5, 1)
    rules = {'3x3 mean (released)': L3.mean(1), '5x5 mean': L5.mean(1)}
    for k in (3, 5, 9):
        rules[f'5x5 top-{k} textured'] = np.take_along_axis(L5, order[:, :k], 1).mean(1)
    rules['5x5 texture-weighted'] = (L5 * T5).sum(1) / T5.sum(1)
    rules['5x5 least textured 9 (contrast)'] = np.take_along_axis(L5, order[:, -9:], 1).mean(1)
    print(f'== {name}: {len(y)} images, {int(y.sum())} AI', flush=True)
    for rule, s in rules.items():
        row = f'{rule:34s} AUROC {roc_auc_score(y, s):.3f}'
        for g in sorted(set(src[y == 0])):
            m = (y == 1) | (src == g); row += f' | reals {g} {roc_auc_score(y[m], s[m]):.3f}'
        print(row, flush=True)
