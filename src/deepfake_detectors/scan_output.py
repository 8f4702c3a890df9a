"""Scan results on disk that survive interruption: rows streamed to a partial file, renamed when the scan ends.

``deepfake-detect detect --output results.csv`` writes every batch's rows to ``results.csv.partial`` as soon as
they are scored (flushed), and renames it to ``results.csv`` when the scan ends, also when it is stopped with
Ctrl-C. After a crash or ``kill -9`` the partial file is still there; ``--resume`` reads it (or the finished file),
keeps its rows and scores only the images it lacks, so every image is in the output exactly once.

CSV cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return) are
written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Iterable, Optional, TextIO

#: Columns of the CSV output, before one ``member_<name>`` column per ensemble member.
CSV_FIELDS = [
    "source", "label", "confidence", "score", "is_fake", "probability", "calibrated_probability", "threshold",
    "threshold_name", "in_domain", "domain_note", "calibration_domain", "error",
    "metadata_declares_ai", "content_credentials", "metadata_evidence",
]
SUFFIXES = (".jsonl", ".json", ".csv")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_output_path(output: Path) -> None:
    """Refuse an output path before any scoring: unknown extension, a folder, or a parent that cannot be written.

    Raises:
        ValueError: with what is wrong.
    """
    if output.suffix.lower() not in SUFFIXES:
        raise ValueError(f"--output must end in .jsonl, .json or .csv, got {output}")
    if output.is_dir():
        raise ValueError(f"--output {output} is a folder")
    parent = output.parent if str(output.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    if not os.access(parent, os.W_OK):
        raise ValueError(f"cannot write to {parent}")


def escape_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: strings starting like a formula get a leading apostrophe.

    Example:
        >>> escape_cell("=1+2.jpg"), escape_cell("photo.jpg"), escape_cell(-1.5)
        ("'=1+2.jpg", 'photo.jpg', -1.5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _unescape(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS) else value


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of an earlier (possibly interrupted) output file; a cut-off last line is dropped."""
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    if path.suffix.lower() != ".csv" and not path.name.endswith(".csv.partial"):
        rows = []
        for line in text.splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break  # the line being written when the scan was killed
        return rows
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return [{key: _unescape(value or "") for key, value in row.items()} for row in csv.DictReader(lines)]


def partial_path(output: Path) -> Path:
    """Where the rows of a scan in progress go: ``<output>.partial``."""
    return output.with_name(output.name + ".partial")


def earlier_rows(output: Path) -> list[dict[str, Any]]:
    """The rows of an earlier scan: its partial file if it was interrupted, else its finished output."""
    return read_rows(partial_path(output)) or read_rows(output)


def shard_path(output: Path, rank: int) -> Path:
    """The output of process ``rank`` of a sharded scan: ``results.rank1.csv`` for ``results.csv``."""
    return output.with_name(f"{output.stem}.rank{rank}{output.suffix}")


def merge_shards(output: Path, world_size: int, members: Iterable[str]) -> int:
    """Concatenate the shard outputs of a sharded scan into ``output`` (rank 0 first) and delete them.

    Returns:
        The number of rows written.
    """
    rows = [row for rank in range(world_size) for row in read_rows(shard_path(output, rank))]
    with ScanOutput(output, members=members) as merged:
        merged.write(rows)
    for rank in range(world_size):
        shard_path(output, rank).unlink(missing_ok=True)
    return len(rows)


class ScanOutput:
    """Stream result rows to ``<output>.partial`` and rename it to ``output`` at :meth:`close`.

    Args:
        output: the final ``.jsonl``, ``.json`` or ``.csv`` path.
        members: ensemble member names (CSV columns ``member_<name>``).

    Example:
        >>> with ScanOutput(Path("results.csv"), members=["npr"]) as out:  # doctest: +SKIP
        ...     out.write([result.to_dict() for result in results])
    """

    def __init__(self, output: Path, members: Iterable[str]) -> None:
        check_output_path(output)
        self.output = output
        self.partial = partial_path(output)
        self.is_csv = output.suffix.lower() == ".csv"
        self.fields = CSV_FIELDS + [f"member_{name}" for name in members]
        self.handle: TextIO = self.partial.open("w", newline="")
        self.writer: Optional[csv.DictWriter] = None
        if self.is_csv:
            self.writer = csv.DictWriter(self.handle, fieldnames=self.fields, extrasaction="ignore")
            self.writer.writeheader()

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append rows and flush them to disk."""
        for row in rows:
            if self.writer is not None:
                flat = {key: row.get(key) for key in self.fields}
                flat.update({f"member_{name}": value for name, value in (row.get("member_scores") or {}).items()})
                self.writer.writerow({key: escape_cell(value) for key, value in flat.items()})
            else:
                self.handle.write(json.dumps(row) + "\n")
        self.handle.flush()

    def close(self) -> None:
        """Flush, close and rename the partial file to the output path."""
        if not self.handle.closed:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.partial, self.output)

    def __enter__(self) -> "ScanOutput":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
