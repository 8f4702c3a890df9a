"""Selection run (2026-12-05): the zero-shot entropy surprise next to the NPR detector on sources neither saw.

Reads the harness NPR network's scores (npr_crop_variants.py base 0 SCORES.npz: trained without urban-100,
sun-hays-80 and dreambooth-dogs; checkpoints at steps 500-800) and the features zed_entropy_probe.py saved (its pixel
model trained on the real photos of the other sources only). Each score is standardised on the real wild-validation
images of the other sources; the combination is the mean of the two (no weight fitted). AUROC on wild validation
(other sources), the held-out sources and AI-art train, the NPR figures averaged over its four checkpoints. No test
split is read.

Usage: python docs/experiments/zed_plus_npr.py NPR_SCORES.npz ZED_FEATURES.npz
"""
import sys, numpy as np
from sklearn.metrics import roc_auc_score

npr, zed = np.load(sys.argv[1]), np.load(sys.argv[2])
y = {'wildval': zed['yva'], 'holdout': zed['yho'], 'aiart': zed['yart']}
for name in y:
    assert np.array_equal(npr[f'y_{name}'], y[name]), name  # the same images in the same order
surprise = {'wildval': -zed['fva'][:, 5], 'holdout': -zed['fho'][:, 5], 'aiart': -zed['fart'][:, 5]}  # -D1
real = y['wildval'] == 0
checkpoints = sorted({int(k.rsplit('_', 1)[1]) for k in npr.files if k.startswith('holdout_')})
rows = {'NPR alone': [], 'entropy surprise alone': [], 'mean of the two': []}
for c in checkpoints:
    n = {name: npr[f'{name}_{c}'] for name in y}
    std = lambda s: (s - s['wildval'][real].mean()) / s['wildval'][real].std()
    zn = {name: (surprise[name] - surprise['wildval'][real].mean()) / surprise['wildval'][real].std() for name in y}
    nn_ = {name: (n[name] - n['wildval'][real].mean()) / n['wildval'][real].std() for name in y}
    rows['NPR alone'].append([roc_auc_score(y[k], nn_[k]) for k in y])
    rows['entropy surprise alone'].append([roc_auc_score(y[k], zn[k]) for k in y])
    rows['mean of the two'].append([roc_auc_score(y[k], (nn_[k] + zn[k]) / 2) for k in y])
print('AUROC, mean over NPR checkpoints', checkpoints, '   ' + '  '.join(y))
for label, values in rows.items():
    print(f'{label:24s} ' + '  '.join(f'{v:.3f}' for v in np.mean(values, 0)))
