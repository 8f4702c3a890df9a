"""Exploratory selection run: more up-scaled real photos in training (kept as run; not library code).

The harness of npr_extra_sources.py without the new sources in training (EXTRA = 0). UPREAL=1: each wild real image
of a batch is first enlarged 1.2-2.0x (bicubic) with p = 0.25, still labelled real, so that up-sampling alone is
not evidence of a generator. Adds a third held-out figure: the web photos of people (people-photos, never trained
on here) against the nano-banana fakes, and the share of those photos above the validation 95th percentile.
STEPS=0 only evaluates the saved baseline network of npr_extra_sources.py (/tmp/exp/net_extra0.pt, step 800).

Usage: python docs/experiments/npr_upscaled_reals.py 96 800 1 npr 1   (or 96 0 1 npr 0: the baseline, evaluated)
"""
import io, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image, ImageFilter
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score
torch.set_num_threads(2); torch.manual_seed(0); rng = np.random.default_rng(0)
CROP = int(sys.argv[1]) if len(sys.argv) > 1 else 96
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 600
USE_CIFAKE = int(sys.argv[3]) if len(sys.argv) > 3 else 1
INPUT = sys.argv[4] if len(sys.argv) > 4 else 'npr'
EXTRA = 0
UPREAL = int(sys.argv[5]) if len(sys.argv) > 5 else 1
HOLD2 = {'bsd-100', 'nano-banana'}
HOLD = {'dreambooth-dogs', 'urban-100', 'sun-hays-80'}
def loadnpz(p):
    z = np.load(p); return np.stack([z[k] for k in z.files])
Xtr = loadnpz('/tmp/exp/wild_train_imgs.npz'); ytr = np.load('/tmp/exp/wild_train_labels.npy')
Xva = loadnpz('/tmp/exp/wild_validation_imgs.npz'); yva = np.load('/tmp/exp/wild_validation_labels.npy')
str_ = np.load('/tmp/exp/wild_train_sources.npy'); sva = np.load('/tmp/exp/wild_validation_sources.npy')
htr = np.isin(str_, list(HOLD)); hva = np.isin(sva, list(HOLD))
Xho = np.concatenate([Xtr[htr], Xva[hva]]); yho = np.concatenate([ytr[htr], yva[hva]])
EX = {}
for split in ['train', 'validation']:
    _t = pq.read_table(f'runs/photo_sources/data/{split}-00000-of-00001.parquet').to_pandas()
    for b, l, s in zip(_t['image'], _t['label'], _t['source']):
        EX.setdefault(s, ([], l))[0].append(np.asarray(Image.open(io.BytesIO(b['bytes'])).convert('RGB')))
XH2 = EX['bsd-100'][0] + EX['nano-banana'][0]; yH2 = np.array([0] * len(EX['bsd-100'][0]) + [1] * len(EX['nano-banana'][0]))
SKIP = HOLD2 | ({'ai-bingo'} if EXTRA == 2 else set())
XP = EX['people-photos'][0] + EX['nano-banana'][0]; yP = np.array([0] * len(EX['people-photos'][0]) + [1] * len(EX['nano-banana'][0]))
EXTRA_TRAIN = [(a, l) for s, (imgs, l) in EX.items() if s not in SKIP for a in imgs]
print('extra train', len(EXTRA_TRAIN), 'extra held-out', len(XH2), yH2.sum(), flush=True)
Xtr, ytr = Xtr[~htr], ytr[~htr]; Xva, yva = Xva[~hva], yva[~hva]
print('holdout', len(Xho), yho.sum(), 'train', len(Xtr), flush=True)
def parquet_imgs(path, n=None, seed=0):
    t = pq.read_table(path).to_pandas()
    if n: t = t.sample(n=min(n, len(t)), random_state=seed)
    return [np.asarray(Image.open(io.BytesIO(b['bytes'])).convert('RGB')) for b in t['image']], t['label'].values
art, yart = parquet_imgs('/work/shared/data/aiart/data/train-00000-of-00001.parquet', 300)
cif, ycif = parquet_imgs('/work/shared/data/cifake/data/train-00000-of-00001.parquet', 20000)
cifv, ycifv = parquet_imgs('/work/shared/data/cifake/data/validation-00000-of-00001.parquet', 1000)
cif = np.stack(cif); cifv = np.stack(cifv)
print('loaded', Xtr.shape, cif.shape, len(art), flush=True)

