"""Further training sources for the photo detectors: public git repositories of photos and AI images.

``../shared/data/wild`` has one group of training sources (ImageNet samples, two benchmarks, Stable Diffusion 1.x /
2.x images). A detector that sees more generators and more kinds of real photos in training has less reason to key
on one generator's content or style. This module turns images from public git repositories into a `datasets`
parquet folder with wild's columns (``image``, ``label``, ``source``, ``generator``, ``original_format``,
``original_width``, ``original_height``) and wild's processing, so that format and size carry no label:

decode, EXIF orientation, RGB (alpha flattened on white), a centred crop of at most ``crop`` x ``crop`` pixels at
native resolution (offsets on the 8-pixel JPEG grid, no resampling), JPEG at ``quality`` with 4:4:4 chroma.
Images whose short side is under 256 pixels are skipped, as in wild.

Every source is checked against the list of reserved sources (kept for independent evaluation) before it is read,
and each image goes to train or validation by a seeded draw (never test: these sources are for training).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import random
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from PIL import Image, ImageOps

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class PhotoSource:
    """One group of images in a public git repository.

    Args:
        repo: ``owner/name`` on GitHub.
        patterns: globs on paths inside the repository (``fnmatch``: ``*`` also crosses ``/``); an image matching
            any of them is read.
        label: 0 = real photo, 1 = AI-generated.
        name: the ``source`` column.
        generator: the ``generator`` column (the model behind the fakes; empty for photos); ``{folder}`` stands for
            the image's top folder in the repository.
        licence: what the repository says about its licence.
        limit: keep at most this many images, the first ones in path order.

    Example:
        >>> PhotoSource("owner/repo", ("images/*.png",), 1, "owner-sdxl", "SDXL", "MIT").label
        1
    """

    repo: str
    patterns: tuple[str, ...]
    label: int
    name: str
    generator: str = ""
    licence: str = ""
    limit: Optional[int] = None


#: Folders of ComfyUI's examples that hold text-to-image outputs. ``sdxl`` and ``stable_cascade`` are left out on
#: purpose (and the SDXL-based model merges): wild test measures those generators as unseen ones.
_COMFYUI_GENERATORS = (
    "aura_flow", "chroma", "cosmos_predict2", "flux", "flux2", "hidream", "hunyuan_dit", "lcm", "lumina2",
    "omnigen", "qwen_image", "sd3", "z_image",
)
#: The further sources of the photo detectors (``scripts/build_photo_sources.py``). Each was checked against
#: ``RESERVED_SOURCES.sha256`` and shares no repository or owner with a wild test source. Left out: a GPT-4o
#: collection whose PNGs are palette-quantised (256 colours: a shortcut a detector would learn instead of the
#: generator), and repositories over the mirror's size limit.
EXTRA_PHOTO_SOURCES: tuple[PhotoSource, ...] = (
    PhotoSource("VikramShenoy97/Human-Segmentation-Dataset", ("Training_Images/*",), 0, "people-photos",
                licence="no licence file; photos of people from GRAZ-01 and web image search; research use"),
    PhotoSource("jbhuang0604/SelfExSR", ("data/BSD100/image_SRF_3/*_HR.png",), 0, "bsd-100",
                licence="academic benchmark (Berkeley segmentation photos); no licence file; research use"),
    PhotoSource("PicoTrex/Awesome-Nano-Banana-images", ("images/case*/output*", "images/pro_case*/output*"), 1,
                "nano-banana", "Gemini 2.5 Flash Image / Gemini 3 Pro Image (Nano Banana, Nano Banana Pro)",
                licence="Apache-2.0 (LICENSE file; README badge CC BY 4.0)"),
    PhotoSource("lipsumar/ai-bingo", ("public/images/prompts/*",), 1, "ai-bingo",
                "DALL-E 2, Stable Diffusion, Midjourney (2022; stored at 512 px)", "no licence file; research use"),
    PhotoSource("comfyanonymous/ComfyUI_examples", tuple(f"{folder}/*.png" for folder in _COMFYUI_GENERATORS), 1,
                "comfyui-examples", "{folder}", "repository examples; research use"),
)


def repo_digest(repo: str) -> str:
    """SHA-256 of the lower-case ``owner/name``, the form of ``RESERVED_SOURCES.sha256``."""
    return hashlib.sha256(repo.lower().encode()).hexdigest()


def check_not_reserved(sources: Iterable[PhotoSource], reserved_file: Path) -> None:
    """Raise ``ValueError`` naming every source whose repository is reserved for independent evaluation.

    Args:
        sources: the sources about to be read.
        reserved_file: ``../shared/data/RESERVED_SOURCES.sha256`` (one hex digest per line; other text ignored).

    Example:
        >>> check_not_reserved([], Path("../shared/data/RESERVED_SOURCES.sha256"))
    """
    reserved = {word for line in Path(reserved_file).read_text().splitlines() for word in line.split()}
    refused = sorted({source.repo for source in sources if repo_digest(source.repo) in reserved})
    if refused:
        raise ValueError(f"reserved for independent evaluation, never read for training: {refused}")


def repository_dir(mirror_dir: Path, repo: str) -> Path:
    """The git directory of ``repo`` under ``mirror_dir``: ``owner+name/repo``, ``owner+name`` (bare clones) or
    ``owner+name/.git``."""
    base = Path(mirror_dir) / repo.replace("/", "+")
    for candidate in (base / "repo", base, base / ".git"):
        if (candidate / "HEAD").is_file():
            return candidate
    raise FileNotFoundError(f"no git clone of {repo} under {mirror_dir} (looked for {base}/repo and {base})")


def _git(repo_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(repo_dir), *args], capture_output=True, check=True).stdout


def source_blobs(repo_dir: Path, source: PhotoSource) -> list[tuple[str, str]]:
    """``(blob id, path)`` of the source's images at HEAD, in path order, at most ``source.limit``."""
    listing = _git(repo_dir, "ls-tree", "-r", "HEAD").decode(errors="replace")
    blobs = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        if path.lower().endswith(IMAGE_SUFFIXES) and any(fnmatch.fnmatch(path, p) for p in source.patterns):
            blobs.append((meta.split()[2], path))
    blobs.sort(key=lambda blob: blob[1])
    return blobs[: source.limit] if source.limit else blobs


