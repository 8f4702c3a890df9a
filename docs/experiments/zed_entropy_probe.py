"""Zero-shot entropy evidence (idea of ZED, Cozzolino et al. ECCV 2024) on the held-out harness of npr_holdout.py.

A small pixel model of *real photographs only* predicts, at two resolutions, each 2 x 2 block's three missing pixels
from the fourth (a discretized logistic per pixel and channel). For an image it gives the coding cost (NLL, bits per
sub-pixel) and the cost the model expected (the entropy H of its own predictions); ZED's observation is that
generated images are coded more cheaply than the model expects (D = NLL - H below that of real photos). Trained on
the wild-train reals minus the held-out sources (urban-100, sun-hays-80); no fake image is used for fitting. Reports
the AUROC of fixed-direction scores (-D0, -D1, D1 - D0, -NLL0) and of a one-class Gaussian (Mahalanobis) fitted on
the training reals' feature vectors, on: wild validation (other sources), the held-out sources (urban-100 and
sun-hays-80 reals against dreambooth-dogs fakes, train and validation rows), and AI-art train (300). No test split is
read.

Variant `jpeg`: each training crop's image is first re-encoded as JPEG (quality 60-100, p = 0.5), so that the model
knows real photographs with a compression history; variant `plain` does not. The held-out sources' fakes were JPEG
q75 squares before the dataset's common q90 step and its reals were PNG benchmarks, so the probe also scores the
held-out reals after the same q75 round trip (`holdout-q75`: those reals against the same fakes) to tell a
compression detector from a generation detector.

Usage: python docs/experiments/zed_entropy_probe.py VARIANT [STEPS [SEED]]   (needs /tmp/exp from prepare_arrays.py)
"""
import io, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

VARIANT = sys.argv[1]; assert VARIANT in ('plain', 'jpeg')
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 1200
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 0
torch.set_num_threads(2); torch.manual_seed(SEED); rng = np.random.default_rng(SEED)
CROP, BATCH = 128, 16
HOLD = {'dreambooth-dogs', 'urban-100', 'sun-hays-80'}


def loadnpz(p):
    z = np.load(p); return [z[k] for k in z.files]


Xtr = loadnpz('/tmp/exp/wild_train_imgs.npz'); ytr = np.load('/tmp/exp/wild_train_labels.npy')
Xva = loadnpz('/tmp/exp/wild_validation_imgs.npz'); yva = np.load('/tmp/exp/wild_validation_labels.npy')
str_ = np.load('/tmp/exp/wild_train_sources.npy'); sva = np.load('/tmp/exp/wild_validation_sources.npy')
htr = np.isin(str_, list(HOLD)); hva = np.isin(sva, list(HOLD))
Xho = [a for a, h in zip(Xtr, htr) if h] + [a for a, h in zip(Xva, hva) if h]
yho = np.concatenate([ytr[htr], yva[hva]])
reals = [a for a, h, y in zip(Xtr, htr, ytr) if not h and y == 0]
Xva = [a for a, h in zip(Xva, hva) if not h]; yva = yva[~hva]
t = pq.read_table('/work/shared/data/aiart/data/train-00000-of-00001.parquet').to_pandas().sample(n=300, random_state=0)
art = [np.asarray(Image.open(io.BytesIO(b['bytes'])).convert('RGB')) for b in t['image']]; yart = t['label'].values
print('train reals', len(reals), 'holdout', len(Xho), int(yho.sum()), 'wildval', len(Xva), flush=True)


class PhasePredictor(nn.Module):
    """Predicts the three other pixels of every 2 x 2 block from the top-left one (and its neighbourhood)."""

    def __init__(self, width=48, blocks=4):
        super().__init__()
        self.inp = nn.Conv2d(3, width, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1))
            for _ in range(blocks))
        self.out = nn.Conv2d(width, 18, 1)

    def forward(self, context):  # context in [-1, 1], B x 3 x h x w -> mean, log scale: B x 9 x h x w each
        h = self.inp(context)
        for b in self.blocks:
            h = h + b(h)
        o = self.out(F.relu(h))
        mean = context.repeat(1, 3, 1, 1) + o[:, :9]
        return mean, o[:, 9:].clamp(-7, 3)


