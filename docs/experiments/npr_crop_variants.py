"""Selection runs for docs/npr_selection.md (2026-12-04): larger crops, several crops of one image per example,
and an RGB branch next to the residual, each against the released recipe (not library code; kept as run).

Same harness as npr_holdout.py (wild train minus the held-out sources urban-100, sun-hays-80 and dreambooth-dogs,
plus CIFAKE train; 800 steps; same augmentation and network), with these variants:

    base      32 random 96 px crops per step (the released recipe)
    large160  12 random 160 px crops per step (about the same pixels per step as base)
    bag       8 images x 4 random 96 px crops per step; the loss is on the mean logit of each image's crops,
              as the detector combines its crops at inference (mean_logit)
    rgb       as base, with the RGB crop as 3 more input channels next to the NPR residual
    noresize  as base, without the 0.5-1.5x resizing augmentation (flips, blur and JPEG kept): wild images are at
              their native resolution in every split, and resizing makes or erases the up-sampling traces NPR reads
    nocifake  as base, without CIFAKE in training (added 2026-12-05: the default detector now sends CIFAKE-like images
              to EfficientNet, so NPR may specialise on photos; CIFAKE validation is still reported)
    average   as base, and two averages of its late checkpoints: the mean logit of the checkpoints at steps 500-800
              (a snapshot ensemble) and one network with the weights averaged every 20 steps from step 400 on (SWA,
              batch-norm statistics recomputed on 50 training batches)
    aligned   as base, plus 8 aligned pairs per step (added 2026-12-05): a wild-train real crop and its reconstruction
              through the FLUX.2 tiny autoencoder as the fake (Rajan et al., ICLR 2025; runs/aligned_pairs from
              scripts/make_aligned_pairs.py, pairs of the held-out sources left out), the same crop, flip and JPEG
              quality for both halves of a pair, so that only the decoder's traces tell them apart
    alignedonly  the paper's own setting: no generated image of wild train at all, each step 16 aligned pairs (32
              crops: the real crop and its reconstruction), CIFAKE term kept
    jpegall   as base, with every wild crop re-compressed (JPEG q60-100, p = 1 instead of 0.5; added 2026-12-06): the
              real and AI images of every selection set differ in how much JPEG compression they have been through
              (evaluate's jpeg_resave_change), so no training crop should be without it. Each checkpoint is also
              scored a second time with every evaluated image first re-saved once as a JPEG at quality 90 (the
              INFERJPEG lines): the same compression floor at inference as in training

Selection rule for jpegall, written before its first run (docs/npr_selection.md): it replaces the released recipe
only if, mean over steps 500-800 and over seeds 0 and 1, it beats base by >= 0.02 AUROC on both the held-out wild
sources and the new sources, without a loss in the new sources' AUROC within fifths of the re-save change (the
WITHIN line); seed 1 is run only if seed 0 is not below base on both sets. The INFERJPEG scores are judged by the
same rule against base.

Added after jpegall's seed-0 run (holdout 0.759 against base 0.856; new sources 0.458 against 0.451; with the q90
round trip at inference 0.707 / 0.554): base is scored with the round trip too (its INFERJPEG lines), since the
round trip alone might be what helps the new sources. Rule, written before those runs: the released model gains a
q90 round trip at inference only if base's INFERJPEG scores beat its plain ones by >= 0.02 on both sets, mean over
seeds 0 and 1, without a loss within re-save-change fifths.

Every 100 steps from step 500 it prints AUROC on wild validation (same sources as training), AI-art train, the
held-out sources (their train and validation rows) and CIFAKE validation; the summary line is the mean over those
four checkpoints (the held-out AUROC of one checkpoint moves by up to 0.15 from step to step). No test split is read.
Needs the arrays of prepare_arrays.py in /tmp/exp. When runs/photo_sources exists (scripts/build_photo_sources.py:
five public sources no variant trains on, the second selection set of docs/npr_selection.md), each checkpoint also
prints a NEWSRC line: AUROC on them and, at the wild-validation 95th percentile, the flagged fraction per source.

Usage: python docs/experiments/npr_crop_variants.py VARIANT [SEED [SCORES.npz]]   (base | large160 | bag | rgb | noresize | nocifake | average | aligned | alignedonly | jpegall;
    seed 0 unless given: the network's initialisation, the batches and the augmentation)
"""
import io, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image, ImageFilter
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score
VARIANT = sys.argv[1]; SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 0
torch.set_num_threads(2); torch.manual_seed(SEED); rng = np.random.default_rng(SEED)
CROP = 160 if VARIANT == 'large160' else 96
B = 12 if VARIANT == 'large160' else 32
STEPS = 800
HOLD = {'dreambooth-dogs', 'urban-100', 'sun-hays-80'}
def loadnpz(p):
    z = np.load(p); return [z[k] for k in z.files]
