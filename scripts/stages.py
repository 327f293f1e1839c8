"""Times the stages of `make test` and prints them as a table at the end (or when one fails).

    python3 scripts/stages.py begin                  # forget the last run's times
    python3 scripts/stages.py run NAME -- CMD ...    # run CMD as the stage NAME, record its time
    python3 scripts/stages.py together NAME -- A ... -- NAME2 -- B ...
                                                     # run A and B at once, each a stage of its own
                                                     # (its output kept apart and shown when it ends)
    python3 scripts/stages.py report                 # the table

Standard library only: the first stage creates the virtual environments this would otherwise need."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RECORD = Path(__file__).resolve().parent.parent / ".test-stages.json"


def load() -> list[dict[str, object]]:
    return json.loads(RECORD.read_text()) if RECORD.exists() else []


def record(name: str, seconds: float, code: int, *, beside: bool = False) -> None:
    """A stage's row; one run `beside` another is shown, but its time is not added to the total."""
    stages = load()
    result = "ok" if code == 0 else f"FAILED ({code})"
    stages.append({"name": name, "seconds": round(seconds, 1), "result": result, "beside": beside})
    RECORD.write_text(json.dumps(stages))


def report() -> None:
    stages = load()
    if not stages:
        return
    width = max(len("all (wall clock)"), *(len(str(stage["name"])) for stage in stages))
    total = sum(float(str(stage["seconds"])) for stage in stages if not stage.get("beside"))
    print(f"\n{'stage':<{width}}  {'time':>8}  result", flush=True)
    for stage in stages:
        seconds = float(str(stage["seconds"]))
        print(f"{stage['name']!s:<{width}}  {seconds // 60:>4.0f}:{seconds % 60:04.1f}  {stage['result']}")
    print(f"{'all (wall clock)':<{width}}  {total // 60:>4.0f}:{total % 60:04.1f}", flush=True)


def run(name: str, command: list[str]) -> int:
    started = time.monotonic()
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    code = subprocess.run(command, check=False).returncode  # noqa: S603 - the Makefile's own commands
    record(name, time.monotonic() - started, code)
    if code != 0:
        report()
    return code


def together(stages: list[tuple[str, list[str]]]) -> int:
    """The commands at once, each writing to a file of its own; each file is printed whole when
    its command ends (so the outputs never interleave), and each is a row of the table. The row
    that counts towards the total is the pair's wall clock."""
    started = time.monotonic()
    running = []
    for name, command in stages:
        print(f"\n=== {name} (side by side): {' '.join(command)}", flush=True)
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, when it has been printed
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        running.append((name, process, log))
    worst = 0
    for name, code, seconds, output in _as_they_end(running):
        print(f"\n=== {name}: ended after {seconds:.0f} s, exit {code}\n{output}", flush=True)
        record(f"  {name}", seconds, code, beside=True)
        worst = worst or code
    record(" + ".join(name for name, _ in stages), time.monotonic() - started, worst)
    if worst != 0:
        report()
    return worst


def _as_they_end(running: list[tuple[str, subprocess.Popen[bytes], Any]]) -> Iterator[tuple[str, int, float, str]]:
    """Each command's name, exit code, time and output, as each ends."""
    started = time.monotonic()
    waiting = list(running)
    while waiting:
        for entry in list(waiting):
            name, process, log = entry
            code = process.poll()
            if code is None:
                continue
            log.seek(0)
            output = log.read().decode(errors="replace")
            log.close()
            waiting.remove(entry)
            yield name, code, time.monotonic() - started, output
        time.sleep(0.5)


def main(argv: list[str]) -> int:
    if argv[:1] == ["begin"]:
        RECORD.unlink(missing_ok=True)
        return 0
    if argv[:1] == ["report"]:
        report()
        return 0
    if len(argv) >= 4 and argv[0] == "run" and argv[2] == "--":
        return run(argv[1], argv[3:])
    if len(argv) >= 7 and argv[0] == "together":
        stages: list[tuple[str, list[str]]] = []
        rest = argv[1:]
        while rest:
            name, separator, *rest = rest
            if separator != "--" or not rest:
                break
            command = rest[: rest.index("--") - 1] if rest.count("--") else rest
            rest = rest[len(command) :]
            stages.append((name, command))
        if len(stages) >= 2:
            return together(stages)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
