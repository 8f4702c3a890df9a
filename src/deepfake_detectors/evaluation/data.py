"""Labelled evaluation images from a folder (``real/`` and ``fake/``) or a ``datasets`` source.

Labels follow the package convention: real = 0, fake = 1.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
from PIL import Image

from ..processing import IMAGE_EXTENSIONS

#: Class folder names (compared case-insensitively) and their labels.
CLASS_FOLDERS = {"real": 0, "fake": 1}
#: Dataset columns that name where each image came from; evaluation reports figures per value of each.
GROUP_COLUMNS = ("source", "generator")


@dataclass
class LabelledImages:
    """Images with real (0) / fake (1) labels, ready for a detector.

    Attributes:
        images: one item per image that ``deepfake_detectors.processing.load_image`` accepts: a file path (folder
            sources) or a lazily decoded PIL image (``datasets`` sources; raw bytes for a row whose header cannot
            be read, so the loader reports that row instead of the whole data set failing).
        labels: int array, 0 = real, 1 = fake.
        names: file path, the dataset's ``source_file`` value, or ``"{split}[{row}]"``.
        source: the folder or dataset the images came from.
        split: the split read; ``""`` for a plain folder without split subfolders.
        groups: the dataset's ``source`` and ``generator`` columns, when it has them (one value per image), for
            per-source and per-generator figures; empty for folders.

    Example:
        >>> data = load_labelled_images("../shared/data/cifake", split="test", limit=20)
        >>> len(data), int(data.labels.sum())
        (20, 10)
    """

    images: list
    labels: np.ndarray
    names: list[str]
    source: str
    split: str
    groups: dict[str, list] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def n_real(self) -> int:
        return int(np.sum(self.labels == 0))

    @property
    def n_fake(self) -> int:
        return int(np.sum(self.labels == 1))


def stratified_indices(labels: np.ndarray, limit: Optional[int], seed: int = 0) -> np.ndarray:
    """Pick at most ``limit`` row indices, about half real and half fake, deterministically.

    When both classes are present each gets half of ``limit`` (the extra one of an odd limit goes to the fakes);
    a class with too few rows gives its share to the other. Rows are drawn without replacement with
    ``numpy.random.default_rng(seed)`` and returned in their original order.

    Args:
        labels: 0/1 label per row.
        limit: how many rows to keep at most; ``None`` keeps all.
        seed: seed of the random draw.

    Example:
        >>> stratified_indices(np.array([0, 0, 0, 0, 1, 1]), limit=4, seed=0).size
        4
    """
    labels = np.asarray(labels)
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be a positive number of images, got {limit}")
    if limit is None or limit >= labels.size:
        return np.arange(labels.size)
    real_rows, fake_rows = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    n_real = min(real_rows.size, limit // 2)
    n_fake = min(fake_rows.size, limit - n_real)
    n_real = min(real_rows.size, limit - n_fake)
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [rng.choice(real_rows, size=n_real, replace=False), rng.choice(fake_rows, size=n_fake, replace=False)]
    )
    return np.sort(chosen.astype(np.int64))


# --------------------------------------------------------------------------------------------------- folders


def _class_folders(folder: Path) -> dict[int, list[Path]]:
    """Subfolders of ``folder`` named real / fake in any case, by label."""
    found: dict[int, list[Path]] = {}
    for child in sorted(folder.iterdir()):
        label = CLASS_FOLDERS.get(child.name.lower())
        if label is not None and child.is_dir():
            found.setdefault(label, []).append(child)
    return found


def _image_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively, by extension, any case), hidden files and folders skipped."""
    files = []
    for path in folder.rglob("*"):
        relative_parts = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative_parts):
            continue  # .DS_Store, macOS "._name.jpg" resource forks, .ipynb_checkpoints ...
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            files.append(path)
    return sorted(files)


def _resolve_class_folders(folder: Path, split: str) -> tuple[Optional[dict[int, list[Path]]], str]:
    """Class folders to read (from the ``split`` subfolder when there is one) and the split name to record."""
    split_folders = [child for child in sorted(folder.iterdir()) if child.is_dir() and child.name.lower() == split.lower()]
    for split_folder in split_folders:
        classes = _class_folders(split_folder)
        if classes:
            return classes, split
    classes = _class_folders(folder)
    if classes:
        return classes, ""
    other_splits = [child.name for child in sorted(folder.iterdir()) if child.is_dir() and _class_folders(child)]
    if other_splits:
        raise ValueError(
            f"folder {str(folder)!r} has no split {split!r} with real/ or fake/ subfolders; "
            f"available splits: {other_splits}"
        )
    return None, split


def _load_folder(folder: Path, classes: dict[int, list[Path]], split: str, limit: Optional[int], seed: int) -> LabelledImages:
    files: list[str] = []
    labels: list[int] = []
    for label in sorted(classes):
        for class_folder in classes[label]:
            class_files = _image_files(class_folder)
            files.extend(str(path) for path in class_files)
            labels.extend([label] * len(class_files))
    if not files:
        names = [str(path) for paths in classes.values() for path in paths]
        raise ValueError(f"no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}) found in {names}")
    label_array = np.asarray(labels, dtype=np.int64)
    keep = stratified_indices(label_array, limit, seed)
    kept_files = [files[i] for i in keep]
    return LabelledImages(
        images=list(kept_files), labels=label_array[keep], names=kept_files, source=str(folder), split=split
    )


# -------------------------------------------------------------------------------------------------- datasets


