"""Cold start: the import-and-init time of each Lambda function against a bare `import boto3`,
each in a fresh process, in the same run, with the bytecode Lambda would have.

What Lambda's INIT phase runs for a Python function is the import of its handler module: the
resolver and its routes, the batch processors, Logger and Metrics. This measures exactly that, in
an environment shaped like the function's: Python 3.13 (Lambda's runtime, through pyenv when it
is there) with only the packages of the project's layers and the boto3 the runtime ships,
installed once into .lambda-py313 with pip --target (as `make run` does). The machine's dev venv has more
(cryptography, which PyJWT would pick up, moto, the X-Ray SDK), so it would measure a different
function.

Lambda's /var/task and /opt are read-only: a module runs from the bytecode its package ships or
is compiled at every cold start. Each fresh process here reads bytecode only from a cache prefix
(PYTHONPYCACHEPREFIX, never the __pycache__ beside the sources, and never written), and the two
columns are the two ways a function can ship:
- "no bytecode": as the packages shipped before this bench's issue (the runtime's standard library
  and boto3 compiled, as Lambda's runtime has them; the layers and our code compiled at import);
- "bytecode": as `make build` ships them now (everything compiled for 3.13, unchecked hashes).

Rounds take turns (baseline, then every function), so noise lands on all of them alike; the
table gives medians and the ratio to the baseline's median.

    python bench/coldstart.py [--rounds 11]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_stack.lambda_python import find_python, install  # noqa: E402
from local_stack.template import load_template  # noqa: E402

TEMPLATE = ROOT / "infra" / "template.yaml"
# Every function within 2x a bare `import boto3`, inference (ONNX Runtime and numpy) within 3x.
TARGETS = {"InferFunction": 3.0}
# What every function imports before any code of ours: the AWS SDK, settings, logs and metrics.
FLOOR = "boto3, pydantic_settings, aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
PROBE = "import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
# What Lambda's python3.13 runtime ships compiled beside the standard library (RUNTIME_PACKAGES).
RUNTIME_TOP_LEVEL = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
COMPILE = [
    "-m",
    "compileall",
    "-q",
    "-j",
    "0",
    "--invalidation-mode",
    "unchecked-hash",
    "-x",
    r"/(test|tests|idlelib)/",
]


def functions() -> dict[str, tuple[str, list[Path]]]:
    """Each function of the template: its handler module, and its code and layer folders (the
    Globals' layers and its own, as SAM adds them)."""
    template = load_template(TEMPLATE)
    resources = template["Resources"]
    global_layers = template["Globals"]["Function"].get("Layers", [])
    found = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        module = properties["Handler"].rsplit(".", 1)[0]
        layers = [*global_layers, *properties.get("Layers", [])]
        folders = [(TEMPLATE.parent / properties["CodeUri"]).resolve()]
        folders += [
            (TEMPLATE.parent / resources[layer["Ref"]]["Properties"]["ContentUri"]).resolve() for layer in layers
        ]
        found[logical_id] = (module, folders)
    return found


def compile_into(python: str, prefix: Path, folders: list[Path]) -> None:
    """Bytecode for `folders` into the cache prefix, as the build compiles it."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(prefix)}
    subprocess.run([python, *COMPILE, *map(str, folders)], env=env, check=False, capture_output=True)


def bytecode_prefixes(
    python: str, environment: Path, found: dict[str, tuple[str, list[Path]]], root: Path
) -> dict[str, Path]:
    """The two cache prefixes: the runtime's (standard library and boto3) and everything."""
    stdlib = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    runtime = root / "runtime"
    compile_into(python, runtime, [stdlib, *(environment / name for name in RUNTIME_TOP_LEVEL)])
    shipped = root / "shipped"
    shutil.copytree(runtime, shipped)
    folders = {environment, ROOT / "layers" / "common"} | {folder for _, code in found.values() for folder in code}
    compile_into(python, shipped, sorted(folders))
    return {"no bytecode": runtime, "bytecode": shipped}


def import_ms(python: str, module: str, code: list[Path] | None, environment: Path, prefix: Path) -> float:
    paths = [str(environment), str(ROOT / "layers" / "common")] + [str(folder) for folder in code or []]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONPYCACHEPREFIX": str(prefix),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "imgtasks",
        "POWERTOOLS_METRICS_NAMESPACE": "imgtasks",
    }
    result = subprocess.run(
        [python, "-c", PROBE.format(module=module)], env=env, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=11, help="fresh processes per function (median)")
    args = parser.parse_args()
    python = find_python() or sys.executable
    environment = install(python)
    version = subprocess.run([python, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    found = functions()
    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        prefixes = bytecode_prefixes(python, environment, found, Path(scratch))
        runtime = prefixes["no bytecode"]
        rows = {"import boto3": ("boto3", None), "floor": (FLOOR, None)} | found
        samples: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for name, (module, code) in rows.items():
                for mode, prefix in prefixes.items():
                    if name in ("import boto3", "floor") and mode == "no bytecode":
                        continue
                    samples.setdefault((name, mode), []).append(import_ms(python, module, code, environment, prefix))
        # boto3 as the runtime ships it: compiled.
        samples[("import boto3", "no bytecode")] = [import_ms(python, "boto3", None, environment, runtime)]
    baseline = statistics.median(samples[("import boto3", "bytecode")])
    print(f"\n{version}, median of {args.rounds} fresh processes each, rounds taking turns; bytecode read from a")
    print("cache prefix only, never written (Lambda's read-only /var/task and /opt)")
    header = f"{'function':<24}{'handler module':<34}{'no bytecode':>12}{'x boto3':>8}{'bytecode':>10}{'x boto3':>8}"
    print(header + f"{'target':>8}")
    print("-" * (len(header) + 8))
    print(f"{'import boto3':<24}{'(baseline, compiled)':<34}{'':>20}{baseline:>10.0f}{1.0:>8.2f}")
    floor = statistics.median(samples[("floor", "bytecode")])
    print(f"{'floor':<24}{'boto3+settings+logs+metrics':<34}{'':>20}{floor:>10.0f}{floor / baseline:>8.2f}")
    for name, (module, _) in found.items():
        cold = statistics.median(samples[(name, "no bytecode")])
        warm = statistics.median(samples[(name, "bytecode")])
        target = f"<= {TARGETS.get(name, 2.0):.1f}"
        print(
            f"{name:<24}{module:<34}{cold:>12.0f}{cold / baseline:>8.2f}{warm:>10.0f}{warm / baseline:>8.2f}{target:>8}"
        )


if __name__ == "__main__":
    main()
