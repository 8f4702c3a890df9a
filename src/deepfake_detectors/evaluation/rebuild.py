"""Does a repo rebuilt from its card's command give the card's figures? Compare two repo folders' results.

``scripts/check_rebuild.py`` writes the comparison into the published repo as ``rebuild_check.json``; the card
quotes it (:func:`deepfake_detectors.cards.rebuild_sentence`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Union

#: The file in a published repo that records a rebuild from its card's command.
REBUILD_FILE = "rebuild_check.json"
#: Figures of ``results_summary.json`` compared (test split).
COMPARED_FIGURES = ("auroc", "accuracy", "recall", "fpr")


def compare_rebuild(
    published: Union[str, Path], rebuilt: Union[str, Path], *, command: str, code: str, tolerance: float = 0.005
) -> dict[str, Any]:
    """Compare the test figures of a published repo with those of the same repo rebuilt from its command.

    Args:
        published: the repo folder as published (``results_summary.json`` inside).
        rebuilt: the folder the rebuild wrote.
        command: the command (or script) that was run for the rebuild.
        code: which code the rebuild ran (e.g. a commit id).
        tolerance: the largest AUROC difference that counts as reproduced.

    Returns:
        ``{"command", "code", "tolerance", "published": {...}, "rebuilt": {...}, "auroc_difference",
        "reproduced", "identical_weights"}``; ``identical_weights`` is true when both folders hold ``*.safetensors``
        files of the same names with the same tensors, bit for bit (and at least one).

    Example:
        >>> compare_rebuild("hub_repos/deepfake-autoencoder", "/tmp/rebuild/hub_repos/deepfake-autoencoder",
        ...                 command="bash scripts/bundled_weights.sh", code="abc123")  # doctest: +SKIP
    """
    figures = {}
    for name, folder in (("published", published), ("rebuilt", rebuilt)):
        summary = json.loads((Path(folder) / "results_summary.json").read_text())
        figures[name] = {key: summary[key] for key in COMPARED_FIGURES}
    difference = abs(figures["rebuilt"]["auroc"] - figures["published"]["auroc"])
    return {
        "command": command,
        "code": code,
        "tolerance": tolerance,
        **figures,
        "auroc_difference": round(difference, 6),
        "reproduced": bool(difference <= tolerance),
        "identical_weights": weight_digests(published) == weight_digests(rebuilt) != {},
    }


def weight_digests(folder: Union[str, Path]) -> dict[str, str]:
    """SHA-256 of every tensor of every ``*.safetensors`` file under ``folder`` (its name, dtype, shape and bytes;
    the file's metadata, whose order may vary, left out), by file path relative to ``folder``.

    Example:
        >>> weight_digests("hub_repos/deepfake-ela-cnn")  # doctest: +SKIP
        {'model.safetensors': '...'}
    """
    from safetensors.numpy import load_file

    root, digests = Path(folder), {}
    for path in sorted(root.rglob("*.safetensors")):
        digest = hashlib.sha256()
        for name, array in sorted(load_file(path).items()):
            digest.update(f"{name}:{array.dtype}:{array.shape}".encode())
            digest.update(array.tobytes())
        digests[str(path.relative_to(root))] = digest.hexdigest()
    return digests