def split_phases(x):  # x: B x 3 x H x W uint8-valued float (H, W even)
    ctx = x[:, :, 0::2, 0::2]
    tgt = torch.cat([x[:, :, 0::2, 1::2], x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]], 1)
    return ctx / 127.5 - 1, tgt


def log_prob(values, mean, log_scale):
    """Discretized logistic log-probability (nats) of integer values 0..255 (any shape, broadcast)."""
    v = values / 127.5 - 1
    inv = torch.exp(-log_scale)
    plus = torch.sigmoid(inv * (v + 1 / 255 - mean)); minus = torch.sigmoid(inv * (v - 1 / 255 - mean))
    cdf_plus = torch.where(values > 254.5, torch.ones_like(plus), plus)
    cdf_minus = torch.where(values < 0.5, torch.zeros_like(minus), minus)
    return torch.log((cdf_plus - cdf_minus).clamp_min(1e-12))


def nll_and_entropy(model, x):
    """Per-image mean NLL and mean model entropy, in bits per sub-pixel."""
    ctx, tgt = split_phases(x)
    mean, ls = model(ctx)
    nll = -log_prob(tgt, mean, ls).mean((1, 2, 3)) / np.log(2)
    # the entropy needs all 256 values of every prediction: estimated on (at most) 1,024 random positions
    b, c, h, w = mean.shape
    gen = torch.Generator().manual_seed(h * 10007 + w)
    idx = torch.randperm(h * w, generator=gen)[:1024]
    m = mean.reshape(b, c, -1)[..., idx, None]; s = ls.reshape(b, c, -1)[..., idx, None]
    lp = log_prob(torch.arange(256.0), m, s)
    return nll, -(lp.exp() * lp).sum(-1).mean((1, 2)) / np.log(2)


def downsample(x):  # 2 x 2 average, rounded: the next level of the pyramid
    return torch.round(F.avg_pool2d(x, 2))


def jpeg(a, quality, subsampling=-1):
    b = io.BytesIO(); Image.fromarray(a).save(b, 'JPEG', quality=quality, subsampling=subsampling)
    return np.asarray(Image.open(b).convert('RGB'))


def to_tensor(a):
    h, w = a.shape[0] // 4 * 4, a.shape[1] // 4 * 4
    return torch.from_numpy(np.ascontiguousarray(a[:h, :w])).permute(2, 0, 1).float()[None]


