"""Selection run for docs/npr_selection.md (2026-12-05): does adding the CIFAKE-trained ELA + CNN or EfficientNet
to the NPR detector help on sources neither saw? (Not library code; kept as run.)

The NPR network is the held-out harness's (npr_crop_variants.py base: trained without the urban-100, sun-hays-80
and dreambooth-dogs sources), its scores at steps 500-800 read from the file that script writes. The ELA + CNN and
EfficientNet are the published repos (trained on CIFAKE only, so every wild image is new to them). Each detector's
score is standardised on the real wild-validation images of the *other* sources (mean 0, standard deviation 1), and
the combination is the mean of the standardised scores (no weight fitted). Reported: AUROC on the held-out sources
and on AI-art train (selection only), each the mean over the four NPR checkpoints. No test split is read.

Usage: python docs/experiments/npr_plus_forensic.py SCORES.npz   (needs /tmp/exp from prepare_arrays.py)
"""
import io, sys, numpy as np
from PIL import Image
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score
from deepfake_detectors import EnsembleDeepfakeDetector

HOLD = {'dreambooth-dogs', 'urban-100', 'sun-hays-80'}
def loadnpz(p):
    z = np.load(p); return [z[k] for k in z.files]
Xtr = loadnpz('/tmp/exp/wild_train_imgs.npz'); str_ = np.load('/tmp/exp/wild_train_sources.npy')
Xva = loadnpz('/tmp/exp/wild_validation_imgs.npz'); sva = np.load('/tmp/exp/wild_validation_sources.npy')
htr = np.isin(str_, list(HOLD)); hva = np.isin(sva, list(HOLD))
Xho = [a for a, h in zip(Xtr, htr) if h] + [a for a, h in zip(Xva, hva) if h]  # the harness's order
Xva = [a for a, h in zip(Xva, hva) if not h]
t = pq.read_table('/work/shared/data/aiart/data/train-00000-of-00001.parquet').to_pandas().sample(n=300, random_state=0)
art = [np.asarray(Image.open(io.BytesIO(b['bytes'])).convert('RGB')) for b in t['image']]
def center(a, m=768):
    h, w = a.shape[:2]; c = min(m, h, w) // 2 * 2; y = (h - c)//2//2*2; x = (w-c)//2//2*2; return a[y:y+c, x:x+c]
art = [center(a) for a in art]  # as the harness scored them

npr = np.load(sys.argv[1])
y = {name: npr[f'y_{name}'] for name in ('wildval', 'aiart', 'holdout')}
checkpoints = sorted({int(key.rsplit('_', 1)[1]) for key in npr.files if key.startswith('holdout_')})
others = {}
for repo in ('deepfake-ela-cnn', 'deepfake-efficientnet'):
    detector = EnsembleDeepfakeDetector.from_pretrained(f'hub_repos/{repo}', device='cpu')
    others[repo] = {name: detector.score_images([Image.fromarray(a) for a in images], batch_size=16)[0]
                    for name, images in (('wildval', Xva), ('holdout', Xho), ('aiart', art))}
    print(repo, {name: round(roc_auc_score(y[name], s), 3) for name, s in others[repo].items()}, flush=True)

def standardised(scores):
    real = scores['wildval'][y['wildval'] == 0]
    return {name: (s - real.mean()) / real.std() for name, s in scores.items()}

combos = {'npr': ['npr'], 'npr + ela': ['npr', 'deepfake-ela-cnn'], 'npr + efficientnet': ['npr', 'deepfake-efficientnet'],
          'npr + ela + efficientnet': ['npr', 'deepfake-ela-cnn', 'deepfake-efficientnet']}
table = {label: [] for label in combos}
for k in checkpoints:
    parts = {'npr': standardised({name: npr[f'{name}_{k}'] for name in ('wildval', 'aiart', 'holdout')})}
    parts.update({repo: standardised(scores) for repo, scores in others.items()})
    for label, members in combos.items():
        mean = {name: np.mean([parts[m][name] for m in members], 0) for name in ('holdout', 'aiart', 'wildval')}
        table[label].append([roc_auc_score(y[name], mean[name]) for name in ('holdout', 'aiart', 'wildval')])
for label, rows in table.items():
    m = np.mean(rows, 0)
    print(f'{label}: held-out sources {m[0]:.3f}, AI-art train {m[1]:.3f}, wild validation (other sources) {m[2]:.3f}'
          f'  (per checkpoint held-out: {", ".join(f"{r[0]:.3f}" for r in rows)})', flush=True)