Xtr = loadnpz('/tmp/exp/wild_train_imgs.npz'); ytr = np.load('/tmp/exp/wild_train_labels.npy')
Xva = loadnpz('/tmp/exp/wild_validation_imgs.npz'); yva = np.load('/tmp/exp/wild_validation_labels.npy')
str_ = np.load('/tmp/exp/wild_train_sources.npy'); sva = np.load('/tmp/exp/wild_validation_sources.npy')
htr = np.isin(str_, list(HOLD)); hva = np.isin(sva, list(HOLD))
Xho = [a for a, h in zip(Xtr, htr) if h] + [a for a, h in zip(Xva, hva) if h]
yho = np.concatenate([ytr[htr], yva[hva]])
Xtr = [a for a, h in zip(Xtr, htr) if not h]; ytr = ytr[~htr]
Xva = [a for a, h in zip(Xva, hva) if not h]; yva = yva[~hva]
print('variant', VARIANT, 'seed', SEED, 'holdout', len(Xho), int(yho.sum()), 'train', len(Xtr), flush=True)
def parquet_imgs(path, n=None, seed=0):
    t = pq.read_table(path).to_pandas()
    if n: t = t.sample(n=min(n, len(t)), random_state=seed)
    return [np.asarray(Image.open(io.BytesIO(b['bytes'])).convert('RGB')) for b in t['image']], t['label'].values
art, yart = parquet_imgs('/work/shared/data/aiart/data/train-00000-of-00001.parquet', 300)
cif, ycif = parquet_imgs('/work/shared/data/cifake/data/train-00000-of-00001.parquet', 20000)
cifv, ycifv = parquet_imgs('/work/shared/data/cifake/data/validation-00000-of-00001.parquet', 1000)
cif = np.stack(cif); cifv = np.stack(cifv)
import glob
NEWSRC = sorted(glob.glob('runs/photo_sources/data/*.parquet'))
if NEWSRC:
    _n = pq.read_table(NEWSRC).to_pandas()
    Xnew = [np.asarray(Image.open(io.BytesIO(b['bytes'])).convert('RGB')) for b in _n['image']]
    ynew, snew = _n['label'].values, _n['source'].values
    print('new sources', len(Xnew), int(ynew.sum()), flush=True)
    sys.path.insert(0, 'src')
    from deepfake_detectors.evaluation.shortcuts import auroc_within_strata, jpeg_resave_change
    resave_new = np.array([jpeg_resave_change(Image.fromarray(a)) for a in Xnew])
if VARIANT.startswith('aligned'):
    _t = pq.read_table('runs/aligned_pairs/data/train-00000-of-00001.parquet').to_pandas()
    _t = _t[~_t.source.str.replace('aligned:', '').isin(HOLD)].sort_values(['pair', 'label'])
    _dec = lambda col: [np.asarray(Image.open(io.BytesIO(b['bytes'])).convert('RGB')) for b in col]
    AR = _dec(_t[_t.label == 0]['image']); AF = _dec(_t[_t.label == 1]['image'])
    print('aligned pairs', len(AR), flush=True)

