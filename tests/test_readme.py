"""Every Python and shell block of README.md runs as written (in a scratch copy of the checkout, offline).

Three commands are named here and not run, each for a stated reason; every other line of every block runs.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT

#: Lines of README blocks that are not run, and why.
NOT_RUN = {
    "make test": "it is the command that runs this test",
    "make demo": "it serves until stopped; the block that calls the Space starts the same app",
    "HF_TOKEN=": "uploads to the Hub need a token and the network",
}
#: Copied into the scratch checkout (outputs of the blocks land there, never in the repo).
COPIED = ("examples", "hub_repos", "scripts", "space")
SPACE_PORT = 7860


def readme_blocks() -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced ``python`` / ``bash`` block in README.md."""
    text = (REPO_ROOT / "README.md").read_text()
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(python|bash)\n(.*?)```", text, flags=re.DOTALL)]


def skip_reason(line: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if line.strip().startswith(start)), None)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A checkout-shaped folder beside a link to ``../shared``, so relative data paths resolve as in the README."""
    root = tmp_path_factory.mktemp("readme")
    checkout = root / "deepfake-detectors"
    checkout.mkdir()
    for name in COPIED:
        shutil.copytree(REPO_ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__", "screenshots"))
    shared = REPO_ROOT.parent / "shared"
    if shared.is_dir():
        (root / "shared").symlink_to(shared)
    return checkout


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HF_HUB_OFFLINE="1", MPLBACKEND="Agg", PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    return env


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_every_readme_block_runs_as_written(scratch: Path) -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 8
    if not (REPO_ROOT.parent / "shared" / "data" / "wild").is_dir():
        pytest.skip("the README's data paths need ../shared/data (the project's shared data)")
    env = _environment()
    skipped = []
    for index, (language, code) in enumerate(blocks):
        where = f"README block {index + 1} ({language})"
        if language == "python":
            server = None
            if "gradio_client" in code:  # the Space the block talks to, started as `make demo` would
                assert not _port_open(SPACE_PORT), f"{where}: port {SPACE_PORT} is taken; the block needs it for the Space"
                server = subprocess.Popen([sys.executable, "space/app.py"], cwd=scratch, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                deadline = time.monotonic() + 180
                while not _port_open(SPACE_PORT) and time.monotonic() < deadline and server.poll() is None:
                    time.sleep(1)
            try:
                done = subprocess.run([sys.executable, "-c", code], cwd=scratch, env=env, capture_output=True,
                                      text=True, timeout=600)
            finally:
                if server is not None:
                    server.terminate()
                    server.wait(timeout=60)
            assert done.returncode == 0, f"{where} failed:\n{code}\n{done.stderr[-3000:]}"
            continue
        lines = code.replace("\\\n", " ").splitlines()
        runnable = []
        for line in lines:
            reason = skip_reason(line)
            if reason:
                skipped.append((line.strip(), reason))
            elif line.strip():
                runnable.append(line)
        in_repo = all(line.strip().startswith("make ") for line in runnable)  # make targets use the checkout itself
        script = "set -euo pipefail\n" + "\n".join(runnable)
        done = subprocess.run(["bash", "-c", script], cwd=REPO_ROOT if in_repo else scratch, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{where} failed:\n{script}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert sorted({reason for _, reason in skipped}) == sorted(NOT_RUN.values())  # each exception is still needed
    assert (scratch / "results.csv").is_file() and (scratch / "runs" / "prediction.png").is_file()
