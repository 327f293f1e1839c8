"""The Python the functions run under locally: 3.13, like the template's python3.13 runtime, with
exactly the packages Lambda gives them (the layers' pinned requirements and the boto3 the runtime
ships), installed with pip --target into .lambda-py313/.

`python -m local_stack.lambda_python` installs it (make does, before `make run` and `make test`)
and says so when the machine has no Python 3.13 (`--path` prints the interpreter, or fails); the
stack then runs the functions under its own
interpreter and says that in its banner."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from .runtime import LambdaPython, this_python

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / ".lambda-py313"
VERSION = "3.13"
REQUIREMENTS = (
    ROOT / "layers" / "dependencies" / "requirements.txt",
    ROOT / "layers" / "inference" / "requirements.txt",
    ROOT / "layers" / "video" / "requirements.txt",
)
# What the python3.13 Lambda runtime ships beside the function (the dependency layer leaves it out).
RUNTIME_PACKAGES = (
    "boto3==1.43.11",
    "botocore==1.43.11",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
_MARKER = ".requirements-sha256"


def find_python() -> str | None:
    """A Python 3.13 from pyenv or PATH that runs, or None."""
    candidates = []
    if shutil.which("pyenv"):
        prefix = subprocess.run(["pyenv", "prefix", "3.13.0"], capture_output=True, text=True, check=False)  # noqa: S607
        if prefix.returncode == 0:
            candidates.append(str(Path(prefix.stdout.strip()) / "bin" / "python3.13"))
    candidates.append(shutil.which("python3.13") or "")
    for candidate in candidates:
        # A pyenv shim is on PATH even where it cannot run 3.13: ask it.
        ran = subprocess.run([candidate, "--version"], capture_output=True, check=False) if candidate else None  # noqa: S603
        if ran is not None and ran.returncode == 0:
            return candidate
    return None


def _digest(python: str) -> str:
    contents = b"".join(path.read_bytes() for path in REQUIREMENTS) + "\n".join(RUNTIME_PACKAGES).encode()
    return hashlib.sha256(contents + python.encode()).hexdigest()


def install(python: str, packages: Path = PACKAGES) -> Path:
    """The layers' packages and the runtime's boto3 for this interpreter, reinstalled when a
    requirements file changes."""
    marker = packages / _MARKER
    if marker.exists() and marker.read_text() == _digest(python):
        return packages
    shutil.rmtree(packages, ignore_errors=True)
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile"]
    command += ["--target", str(packages), *RUNTIME_PACKAGES]
    for path in REQUIREMENTS:
        command += ["-r", str(path)]
    print(f"installing the functions' packages for {python} into {packages.name}/", flush=True)
    subprocess.run(command, check=True)  # noqa: S603 - pip of a Python we found
    marker.write_text(_digest(python))
    return packages


def lambda_python(packages: Path = PACKAGES) -> LambdaPython:
    """Python 3.13 with its installed packages when both are there; otherwise this interpreter,
    with a note saying why."""
    python = find_python()
    if python is None:
        return this_python(f"no Python {VERSION} found (pyenv or PATH): functions run under {sys.version.split()[0]}")
    marker = packages / _MARKER
    if not marker.exists() or marker.read_text() != _digest(python):
        return this_python(
            f"the functions' Python {VERSION} packages are not installed (make run installs them): "
            f"functions run under {sys.version.split()[0]}"
        )
    return LambdaPython(python, packages)


def main() -> int:
    python = find_python()
    if sys.argv[1:] == ["--path"]:
        # `make build` compiles the functions' bytecode with it: there is no Lambda package without it.
        if python is None:
            print(
                f"sam build compiles the functions' bytecode with Python {VERSION}, the Lambda runtime's: "
                f"none found (pyenv install {VERSION}, or python{VERSION} on PATH)",
                file=sys.stderr,
            )
            return 2
        print(python)
        return 0
    if python is None:
        print(
            f"note: no Python {VERSION} found (pyenv install {VERSION}, or python{VERSION} on PATH); "
            f"the local stack will run the functions under this Python ({sys.version.split()[0]})"
        )
        return 0
    install(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
