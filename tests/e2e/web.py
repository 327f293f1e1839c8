"""The web app in a real browser (Debian's chromium, driven by Playwright) against the local stack:
the fixtures and checks the browser test modules share. Each flow runs at desktop and phone size;
every main screen is saved as a screenshot (tests/output/screenshots/) and checked as a person
would meet it: axe-core's serious findings, sideways overflow, covered controls, small touch
targets, and any error the page raised or logged."""

from __future__ import annotations

import io
import json
import random
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.conftest import same_on_any_emulator
from tests.helpers import ROOT

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
# What a person sees appear within a few seconds may take many more on a machine running the
# other e2e suite beside this one: expectations wait up to 30 s (a task's, 90 s).
expect.set_options(timeout=30_000)

SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Chromium as root in a machine with no network beyond the registries: no sandbox (root), and
# none of the background calls to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TASK_TIMEOUT_MS = 90_000


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("the browser tests need Debian's chromium: `make browser` installs it (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# The sizes every flow runs at: a desktop window and a phone (an iPhone 12-15's CSS pixels).
DESKTOP = (1280, 800)
PHONE = (390, 844)
# A phone's layout cannot depend on the emulator: the phone variant runs on the embedded one only.
SIZES = pytest.mark.parametrize(
    "size", [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone", marks=same_on_any_emulator)]
)


@pytest.fixture
def size() -> tuple[int, int]:
    """The window of a test that does not ask for both."""
    return DESKTOP


@pytest.fixture
def page_errors() -> list[str]:
    """What the page raised or logged as an error, and the requests it made that failed; a test
    that provokes one on purpose takes it out."""
    return []


@pytest.fixture
def page(browser: Any, stack: Any, size: tuple[int, int], page_errors: list[str]) -> Iterator[Any]:
    """The app opened in a fresh browser context; the test fails if the page raised or logged an
    error (a failed request, a blocked resource, a policy violation), whatever it asserted."""
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, accept_downloads=True, has_touch=size == PHONE
    )
    opened = context.new_page()
    opened.on("pageerror", lambda error: page_errors.append(str(error)))
    opened.on("console", lambda message: page_errors.append(message.text) if message.type == "error" else None)
    opened.on(
        "response", lambda answer: page_errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None
    )
    opened.goto(f"{stack.api}/app/")
    yield opened
    context.close()
    assert page_errors == [], f"the page raised or logged errors: {page_errors}"


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    # The whole page, or the window when a dialog is open (it stays in the window as the page scrolls).
    whole = page.locator("dialog[open]").count() == 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=whole)


def serious_accessibility_findings(page: Any) -> list[dict[str, Any]]:
    """axe-core (from web/node_modules, the npm registry's) run in the page: its serious and
    critical violations, with the elements they are on."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate("async () => JSON.stringify(await window.axe.run(document))")
    violations = json.loads(results)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def overflowing(page: Any, width: int) -> list[str]:
    """What makes the page wider than the window (scrolls sideways): elements past its right edge
    that no scrolling box of theirs holds."""
    if page.evaluate("document.documentElement.scrollWidth") <= width:
        return []
    return list(
        page.evaluate(
            """(width) => [...document.querySelectorAll('body *')].filter((element) => {
                if (element.getBoundingClientRect().right <= width + 1) return false;
                for (let up = element.parentElement; up; up = up.parentElement) {
                    if (getComputedStyle(up).overflowX !== 'visible') return false;
                }
                return true;
            }).slice(0, 10).map((element) => `${element.tagName.toLowerCase()}.${element.className}`)""",
            width,
        )
    )


PAGE_CHECKS = Path(__file__).with_name("page_checks.js")


def page_check(page: Any, name: str) -> list[str]:
    """One of page_checks.js's findings on the page as it is now."""
    if not page.evaluate("typeof window.pageChecks !== 'undefined'"):
        page.evaluate(PAGE_CHECKS.read_text())
    return list(page.evaluate(f"window.pageChecks.{name}()"))


def covered_controls(page: Any) -> list[str]:
    return page_check(page, "covered")


def small_touch_targets(page: Any) -> list[str]:
    return page_check(page, "smallTargets")


def check_screen(page: Any, name: str) -> None:
    """A main screen as a person sees it: saved as a screenshot, no serious accessibility finding,
    nothing wider than the window, no control covered by another, and on a phone every control
    big enough to tap."""
    screenshot(page, name)
    width = page.viewport_size["width"]
    assert serious_accessibility_findings(page) == [], name
    assert overflowing(page, width) == [], name
    assert covered_controls(page) == [], name
    if width < 600:
        assert small_touch_targets(page) == [], name


def sign_up(page: Any) -> str:
    username = f"web-{uuid.uuid4().hex[:8]}"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return username


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def big_png() -> bytes:
    """A PNG over the API's 4 MiB limit (noise does not compress): it must go by presigned POST."""
    noise = random.Random(7).randbytes(1400 * 1100 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1400, 1100), noise).save(buffer, "PNG")
    assert buffer.tell() > 4 * 1024 * 1024
    return buffer.getvalue()


def task_row(page: Any, name: str) -> Any:
    tasks = page.get_by_role("list", name="Task list").get_by_role("listitem")
    return tasks.filter(has=page.get_by_text(name, exact=True))


def start(page: Any, files: int) -> None:
    expect(page.get_by_text(f"{files} file{'s' if files != 1 else ''} ready")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Start", exact=True).click()


def wait_for_pictures(page: Any, selector: str) -> None:
    """Until every picture `selector` finds has loaded with pixels (a broken one has none)."""
    page.wait_for_function(
        "(selector) => [...document.querySelectorAll(selector)].every((i) => i.complete && i.naturalWidth > 0)",
        arg=selector,
    )