models = [PhasePredictor(), PhasePredictor()]  # level 0 (native), level 1 (half resolution)
opt = torch.optim.Adam([p for m in models for p in m.parameters()], lr=1e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, STEPS)
t0 = time.time()
for step in range(STEPS):
    batch = []
    for i in rng.integers(0, len(reals), BATCH):
        a = reals[i]
        if VARIANT == 'jpeg' and rng.random() < 0.5:
            a = jpeg(a, int(rng.integers(60, 101)))
        h, w = a.shape[:2]; c = min(CROP, h // 8 * 8, w // 8 * 8)
        y = 8 * rng.integers(0, (h - c) // 8 + 1); x = 8 * rng.integers(0, (w - c) // 8 + 1)
        crop = a[y:y + c, x:x + c]
        if rng.random() < 0.5: crop = crop[:, ::-1]
        crop = np.ascontiguousarray(crop)
        if c < CROP: crop = np.asarray(Image.fromarray(crop).resize((CROP, CROP), Image.NEAREST))
        batch.append(crop)
    x0 = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float()
    loss = 0
    for level, m in enumerate(models):
        xl = x0 if level == 0 else downsample(x0)
        ctx, tgt = split_phases(xl); mean, ls = m(ctx)
        loss = loss - log_prob(tgt, mean, ls).mean() / np.log(2)
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if (step + 1) % 100 == 0:
        print(f'step {step + 1} {time.time() - t0:.0f}s bits/subpixel (two levels) {loss.item():.3f}', flush=True)


@torch.no_grad()
def features(images):
    rows = []
    for a in images:
        x = to_tensor(a); f = []
        for level, m in enumerate(models):
            xl = x if level == 0 else downsample(x)
            nll, ent = nll_and_entropy(m, xl)
            f += [nll.item(), ent.item(), (nll - ent).item()]
        rows.append(f)
    f = np.array(rows)  # nll0, h0, d0, nll1, h1, d1
    return np.column_stack([f, f[:, 5] - f[:, 2]])


NAMES = ['nll0', 'h0', 'd0', 'nll1', 'h1', 'd1', 'd1-d0']
torch.save({f'level{i}': m.state_dict() for i, m in enumerate(models)}, f'/tmp/exp/zed_{VARIANT}_seed{SEED}.pt')
ftr = features(reals[::3]); fva = features(Xva); fho = features(Xho); fart = features(art)
# the held-out reals after the held-out fakes' compression history: q75 (4:2:0), then the dataset's q90 4:4:4
ho_real = [a for a, y in zip(Xho, yho) if y == 0]
fq = features([jpeg(jpeg(a, 75), 90, subsampling=0) for a in ho_real])
fhoq = np.concatenate([fq, fho[yho == 1]]); yhoq = np.concatenate([np.zeros(len(fq)), np.ones(int(yho.sum()))])
yrq = np.concatenate([np.zeros(len(fq)), np.ones(len(fq))]); frq = np.concatenate([fho[yho == 0], fq])
mu = ftr.mean(0); cov = np.cov(ftr.T) + 1e-6 * np.eye(ftr.shape[1]); icov = np.linalg.inv(cov)
maha = lambda f: np.einsum('ij,jk,ik->i', f - mu, icov, f - mu)
print(f'features of reals (train, every third): mean {np.round(mu, 3).tolist()}')
for name, f, y in [('wildval', fva, yva), ('holdout', fho, yho), ('aiart', fart, yart)]:
    print(f'{name}: real mean {np.round(f[y == 0].mean(0), 3).tolist()} fake mean {np.round(f[y == 1].mean(0), 3).tolist()}')
sets = [('wildval', fva, yva), ('holdout', fho, yho), ('holdout-q75', fhoq, yhoq), ('aiart', fart, yart),
        ('q75 reals vs reals', frq, yrq)]
print('AUROC (score = fake-ness)   ' + '  '.join(n for n, _, _ in sets))
for label, fn in [('-d0', lambda f: -f[:, 2]), ('-d1', lambda f: -f[:, 5]), ('d1-d0', lambda f: f[:, 6]),
                  ('-nll0', lambda f: -f[:, 0]), ('|d0 - real mean|', lambda f: abs(f[:, 2] - mu[2])),
                  ('mahalanobis', maha)]:
    print(f'{label:18s} ' + '  '.join(f'{roc_auc_score(y, fn(f)):.3f}' for _, f, y in sets))
sva_kept = sva[~hva]
for source in sorted(set(sva_kept[yva == 1])):
    keep = (yva == 0) | (sva_kept == source)
    print(f'wildval, {source} against all wildval reals: -d0 {roc_auc_score(yva[keep], -fva[keep, 2]):.3f} '
          f'-d1 {roc_auc_score(yva[keep], -fva[keep, 5]):.3f}')
np.savez(f'/tmp/exp/zed_features_{VARIANT}_seed{SEED}.npz', ftr=ftr, fva=fva, yva=yva, fho=fho, yho=yho, fart=fart,
         yart=yart, fq=fq)
