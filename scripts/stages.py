"""Times the stages of `make test` and prints them as a table at the end (or when one fails).

    python3 scripts/stages.py begin                 # forget the last run's times
    python3 scripts/stages.py run NAME -- CMD ...   # run CMD as the stage NAME, record how long it took
    python3 scripts/stages.py report                # the table

Standard library only: the first stage creates the virtual environments this would otherwise need."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

RECORD = Path(__file__).resolve().parent.parent / ".test-stages.json"


def load() -> list[dict[str, object]]:
    return json.loads(RECORD.read_text()) if RECORD.exists() else []


def report() -> None:
    stages = load()
    if not stages:
        return
    width = max(len(str(stage["name"])) for stage in stages)
    total = sum(float(str(stage["seconds"])) for stage in stages)
    print(f"\n{'stage':<{width}}  {'time':>8}  result", flush=True)
    for stage in stages:
        seconds = float(str(stage["seconds"]))
        print(f"{stage['name']!s:<{width}}  {seconds // 60:>4.0f}:{seconds % 60:04.1f}  {stage['result']}")
    print(f"{'all':<{width}}  {total // 60:>4.0f}:{total % 60:04.1f}", flush=True)


def run(name: str, command: list[str]) -> int:
    started = time.monotonic()
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    code = subprocess.run(command, check=False).returncode  # noqa: S603 - the Makefile's own commands
    stages = load()
    stages.append(
        {
            "name": name,
            "seconds": round(time.monotonic() - started, 1),
            "result": "ok" if code == 0 else f"FAILED ({code})",
        }
    )
    RECORD.write_text(json.dumps(stages))
    if code != 0:
        report()
    return code


def main(argv: list[str]) -> int:
    if argv[:1] == ["begin"]:
        RECORD.unlink(missing_ok=True)
        return 0
    if argv[:1] == ["report"]:
        report()
        return 0
    if len(argv) >= 4 and argv[0] == "run" and argv[2] == "--":
        return run(argv[1], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
