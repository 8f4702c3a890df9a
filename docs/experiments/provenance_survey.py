"""How often the metadata check (``deepfake_detectors.read_provenance``) finds an AI declaration in files as published.

Reads the original files of the five public sources of ``EXTRA_PHOTO_SOURCES`` straight from their git clones
(before ``scripts/build_photo_sources.py`` re-encodes them, which drops all metadata) and counts, per source, the
files whose metadata declares AI generation, the files with Content Credentials (C2PA), and the kinds of evidence.
A real-photo source with any declaration would be a false alarm of the check. Files that cannot be read from the
clone (objects missing from the snapshot) are counted apart. No detector is run and no test split is read.

Run from the repository root (a minute; the clones come from the tool library's ``fetch``):
    python docs/experiments/provenance_survey.py /work/.mirror > docs/experiments/provenance_survey.log
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from deepfake_detectors import read_provenance
from deepfake_detectors.training.photo_sources import EXTRA_PHOTO_SOURCES, repository_dir, source_blobs


def main(mirror_dir: str) -> None:
    print("| source | class | files read | declares AI | Content Credentials | unreadable in the clone | evidence (files) |")
    print("|---|---|---|---|---|---|---|")
    for source in EXTRA_PHOTO_SOURCES:
        repo_dir = repository_dir(Path(mirror_dir), source.repo)
        counts, evidence, missing = Counter(), Counter(), 0
        for blob, _path in source_blobs(repo_dir, source):
            blob_read = subprocess.run(["git", "--git-dir", str(repo_dir), "cat-file", "blob", blob], capture_output=True)
            if blob_read.returncode != 0 or not blob_read.stdout:
                missing += 1
                continue
            provenance = read_provenance(blob_read.stdout)
            counts["files"] += 1
            counts["declares"] += provenance.declares_ai
            counts["credentials"] += provenance.content_credentials
            evidence.update(line.split(":")[0] if "PNG text" in line else line for line in provenance.evidence)
        kind = "AI" if source.label else "real"
        listed = "; ".join(f"{line} ({n})" for line, n in evidence.most_common()) or "-"
        print(f"| {source.name} | {kind} | {counts['files']} | {counts['declares']} | {counts['credentials']} | "
              f"{missing} | {listed} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror")
