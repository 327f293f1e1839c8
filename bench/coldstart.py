"""Cold start: the import-and-init time of each Lambda function against a bare `import boto3`,
each in a fresh process, in the same run.

What Lambda's INIT phase runs for a Python function is the import of its handler module: the
resolver and its routes, the batch processors, Logger and Metrics. This measures exactly that, in
an environment shaped like the function's: Python 3.13 (Lambda's runtime, through pyenv when it
is there) with only the packages of the project's layers and the boto3 the runtime ships,
installed once into .lambda-py313 with pip --target (as `make run` does). The machine's dev venv has more
(cryptography, which PyJWT would pick up, moto, the X-Ray SDK), so it would measure a different
function.

Rounds take turns (baseline, then every function), so noise lands on all of them alike; the
table gives medians and the ratio to the baseline's median.

    python bench/coldstart.py [--rounds 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_stack.lambda_python import find_python, install  # noqa: E402
from local_stack.template import load_template  # noqa: E402

TEMPLATE = ROOT / "infra" / "template.yaml"
TARGETS = {"ApiFunction": 2.0, "ProcessFunction": 2.0, "InferFunction": 3.0}
# What every function imports before any code of ours: the AWS SDK, settings, logs and metrics.
FLOOR = "boto3, pydantic_settings, aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
PROBE = "import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"


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


def import_ms(python: str, module: str, code: list[Path] | None, environment: Path) -> float:
    paths = [str(environment), str(ROOT / "layers" / "common")] + [str(folder) for folder in code or []]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
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
    import_ms(python, "boto3", None, environment)  # write the bytecode caches before timing
    for module, code in found.values():
        import_ms(python, module, code, environment)
    samples: dict[str, list[float]] = {"import boto3": [], "floor": []} | {name: [] for name in found}
    for _ in range(args.rounds):
        samples["import boto3"].append(import_ms(python, "boto3", None, environment))
        samples["floor"].append(import_ms(python, FLOOR, None, environment))
        for name, (module, code) in found.items():
            samples[name].append(import_ms(python, module, code, environment))
    baseline = statistics.median(samples["import boto3"])
    print(f"\n{version}, median of {args.rounds} fresh processes each, rounds taking turns")
    print(f"{'function':<22}{'handler module':<34}{'ms':>8}{'x boto3':>9}{'target':>8}")
    print("-" * 81)
    print(f"{'import boto3':<22}{'(baseline)':<34}{baseline:>8.0f}{1.0:>9.2f}{'':>8}")
    floor = statistics.median(samples["floor"])
    print(f"{'floor':<22}{'boto3+settings+logs+metrics':<34}{floor:>8.0f}{floor / baseline:>9.2f}{'':>8}")
    for name, (module, _) in found.items():
        median = statistics.median(samples[name])
        target = f"<= {TARGETS[name]:.1f}" if name in TARGETS else ""
        print(f"{name:<22}{module:<34}{median:>8.0f}{median / baseline:>9.2f}{target:>8}")


if __name__ == "__main__":
    main()