def augment(a, resize=True):
    im = Image.fromarray(a)
    if rng.random() < 0.5: im = im.transpose(Image.FLIP_LEFT_RIGHT)
    if resize and VARIANT != 'noresize' and rng.random() < 0.25:
        s = rng.uniform(0.5, 1.5); w, h = im.size
        im = im.resize((max(CROP, int(w*s)), max(CROP, int(h*s))), Image.BICUBIC if s > 1 else Image.LANCZOS)
    if rng.random() < 0.1: im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    if rng.random() < (1.0 if VARIANT == 'jpegall' else 0.5):
        b = io.BytesIO(); im.save(b, 'JPEG', quality=int(rng.integers(60, 101))); im = Image.open(b).convert('RGB')
    return np.asarray(im)
def jpeg_round_trip(a, quality=90):
    b = io.BytesIO(); Image.fromarray(a).save(b, 'JPEG', quality=quality); return np.asarray(Image.open(b).convert('RGB'))
def aligned_pair(real, fake, c):
    """The same crop, flip and JPEG quality for a real crop and its reconstruction."""
    h, w = real.shape[:2]; c = min(c, h // 2 * 2, w // 2 * 2)
    y = 2*rng.integers(0, (h-c)//2+1); x = 2*rng.integers(0, (w-c)//2+1)
    flip = rng.random() < 0.5; q = int(rng.integers(60, 101)) if rng.random() < 0.5 else None
    out = []
    for a in (real, fake):
        im = Image.fromarray(a[y:y+c, x:x+c])
        if flip: im = im.transpose(Image.FLIP_LEFT_RIGHT)
        if q is not None:
            b = io.BytesIO(); im.save(b, 'JPEG', quality=q); im = Image.open(b).convert('RGB')
        out.append(np.asarray(im))
    return out
def rand_crop(a, c):
    h, w = a.shape[:2]; c = min(c, h // 2 * 2, w // 2 * 2)
    y = 2*rng.integers(0, (h-c)//2+1); x = 2*rng.integers(0, (w-c)//2+1)
    return a[y:y+c, x:x+c]
def grid_crops(a, c, k=3):
    h, w = a.shape[:2]
    ys = [2*int(round(v/2)) for v in np.linspace(0, h-c, k)]; xs = [2*int(round(v/2)) for v in np.linspace(0, w-c, k)]
    return [a[y:y+c, x:x+c] for y in ys for x in xs]

class Block(nn.Module):
    def __init__(s, i, o, st):
        super().__init__()
        s.c1 = nn.Conv2d(i, o, 3, st, 1, bias=False); s.b1 = nn.BatchNorm2d(o)
        s.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(o)
        s.sk = nn.Sequential() if (i == o and st == 1) else nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), nn.BatchNorm2d(o))
    def forward(s, x): return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x))))) + s.sk(x))