def _label_array(dataset: Any, column: str = "label") -> np.ndarray:
    """The label column as 0/1 ints: ClassLabel / string names real/fake (any case) mapped, otherwise the ints."""
    feature = dataset.features[column]
    values = np.asarray(list(dataset[column]))
    names = getattr(feature, "names", None)
    if values.dtype.kind in "USO":  # string labels
        names_lower = np.char.lower(values.astype(str))
        unknown = sorted(set(names_lower.tolist()) - set(CLASS_FOLDERS))
        if unknown:
            raise ValueError(f"label column has values {unknown}; expected 'real' / 'fake' or 0 / 1")
        return np.where(names_lower == "fake", 1, 0).astype(np.int64)
    values = values.astype(np.int64)
    if names:
        lowered = [str(name).lower() for name in names]
        if set(lowered) >= set(CLASS_FOLDERS) and all(name in CLASS_FOLDERS for name in lowered):
            mapping = np.array([CLASS_FOLDERS[name] for name in lowered], dtype=np.int64)
            if values.size and (values.min() < 0 or values.max() >= len(mapping)):
                raise ValueError(f"label column has values outside its ClassLabel names {list(names)}")
            return mapping[values]
        warnings.warn(
            f"label names {list(names)} are not 'real' / 'fake'; using the integer labels as 0 = real, 1 = fake",
            stacklevel=3,
        )
    if values.size and not np.isin(values, (0, 1)).all():
        raise ValueError(
            f"label column must hold 0 (real) / 1 (fake) or the names 'real' / 'fake'; found {sorted(set(values.tolist()))}"
        )
    return values


def _lazy_image(value: Any) -> Any:
    """Turn an undecoded ``datasets`` image cell into something ``load_image`` accepts, decoding only the header."""
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data is None:
            return str(path)
        try:
            return Image.open(io.BytesIO(data))  # pixels are decoded later, by load_image
        except Exception:  # noqa: BLE001 - keep the bytes; load_image names the problem for this image only
            return data
    return value


def _load_dataset_source(source: str, split: str, limit: Optional[int], seed: int) -> LabelledImages:
    import datasets

    try:
        dataset = datasets.load_dataset(source, split=split)
    except ValueError as error:
        if "split" in str(error).lower():
            raise ValueError(f"cannot read split {split!r} of dataset {source!r}: {error}") from error
        raise
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"{source!r} is neither a folder with real/ and fake/ subfolders nor a dataset that can be loaded "
            f"(a local dataset directory or a Hub repo id, which needs a network or the cache): {error}"
        ) from error

    missing = [column for column in ("image", "label") if column not in dataset.column_names]
    if missing:
        raise ValueError(
            f"dataset {source!r} (split {split!r}) has no column(s) {missing}; available columns: "
            f"{dataset.column_names}"
        )
    labels = _label_array(dataset)
    keep = stratified_indices(labels, limit, seed)
    selected = dataset.select(keep.tolist()) if keep.size < len(dataset) else dataset
    if isinstance(selected.features["image"], datasets.Image):
        selected = selected.cast_column("image", datasets.Image(decode=False))
    images = [_lazy_image(value) for value in selected["image"]]
    if "source_file" in selected.column_names:
        names = [str(name) for name in selected["source_file"]]
    else:
        names = [f"{split}[{row}]" for row in keep.tolist()]
    groups = {column: list(selected[column]) for column in GROUP_COLUMNS if column in selected.column_names}
    return LabelledImages(
        images=images, labels=labels[keep], names=names, source=str(source), split=split, groups=groups
    )


# ------------------------------------------------------------------------------------------------ public API


def load_labelled_images(
    source: Union[str, os.PathLike],
    split: str = "test",
    limit: Optional[int] = None,
    seed: int = 0,
) -> LabelledImages:
    """Load labelled images (real = 0, fake = 1) from a folder or a ``datasets`` source.

    A folder with subfolders named ``real`` and/or ``fake`` (any case; files found recursively by image
    extension) is read directly, from its ``split`` subfolder (for example ``test/real``, ``test/fake``) when it
    has one; only one class folder is fine. Anything else goes to ``datasets.load_dataset(source, split=split)``:
    a local dataset directory (parquet files plus a README with ``configs``) or a Hub repo id (offline only when
    cached). The dataset needs an ``image`` and a ``label`` column; ClassLabel names ``real`` / ``fake`` (any
    case) are mapped to 0 / 1, otherwise the integer labels are used.

    Args:
        source: folder path, local dataset directory or Hub repo id.
        split: split to read (``"test"``, ``"validation"``, ``"train"``...).
        limit: keep at most this many images, about half real and half fake, chosen with ``seed``; only the
            chosen rows of a dataset are read.
        seed: seed of the random choice under ``limit``.

    Returns:
        A :class:`LabelledImages`.

    Raises:
        ValueError: if the split, the ``image`` / ``label`` columns or any image files are missing, or labels
            are not real / fake.
        FileNotFoundError: if ``source`` is neither such a folder nor a loadable dataset.

    Example:
        >>> data = load_labelled_images("../shared/data/cifake", split="test", limit=20, seed=0)
        >>> data.n_real, data.n_fake
        (10, 10)
    """
    folder = Path(source)
    if folder.is_dir():
        classes, used_split = _resolve_class_folders(folder, split)
        if classes is not None:
            return _load_folder(folder, classes, used_split, limit, seed)
    return _load_dataset_source(str(source), split, limit, seed)
