"""The client installs into a fresh virtual environment from the repository alone (its
dependencies from the package index), and its command starts there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def test_the_client_installs_into_a_fresh_venv_and_its_command_runs(tmp_path: Path) -> None:
    # A copy: pip builds in the source folder, and the repository's must stay as it is.
    package = tmp_path / "package"
    shutil.copytree(
        ROOT / "clients" / "python", package, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    pip = subprocess.run(  # noqa: S603
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(package)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    imported = subprocess.run(  # noqa: S603
        [str(venv / "bin" / "python"), "-c", "import imgtasks_client; print(imgtasks_client.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "1.0.0"
    helped = subprocess.run([str(venv / "bin" / "imgtasks"), "--help"], capture_output=True, text=True, check=True)  # noqa: S603
    assert "run" in helped.stdout and "login" in helped.stdout
