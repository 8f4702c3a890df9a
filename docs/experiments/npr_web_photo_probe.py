"""Why web photos of people look generated to the released NPR detector: score one group of images as stored and
after one change each (grey, 4:4:4 or 4:2:0 JPEG q90 re-encoding, 0.5x / 2x resizing), next to wild validation
reals and fakes (not a test split). Prints the mean fake logit (3 x 3 crops, mean) per group and change.

Usage: python docs/experiments/npr_web_photo_probe.py   (needs runs/photo_sources from build_photo_sources.py)
"""
import io, torch, pyarrow.parquet as pq
from PIL import Image
from deepfake_detectors import NprDetectorForImageClassification, NativeCropImageProcessor
torch.set_num_threads(2)
model = NprDetectorForImageClassification.from_pretrained('hub_repos/deepfake-npr-detector').eval()
proc = NativeCropImageProcessor(crop_size=96, crops_per_side=3)
def rows(path, keep, n=120):
    t = pq.read_table(path).to_pandas(); t = t[keep(t)].head(n)
    return [Image.open(io.BytesIO(b['bytes'])).convert('RGB') for b in t['image']]
def jpeg(im, sub):
    b = io.BytesIO(); im.save(b, 'JPEG', quality=90, subsampling=sub); return Image.open(b).convert('RGB')
CHANGES = {'as stored': lambda im: im, 'grey': lambda im: im.convert('L').convert('RGB'),
           'jpeg 4:4:4': lambda im: jpeg(im, 0), 'jpeg 4:2:0': lambda im: jpeg(im, 2),
           'resize 0.5x': lambda im: im.resize((im.width // 2, im.height // 2), Image.LANCZOS),
           'resize 2x': lambda im: im.resize((im.width * 2, im.height * 2), Image.BICUBIC)}
wild = '/work/shared/data/wild/data/validation-00000-of-00001.parquet'
GROUPS = {'people-photos (real)': rows('runs/photo_sources/data/train-00000-of-00001.parquet', lambda t: t.source == 'people-photos'),
          'wild validation real': rows(wild, lambda t: t.label == 0), 'wild validation fake': rows(wild, lambda t: t.label == 1)}
@torch.no_grad()
def mean_logit(images):
    out = []
    for i in range(0, len(images), 16):
        pv = proc(images[i:i + 16])['pixel_values']; b, c = pv.shape[:2]
        lg = model(pixel_values=pv.reshape(b * c, *pv.shape[2:])).logits
        out.append((lg if lg.ndim == 1 else lg[:, -1]).reshape(b, c).mean(1))
    return torch.cat(out).mean().item()
print('group | ' + ' | '.join(CHANGES))
for group, images in GROUPS.items():
    print(group + ' | ' + ' | '.join(f'{mean_logit([f(im) for im in images]):+.2f}' for f in CHANGES.values()), flush=True)