def normalise_photo(data: bytes, crop: int = 256, quality: int = 90) -> Optional[tuple[bytes, str, int, int]]:
    """Wild's processing of one encoded image: ``(jpeg bytes, original format, width, height)``, or None when the
    image's short side is under 256 pixels.

    Args:
        data: the encoded image.
        crop: the largest side of the centred native-resolution crop.
        quality: the JPEG quality of the output (4:4:4 chroma).

    Example:
        >>> buffer = io.BytesIO(); Image.new("RGB", (300, 400)).save(buffer, "PNG")
        >>> normalise_photo(buffer.getvalue())[1:]
        ('PNG', 300, 400)
    """
    image = Image.open(io.BytesIO(data))
    original_format, (width, height) = image.format, image.size
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image.convert("RGBA"))
    image = image.convert("RGB")
    if min(image.size) < 256:
        return None
    crop_width, crop_height = min(image.width, crop), min(image.height, crop)
    left = (image.width - crop_width) // 2 // 8 * 8
    top = (image.height - crop_height) // 2 // 8 * 8
    buffer = io.BytesIO()
    image.crop((left, top, left + crop_width, top + crop_height)).save(buffer, "JPEG", quality=quality, subsampling=0)
    return buffer.getvalue(), str(original_format), width, height


def photo_rows(repo_dir: Path, source: PhotoSource, crop: int, quality: int) -> Iterator[dict]:
    """The dataset rows of one source (images missing from the clone, undecodable or too small are skipped)."""
    for blob, path in source_blobs(repo_dir, source):
        try:
            normalised = normalise_photo(_git(repo_dir, "cat-file", "blob", blob), crop, quality)
        except (OSError, ValueError, Image.DecompressionBombError, subprocess.CalledProcessError):
            continue
        if normalised is None:
            continue
        jpeg, original_format, width, height = normalised
        yield {"image": {"bytes": jpeg, "path": f"{source.name}/{Path(path).name}"}, "label": source.label,
               "source": source.name, "generator": source.generator.replace("{folder}", path.split("/")[0]),
               "original_format": original_format,
               "original_width": width, "original_height": height}


def build_photo_dataset(
    mirror_dir: Path,
    sources: Sequence[PhotoSource],
    output_dir: Path,
    reserved_file: Path,
    crop: int = 256,
    quality: int = 90,
    validation_fraction: float = 0.15,
    seed: int = 0,
) -> dict[str, dict[str, int]]:
    """Write ``output_dir/data/{train,validation}-00000-of-00001.parquet`` and ``sources.json``.

    Args:
        mirror_dir: folder of git clones, one per repository (``owner+name``, as the tool library's fetch makes).
        sources: what to read (checked against ``reserved_file`` first).
        output_dir: the new `datasets` folder (``load_image_dataset`` and ``--dataset`` read it).
        reserved_file: ``../shared/data/RESERVED_SOURCES.sha256``.
        crop: the largest side of the centred native-resolution crop (wild: 256).
        quality: JPEG quality of the stored images (wild: 90).
        validation_fraction: the share of each source drawn into validation.
        seed: the seed of that draw.

    Returns:
        Rows per split and source.

    Example:
        >>> build_photo_dataset(Path("/work/.mirror"), EXTRA_PHOTO_SOURCES, Path("runs/photo_sources"),
        ...                     Path("../shared/data/RESERVED_SOURCES.sha256"))  # doctest: +SKIP
    """
    from datasets import ClassLabel, Dataset, Features, Value
    from datasets import Image as ImageFeature

    check_not_reserved(sources, reserved_file)
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {"train": [], "validation": []}
    provenance = {}
    for source in sources:
        repo_dir = repository_dir(mirror_dir, source.repo)
        commit = _git(repo_dir, "rev-parse", "HEAD").decode().strip()
        provenance[source.name] = {**asdict(source), "commit": commit}
        for row in photo_rows(repo_dir, source, crop, quality):
            rows["validation" if rng.random() < validation_fraction else "train"].append(row)
    features = Features({
        "image": ImageFeature(), "label": ClassLabel(names=["real", "fake"]), "source": Value("string"),
        "generator": Value("string"), "original_format": Value("string"), "original_width": Value("int32"),
        "original_height": Value("int32"),
    })
    data_dir = Path(output_dir) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    for split, split_rows in rows.items():
        columns = {name: [row[name] for row in split_rows] for name in features}
        Dataset.from_dict(columns, features=features).to_parquet(str(data_dir / f"{split}-00000-of-00001.parquet"))
        counts[split] = {}
        for row in split_rows:
            counts[split][row["source"]] = counts[split].get(row["source"], 0) + 1
    (Path(output_dir) / "sources.json").write_text(json.dumps({"sources": provenance, "rows": counts}, indent=1))
    return counts

