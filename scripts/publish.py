#!/usr/bin/env python
"""Publish model repos from ``hub_repos/`` and the Gradio Space to the Hugging Face Hub (or check them locally).

Each model folder is pushed as it is (``create_repo`` + ``upload_folder``) after :func:`validate_repo_folder`
found nothing wrong: card metadata, ``model-index`` figures equal to ``results_summary.json``, config,
processor config, safetensors / skops weights only, thresholds and the plots the card shows. The Space is
``space/`` plus the ``deepfake_detectors`` package and ``examples/`` (so it runs without a package index), its
README YAML checked against the gradio this project uses. The token comes from ``HF_TOKEN`` (or the saved login).

``--dry-run`` lists what would be uploaded (path and size) and validates everything, without any network.

Example:
    python scripts/publish.py --all --namespace my-org --dry-run
    HF_TOKEN=hf_... python scripts/publish.py hub_repos/deepfake-ela-cnn --namespace my-org
    HF_TOKEN=hf_... python scripts/publish.py --space --namespace my-org
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from huggingface_hub import HfApi

from deepfake_detectors.hub import SPACE_SETTINGS_FILE, validate_repo_folder, validate_space

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Never uploaded: caches, checkpoints, local evaluation leftovers.
IGNORE = ["**/__pycache__/**", "**/*.pyc", "**/*.pyi", "**/.DS_Store", "**/checkpoint-*/**", "**/.ipynb_checkpoints/**"]


@dataclass
class Upload:
    """One repo to push: its id and type, and the local folders that make it up (``path_in_repo`` -> folder)."""

    repo_id: str
    repo_type: str
    folders: dict[str, Path]
    problems: list[str] = field(default_factory=list)
    #: Files written for this upload only (path in repo -> bytes), e.g. the Space's settings.
    generated: dict[str, bytes] = field(default_factory=dict)

    def files(self) -> list[tuple[str, int]]:
        """``(path in repo, size in bytes)`` of every file that would be uploaded (what :data:`IGNORE` leaves)."""
        listed = []
        for prefix, folder in self.folders.items():
            for path in sorted(folder.rglob("*")):
                relative = path.relative_to(folder)
                if path.is_file() and not _ignored(relative):
                    listed.append(((Path(prefix) / relative).as_posix(), path.stat().st_size))
        return listed + [(name, len(data)) for name, data in self.generated.items()]


def _ignored(relative: Path) -> bool:
    """Whether ``upload_folder(ignore_patterns=IGNORE)`` leaves this file out."""
    return (
        "__pycache__" in relative.parts
        or ".ipynb_checkpoints" in relative.parts
        or any(part.startswith("checkpoint-") for part in relative.parts)
        or relative.suffix in (".pyc", ".pyi")
        or relative.name == ".DS_Store"
    )


def model_upload(folder: Path, namespace: str) -> Upload:
    return Upload(f"{namespace}/{folder.name}", "model", {"": folder}, validate_repo_folder(folder))


def space_upload(namespace: str, name: str) -> Upload:
    """The Space, set to load its models from ``namespace`` (written to its settings file, so it never silently
    loads someone else's repos)."""
    space_dir = REPO_ROOT / "space"
    folders = {"": space_dir, "deepfake_detectors": REPO_ROOT / "src" / "deepfake_detectors", "examples": REPO_ROOT / "examples"}
    settings = {SPACE_SETTINGS_FILE: (json.dumps({"model_namespace": namespace}, indent=2) + "\n").encode()}
    return Upload(f"{namespace}/{name}", "space", folders, validate_space(space_dir), settings)


def push(upload: Upload, token: Optional[str], private: bool) -> None:
    api = HfApi(token=token)
    api.create_repo(upload.repo_id, repo_type=upload.repo_type, private=private, exist_ok=True,
                    space_sdk="gradio" if upload.repo_type == "space" else None)
    for prefix, folder in upload.folders.items():
        api.upload_folder(
            repo_id=upload.repo_id,
            repo_type=upload.repo_type,
            folder_path=folder,
            path_in_repo=prefix or None,
            ignore_patterns=IGNORE,
            commit_message=f"Upload {prefix or upload.repo_id.split('/')[-1]} from deepfake-detectors",
        )
    for name, data in upload.generated.items():
        api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=upload.repo_id, repo_type=upload.repo_type)
    print(f"pushed https://huggingface.co/{'spaces/' if upload.repo_type == 'space' else ''}{upload.repo_id}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="model repo folders (e.g. hub_repos/deepfake-ela-cnn)")
    parser.add_argument("--all", action="store_true", help="every folder of --hub-dir, and the Space")
    parser.add_argument("--space", action="store_true", help="the Gradio Space")
    parser.add_argument("--space-name", default="deepfake-detectors")
    parser.add_argument("--hub-dir", type=Path, default=REPO_ROOT / "hub_repos")
    parser.add_argument("--namespace", default=os.environ.get("HF_NAMESPACE", "deepfake-detectors"), help="user or org")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="list and validate, upload nothing")
    args = parser.parse_args(argv)

    folders = list(args.folders)
    if args.all:
        folders += sorted(p for p in args.hub_dir.iterdir() if (p / "config.json").is_file())
    uploads = [model_upload(folder, args.namespace) for folder in folders]
    if args.space or args.all:
        uploads.append(space_upload(args.namespace, args.space_name))
    if not uploads:
        parser.error("nothing to publish: give folders, --space or --all")

    failed = False
    for upload in uploads:
        files = upload.files()
        print(f"{upload.repo_type} {upload.repo_id}: {len(files)} files, {sum(size for _, size in files) / 2**20:.1f} MB")
        if args.dry_run:
            for path, size in files:
                print(f"  {path}  ({size / 1024:.1f} KB)")
        if upload.repo_type == "space":
            print(f"  the Space loads its models from {args.namespace}/<repo> (publish them there too)")
        for problem in upload.problems:
            print(f"  PROBLEM: {problem}", file=sys.stderr)
        failed = failed or bool(upload.problems)
    if failed:
        print("not publishing: fix the problems above", file=sys.stderr)
        return 1
    if args.dry_run:
        print("dry run: everything validated, nothing uploaded")
        return 0
    token = os.environ.get("HF_TOKEN")
    for upload in uploads:
        push(upload, token, args.private)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
