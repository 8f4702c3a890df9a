"""Start-up benchmarks: how long ``deepfake-detect --help`` and the first verdict of each repo take in a new process.

Each measurement runs a fresh Python process (nothing cached in memory, files in the OS cache after the first
round), interleaved and repeated, and reports the median.

Example:
    >>> rows = startup_rows(["hub_repos/deepfake-npr-detector"], "examples/photo_real_01.jpg")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence, Union

#: Run in a child process: import the package, load the repo, score one image; print the three stage times.
FIRST_VERDICT = """
import json, sys, time
start = time.perf_counter()
from deepfake_detectors import EnsembleDeepfakeDetector
imported = time.perf_counter()
detector = EnsembleDeepfakeDetector.from_pretrained(sys.argv[1], device="cpu")
loaded = time.perf_counter()
result = detector.predict(sys.argv[2])
done = time.perf_counter()
print(json.dumps({"import": imported - start, "load": loaded - imported, "verdict": done - loaded}))
"""


def command_seconds(command: Sequence[str]) -> float:
    """Wall-clock seconds of one run of ``command`` (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(list(command), check=True, capture_output=True)
    return time.perf_counter() - start


def help_rows(repeats: int = 5) -> list[str]:
    """``deepfake-detect --help`` and ``--version`` next to ``python -c "import torch"``, median of ``repeats``."""
    cli = shutil.which("deepfake-detect") or str(Path(sys.executable).parent / "deepfake-detect")
    commands = {
        "`deepfake-detect --help`": [cli, "--help"],
        "`deepfake-detect --version`": [cli, "--version"],
        '`python -c "import torch"`': [sys.executable, "-c", "import torch"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):  # interleaved, so that a busy moment hurts all alike
        for name, command in commands.items():
            times[name].append(command_seconds(command))
    return [f"| {name} | {statistics.median(values):.2f} |" for name, values in times.items()]


def first_verdict_seconds(repo: Union[str, Path], image: Union[str, Path]) -> dict[str, float]:
    """Import, load and first-verdict seconds of one new process scoring ``image`` with ``repo``."""
    done = subprocess.run([sys.executable, "-c", FIRST_VERDICT, str(repo), str(image)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def startup_rows(repos: Sequence[Union[str, Path]], image: Union[str, Path], repeats: int = 3) -> list[str]:
    """Per repo: median seconds to import the package, load the repo and give the first verdict (new process)."""
    rows = []
    for repo in repos:
        runs = [first_verdict_seconds(repo, image) for _ in range(repeats)]
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        total = sum(median.values())
        rows.append(f"| {Path(repo).name} | {median['import']:.2f} | {median['load']:.2f} | {median['verdict']:.2f} | "
                    f"**{total:.2f}** |")
    return rows
