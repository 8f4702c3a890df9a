"""A training-free score: how well does an image autoencoder reconstruct the image? (2026-12-05, inference only)

AEROBLADE (Ricker et al., CVPR 2024) finds latent-diffusion images closer to their autoencoder's reconstruction than
real photos are. The only image autoencoder available here is the tiny FLUX.2 one of the MIT-licensed
`madebyollin/taesd` (no wild train or test generator uses it), so this asks whether the effect carries over to other
generators. Scores (higher = more likely AI): minus the reconstruction error (mean absolute, and in the
neighbouring-pixel residual NPR reads), and the reconstruction error divided by the error of reconstructing the
reconstruction (an image's own complexity raises both). Nothing is fitted, so every split but test is fair data:
wild train (600 drawn) and validation, and the five public sources of runs/photo_sources. No test split is read.

Usage: python docs/experiments/taef2_reconstruction_probe.py TAESD_DIR   (log: taef2_reconstruction_probe.log)
"""
import io, sys, glob, numpy as np, torch, torch.nn.functional as F, pyarrow.parquet as pq
from PIL import Image
from sklearn.metrics import roc_auc_score
from deepfake_detectors.training.aligned_pairs import TinyAutoencoder
torch.set_num_threads(2)
ae = TinyAutoencoder(f'{sys.argv[1]}/taef2_encoder.pth', f'{sys.argv[1]}/taef2_decoder.pth')

def load(paths, n=None):
    t = pq.read_table(paths).to_pandas()
    if n: t = t.sample(n=n, random_state=0)
    return [Image.open(io.BytesIO(b['bytes'])).convert('RGB') for b in t['image']], t['label'].values, t['source'].values

@torch.no_grad()
def errors(image):
    w, h = image.width // 8 * 8, image.height // 8 * 8
    x = torch.from_numpy(np.asarray(image.crop((0, 0, w, h)), dtype=np.float32) / 255).permute(2, 0, 1)[None]
    r1 = ae.decoder(ae.encoder(x)).clamp(0, 1); r2 = ae.decoder(ae.encoder(r1)).clamp(0, 1)
    npr = lambda z: z - F.interpolate(z[:, :, ::2, ::2], scale_factor=2, mode='nearest')
    e1 = (x - r1).abs().mean().item(); e2 = (r1 - r2).abs().mean().item()
    return e1, (npr(x) - npr(r1)).abs().mean().item(), e1 / max(e2, 1e-6)

sets = {'wild train (600 drawn)': load(sorted(glob.glob('/work/shared/data/wild/data/train-*.parquet')), 600),
        'wild validation': load(sorted(glob.glob('/work/shared/data/wild/data/validation-*.parquet'))),
        'new sources': load(sorted(glob.glob('runs/photo_sources/data/*.parquet')))}
for name, (imgs, y, src) in sets.items():
    E = np.array([errors(im) for im in imgs])
    print(f'== {name}: {len(y)} images, {int(y.sum())} AI', flush=True)
    for j, score in enumerate(['-L1 error', '-NPR-residual error', '-error ratio r1/r2']):
        s = -E[:, j]; row = f'{score:20s} AUROC {roc_auc_score(y, s):.3f}'
        for g in sorted(set(src)):
            m = (src == g) | (y != (y[src == g][0])); row += f' | {g} {roc_auc_score(y[m], s[m]):.3f}'
        print(row, flush=True)
