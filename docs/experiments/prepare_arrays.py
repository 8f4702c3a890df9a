"""Decode wild train / validation into arrays for npr_holdout.py (writes /tmp/exp; run from anywhere)."""
import io, numpy as np, pyarrow.parquet as pq
from PIL import Image
def load(path, max_side=256):
    t = pq.read_table(path).to_pandas()
    imgs=[]
    for b in t['image']:
        im = Image.open(io.BytesIO(b['bytes'])).convert('RGB')
        imgs.append(np.asarray(im))
    return imgs, t
for split in ['train','validation']:
    imgs, t = load(f'/work/shared/data/wild/data/{split}-00000-of-00001.parquet')
    print(split, len(imgs), t.columns.tolist())
    print(t.groupby(['label','source']).size())
    shapes = np.array([i.shape[:2] for i in imgs]); print('min side', shapes.min(), 'median', np.median(shapes,0))
    np.save(f'/tmp/exp/wild_{split}_labels.npy', t['label'].values)
    np.save(f'/tmp/exp/wild_{split}_sources.npy', np.asarray(t['source'].tolist(), dtype=str))
    np.savez(f'/tmp/exp/wild_{split}_imgs.npz', *imgs)
t = pq.read_table('/work/shared/data/aiart/data/train-00000-of-00001.parquet').to_pandas()
print('aiart', t.columns.tolist(), len(t), t['label'].value_counts())