class Net(nn.Module):
    def __init__(s, w=32, cin=3):
        super().__init__()
        s.stem = nn.Sequential(nn.Conv2d(cin, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
        s.l = nn.Sequential(Block(w, w, 2), Block(w, 2*w, 2), Block(2*w, 4*w, 2), Block(4*w, 4*w, 1))
        s.fc = nn.Linear(4*w, 1)
    def forward(s, x):
        r = 4 * (x - F.interpolate(x[:, :, ::2, ::2], scale_factor=2, mode='nearest'))
        x = torch.cat([x - 0.5, r], 1) if VARIANT == 'rgb' else r
        return s.fc(F.adaptive_avg_pool2d(s.l(s.stem(x)), 1).flatten(1))[:, 0]
def T(arrs): return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).float() / 255
net = Net(cin=6 if VARIANT == 'rgb' else 3)
opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=STEPS, pct_start=0.1)
@torch.no_grad()
def score_crops(imgs, c):
    net.eval(); out = []
    for a in imgs:
        cr = grid_crops(a, c) if min(a.shape[:2]) > c else [a[:a.shape[0]//2*2, :a.shape[1]//2*2]]
        out.append(net(T(cr)).mean().item())
    net.train(); return np.array(out)
@torch.no_grad()
def score_small(X):
    net.eval(); out = np.concatenate([net(T(X[i:i+256])).numpy() for i in range(0, len(X), 256)]); net.train(); return out
def center(a, m=768):
    h, w = a.shape[:2]; c = min(m, h, w) // 2 * 2; y = (h - c)//2//2*2; x = (w-c)//2//2*2; return a[y:y+c, x:x+c]
def same_shape_crops(imgs, c):
    crops = [rand_crop(a, c) for a in imgs]; c = min(min(x.shape[:2]) for x in crops)
    return [x[:c, :c] for x in crops]
t0 = time.time(); rows = []; snapshots = []; newrows = []; jrows = []
swa = torch.optim.swa_utils.AveragedModel(net) if VARIANT == 'average' else None
def train_batches():
    idx = rng.integers(0, len(Xtr), B); ci = rng.integers(0, len(cif), 64)
    return T(same_shape_crops([augment(Xtr[i]) for i in idx], CROP)), T(list(cif[ci]))
for step in range(STEPS):
    if VARIANT == 'alignedonly':
        pairs = [aligned_pair(AR[i], AF[i], CROP) for i in rng.integers(0, len(AR), 16)]
        c = min(p[0].shape[0] for p in pairs)
        logit = net(T([p[k][:c, :c] for p in pairs for k in (0, 1)])); yb = torch.tensor([0., 1.] * len(pairs))
    elif VARIANT == 'bag':
        idx = rng.integers(0, len(Xtr), 8)
        xb = T(same_shape_crops([augment(Xtr[i]) for i in idx for _ in range(4)], CROP))
        logit = net(xb).view(8, 4).mean(1); yb = torch.tensor(ytr[idx]).float()
    else:
        idx = rng.integers(0, len(Xtr), B)
        xb = T(same_shape_crops([augment(Xtr[i]) for i in idx], CROP)); yb = torch.tensor(ytr[idx]).float()
        logit = net(xb)
    if VARIANT == 'aligned':
        pairs = [aligned_pair(AR[i], AF[i], CROP) for i in rng.integers(0, len(AR), 8)]
        c = min(xb.shape[-1], min(p[0].shape[0] for p in pairs))
        xa = T([p[k][:c, :c] for p in pairs for k in (0, 1)]); ya = torch.tensor([0., 1.] * len(pairs))
        logit = torch.cat([net(xb[:, :, :c, :c]), net(xa)]); yb = torch.cat([yb, ya])
    loss = F.binary_cross_entropy_with_logits(logit, yb)
    ci = rng.integers(0, len(cif), 64)
    xc = T([augment(cif[i], False) if rng.random() < 0.3 else cif[i] for i in ci]); yc = torch.tensor(ycif[ci]).float()
    if VARIANT != 'nocifake':
        loss = loss + F.binary_cross_entropy_with_logits(net(xc[:, :, :32, :32]), yc)
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if swa is not None and step + 1 >= 400 and (step + 1) % 20 == 0:
        swa.update_parameters(net)
    if step + 1 >= 500 and (step + 1) % 100 == 0:
        sv = score_crops(Xva, CROP); sa = score_crops([center(a) for a in art], CROP)
        sh = score_crops(Xho, CROP); thr = np.percentile(sv[yva == 0], 95); sc = score_small(cifv)
        row = [roc_auc_score(yva, sv), roc_auc_score(yart, sa), roc_auc_score(yho, sh), (sh[yho == 0] > thr).mean(),
               (sh[yho == 1] > thr).mean(), roc_auc_score(ycifv, sc), ((sc > 0) == ycifv).mean()]
        rows.append(row); snapshots.append((sv, sa, sh, sc))
        if NEWSRC:
            sn = score_crops(Xnew, CROP)
            flagged = ' '.join(f'{src} {(sn[snew == src] > thr).mean():.3f}' for src in sorted(set(snew)))
            newrows.append((roc_auc_score(ynew, sn), auroc_within_strata(ynew, sn, resave_new)))
            print(f'NEWSRC step {step+1} auroc {newrows[-1][0]:.3f} flagged at the wildval 95th pct: {flagged}', flush=True)
            print(f'WITHIN step {step+1} new sources auroc within re-save-change fifths {newrows[-1][1]:.3f}', flush=True)
        if VARIANT in ('jpegall', 'base'):
            jv, jh = score_crops([jpeg_round_trip(a) for a in Xva], CROP), score_crops([jpeg_round_trip(a) for a in Xho], CROP)
            jn = score_crops([jpeg_round_trip(a) for a in Xnew], CROP) if NEWSRC else None
            jrows.append((roc_auc_score(yva, jv), roc_auc_score(yho, jh)) + ((roc_auc_score(ynew, jn), auroc_within_strata(ynew, jn, resave_new)) if NEWSRC else ()))
            print(f'INFERJPEG step {step+1} wildval {jrows[-1][0]:.3f} holdout {jrows[-1][1]:.3f}'
                  + (f' new sources {jrows[-1][2]:.3f} within re-save-change fifths {jrows[-1][3]:.3f}' if NEWSRC else ''), flush=True)
        print(f'step {step+1} {time.time()-t0:.0f}s loss {loss.item():.3f} wildval {row[0]:.3f} aiart {row[1]:.3f} '
              f'holdout {row[2]:.3f} hold_fpr {row[3]:.3f} hold_tpr {row[4]:.3f} cifakeval auc {row[5]:.3f} acc {row[6]:.3f}',
              flush=True)
if len(sys.argv) > 3:  # a file for the checkpoints' scores (npr_plus_forensic.py combines them with other detectors)
    np.savez(sys.argv[3], **{f'{name}_{k}': part for k, snap in enumerate(snapshots)
                             for name, part in zip(('wildval', 'aiart', 'holdout', 'cifakeval'), snap)},
             y_wildval=yva, y_aiart=yart, y_holdout=yho)
m = np.mean(rows, 0)
print(f'MEAN steps 500-800 {VARIANT}: wildval {m[0]:.3f} aiart {m[1]:.3f} holdout {m[2]:.3f} hold_fpr {m[3]:.3f} '
      f'hold_tpr {m[4]:.3f} cifakeval auc {m[5]:.3f} acc {m[6]:.3f}', flush=True)
if newrows:
    m2 = np.mean(newrows, 0)
    print(f'MEAN steps 500-800 {VARIANT}: new sources auroc {m2[0]:.3f} within re-save-change fifths {m2[1]:.3f}', flush=True)
if jrows:
    print(f'MEAN steps 500-800 {VARIANT} INFERJPEG: ' + ' '.join(f'{k} {v:.3f}' for k, v in zip(
        ('wildval', 'holdout', 'new sources', 'within re-save-change fifths'), np.mean(jrows, 0))), flush=True)
def report(label, sv, sa, sh, sc):
    thr = np.percentile(sv[yva == 0], 95)
    print(f'{label}: wildval {roc_auc_score(yva, sv):.3f} aiart {roc_auc_score(yart, sa):.3f} '
          f'holdout {roc_auc_score(yho, sh):.3f} hold_fpr {(sh[yho == 0] > thr).mean():.3f} '
          f'hold_tpr {(sh[yho == 1] > thr).mean():.3f} cifakeval auc {roc_auc_score(ycifv, sc):.3f} '
          f'acc {((sc > 0) == ycifv).mean():.3f}', flush=True)
if swa is not None:
    report('SNAPSHOT mean logit of steps 500-800', *[np.mean(parts, 0) for parts in zip(*snapshots)])
    with torch.no_grad():  # batch-norm statistics of the averaged weights, on batches drawn as in training
        for module in swa.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats(); module.momentum = None
        swa.train()
        for _ in range(50):
            for batch in train_batches():
                swa(batch[:, :, :32, :32] if batch.shape[-1] == 32 else batch)
    net = swa.module
    report('SWA weights of steps 400-800', score_crops(Xva, CROP), score_crops([center(a) for a in art], CROP),
           score_crops(Xho, CROP), score_small(cifv))
