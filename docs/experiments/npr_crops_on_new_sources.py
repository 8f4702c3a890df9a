"""Crop count and aggregation of the released NPR detector on sources it never saw (runs/photo_sources)."""
import io, numpy as np, torch, pyarrow.parquet as pq
from PIL import Image
from sklearn.metrics import roc_auc_score
from deepfake_detectors import NprDetectorForImageClassification, NativeCropImageProcessor
torch.set_num_threads(1)
model = NprDetectorForImageClassification.from_pretrained('hub_repos/deepfake-npr-detector').eval()
imgs, ys, srcs = [], [], []
for split in ['train', 'validation']:
    t = pq.read_table(f'runs/photo_sources/data/{split}-00000-of-00001.parquet').to_pandas()
    for b, l, s in zip(t['image'], t['label'], t['source']):
        imgs.append(Image.open(io.BytesIO(b['bytes'])).convert('RGB')); ys.append(l); srcs.append(s)
ys = np.array(ys); srcs = np.array(srcs)
for k in [2, 3, 4, 5]:
    proc = NativeCropImageProcessor(crop_size=96, crops_per_side=k)
    logits = []
    with torch.no_grad():
        for i in range(0, len(imgs), 32):
            pv = proc(imgs[i:i+32])['pixel_values']
            b, c = pv.shape[:2]
            out = model(pixel_values=pv.reshape(b * c, *pv.shape[2:]))
            lg = out.logits if out.logits.ndim == 1 else out.logits[:, -1]
            logits.append(lg.reshape(b, c).numpy())
    L = np.concatenate(logits)
    for name, agg in [('mean', L.mean(1)), ('top2', np.sort(L, 1)[:, -2:].mean(1)), ('max', L.max(1)), ('median', np.median(L, 1))]:
        row = f'k={k} {name:6s} all {roc_auc_score(ys, agg):.3f}'
        for fake in ['nano-banana', 'ai-bingo', 'comfyui-examples']:
            m = (ys == 0) | (srcs == fake); row += f' {fake} {roc_auc_score(ys[m], agg[m]):.3f}'
        m = (srcs == 'bsd-100') | (ys == 1); row += f' | reals bsd-only {roc_auc_score(ys[m], agg[m]):.3f}'
        m = (srcs == 'people-photos') | (ys == 1); row += f' people-only {roc_auc_score(ys[m], agg[m]):.3f}'
        print(row, flush=True)