def augment(a, resize=True):
    im = Image.fromarray(a)
    if rng.random() < 0.5: im = im.transpose(Image.FLIP_LEFT_RIGHT)
    if resize and rng.random() < 0.25:
        s = rng.uniform(0.5, 1.5); w, h = im.size
        im = im.resize((max(CROP, int(w*s)), max(CROP, int(h*s))), Image.BICUBIC if s > 1 else Image.LANCZOS)
    if rng.random() < 0.1: im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    if rng.random() < 0.5:
        b = io.BytesIO(); im.save(b, 'JPEG', quality=int(rng.integers(60, 101))); im = Image.open(b).convert('RGB')
    return np.asarray(im)
def upscale_real(a):
    if rng.random() >= 0.25: return a
    s = rng.uniform(1.2, 2.0); im = Image.fromarray(a)
    return np.asarray(im.resize((int(im.width * s), int(im.height * s)), Image.BICUBIC))
def rand_crop(a, c):
    h, w = a.shape[:2]; y = 2*rng.integers(0, (h-c)//2+1); x = 2*rng.integers(0, (w-c)//2+1)
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
        if INPUT == 'npr':
            x = x - F.interpolate(x[:, :, ::2, ::2], scale_factor=2, mode='nearest')
            x = x * 4
        elif INPUT == 'both':
            x = torch.cat([x - 0.5, 4*(x - F.interpolate(x[:, :, ::2, ::2], scale_factor=2, mode='nearest'))], 1)
        return s.fc(F.adaptive_avg_pool2d(s.l(s.stem(x)), 1).flatten(1))[:, 0]
def T(arrs): return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).float() / 255
net = Net(cin=6 if INPUT == 'both' else 3)
opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=max(STEPS, 1), pct_start=0.1)
if STEPS == 0:  # evaluate a saved baseline network only
    net.load_state_dict(torch.load('/tmp/exp/net_extra0.pt')); STEPS, EVAL_ONLY = 1, True
    for module in net.modules():  # the one training-mode forward below must not move BatchNorm statistics
        if isinstance(module, nn.BatchNorm2d): module.momentum = 0.0
else:
    EVAL_ONLY = False
B = 32
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
t0 = time.time()
for step in range(STEPS):
    idx = rng.integers(0, len(Xtr), B)
    xb = T([rand_crop(augment(upscale_real(Xtr[i]) if UPREAL and ytr[i] == 0 else Xtr[i]), CROP) for i in idx]); yb = torch.tensor(ytr[idx]).float()
    loss = F.binary_cross_entropy_with_logits(net(xb), yb)
    if EXTRA:
        ei = rng.integers(0, len(EXTRA_TRAIN), 12)
        xe = T([rand_crop(augment(EXTRA_TRAIN[i][0]), CROP) for i in ei]); ye = torch.tensor([float(EXTRA_TRAIN[i][1]) for i in ei])
        loss = loss + 0.4 * F.binary_cross_entropy_with_logits(net(xe), ye)
    if USE_CIFAKE:
        ci = rng.integers(0, len(cif), 64)
        xc = T([augment(cif[i], False) if rng.random() < 0.3 else cif[i] for i in ci]); yc = torch.tensor(ycif[ci]).float()
        xc = xc[:, :, :32, :32]
        loss = loss + F.binary_cross_entropy_with_logits(net(xc), yc)
    if not EVAL_ONLY:
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if step % 200 == 199 or step == STEPS - 1:
        sv = score_crops(Xva, CROP); sa = score_crops([center(a) for a in art], CROP)
        sh = score_crops(Xho, CROP); thr = np.percentile(sv[yva == 0], 95)
        s2 = score_crops(XH2, CROP); sall = np.concatenate([sh, s2]); yall = np.concatenate([yho, yH2])
        msg2 = f' | new-held-out auc {roc_auc_score(yH2, s2):.3f} fpr {(s2[yH2==0] > thr).mean():.3f} tpr {(s2[yH2==1] > thr).mean():.3f} | all-held-out auc {roc_auc_score(yall, sall):.3f}'
        msg = f'step {step+1} {time.time()-t0:.0f}s loss {loss.item():.3f} wildval {roc_auc_score(yva, sv):.3f} aiart {roc_auc_score(yart, sa):.3f} holdout {roc_auc_score(yho, sh):.3f} hold_fpr {(sh[yho==0] > thr).mean():.3f} hold_tpr {(sh[yho==1] > thr).mean():.3f}'
        if USE_CIFAKE:
            sc = score_small(cifv); msg += f' cifakeval auc {roc_auc_score(ycifv, sc):.3f} acc {((sc>0)==ycifv).mean():.3f}'
        sp = score_crops(XP, CROP)
        msg2 += f' | people-vs-nano auc {roc_auc_score(yP, sp):.3f} people fpr {(sp[yP==0] > thr).mean():.3f}'
        print(msg + msg2, flush=True)
if not EVAL_ONLY:
    torch.save(net.state_dict(), f'/tmp/exp/net_upreal{UPREAL}.pt')
