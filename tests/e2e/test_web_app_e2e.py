"""The web app in a real browser (Debian's chromium, driven by Playwright) against the local stack:
what a person does, by the names a screen reader reads out, with screenshots of the main screens
(tests/output/screenshots/) and axe-core run in the page on each of them."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scripts.corpus import CORPUS
from tests.e2e.conftest import same_on_any_emulator
from tests.helpers import ROOT, image_bytes, scene_with_shapes

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
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])


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


@SIZES
def test_a_person_signs_up_uploads_runs_opens_downloads_recognises_and_signs_out(
    page: Any, stack: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    check_screen(page, "01-sign-in")
    sign_up(page)
    check_screen(page, "02-workspace-empty")

    # Every POST that leaves the API's origin is a presigned upload going straight to storage.
    storage_posts: list[str] = []
    page.on(
        "request",
        lambda r: storage_posts.append(r.url) if r.method == "POST" and not r.url.startswith(stack.api) else None,
    )
    photo = CORPUS / "pillow-13.0.0" / "xmp_test.jpg"  # a real photograph, from Pillow's test suite
    with Image.open(photo) as shown:
        expected = (800, round(800 * shown.height / shown.width))  # the web preset: 800 wide
    poster = write(tmp_path, "poster.png", big_png())
    scene = scene_with_shapes()
    buffer = io.BytesIO()
    scene.image.save(buffer, "PNG")
    page.get_by_label("Files", exact=True).set_input_files(
        [str(photo), poster, write(tmp_path, "scene.png", buffer.getvalue())]
    )
    tray = page.get_by_role("list", name="Ready files")
    expect(tray.get_by_role("listitem")).to_have_count(3)
    start(page, 3)
    assert len(storage_posts) == 1, storage_posts  # the big one went straight to S3
    for name in ("xmp_test.jpg", "poster.png", "scene.png"):
        expect(task_row(page, name).get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    # Each row shows its source and its output; the tray keeps the files for the next task.
    row = task_row(page, "xmp_test.jpg")
    expect(row.locator("img.thumb")).to_have_count(2)
    wait_for_pictures(page, ".task img.thumb")
    expect(tray.get_by_role("listitem")).to_have_count(3)
    check_screen(page, "03-tasks-done")

    # The result over the page: before and after at the same scale, a link for an <img> tag.
    view = row.get_by_role("button", name="View")
    view.click()
    result = page.get_by_role("dialog", name="Result: xmp_test.jpg")
    expect(result.get_by_text(f"default: jpeg, {expected[0]}×{expected[1]}")).to_be_visible()
    expect(result.get_by_role("img", name="Output default")).to_be_visible()
    expect(result.get_by_role("img", name="Source: xmp_test.jpg", exact=True)).to_be_visible()
    wait_for_pictures(page, "dialog .compare img")
    before = result.locator(".compare .before").bounding_box()
    after = result.locator(".compare .after").bounding_box()
    assert before == after  # one over the other, the same size
    result.get_by_label("Before and after: how much of the source shows").fill("20")
    clip = result.locator(".compare .before").evaluate("element => getComputedStyle(element).clipPath")
    assert clip == "inset(0px 80% 0px 0px)", clip
    result.get_by_label("Link options for default").fill("rs:fit:200:150/f:webp")
    result.get_by_role("button", name="Copy link to default").click()
    link = result.get_by_label("Link to default", exact=True)
    expect(link).to_have_value(
        re.compile(r"^http://127\.0\.0\.1:\d+/img/[0-9A-Z]{26}/[\w-]{43}/rs:fit:200:150/f:webp/")
    )
    fetched = page.request.get(link.input_value())
    assert (fetched.status, fetched.headers["content-type"]) == (200, "image/webp")
    with Image.open(io.BytesIO(fetched.body())) as linked:
        assert linked.size[0] <= 200 and linked.size[1] <= 150
    check_screen(page, "04-result")
    with page.expect_download() as download_info:
        result.get_by_role("link", name="Download default").click()
    assert download_info.value.suggested_filename == f"xmp_test-{expected[0]}x{expected[1]}.jpg"
    saved = tmp_path / "downloaded"
    download_info.value.save_as(saved)
    with Image.open(saved) as downloaded:
        assert (downloaded.format, downloaded.size) == ("JPEG", expected)
    page.keyboard.press("Escape")
    expect(result).to_be_hidden()
    expect(view).to_be_focused()  # back where the person was

    # The same uploads, another task: the two not wanted leave the tray with a tap each.
    tray.get_by_role("button", name="Remove xmp_test.jpg").click()
    tray.get_by_role("button", name="Remove poster.png").click()
    expect(tray.get_by_role("listitem")).to_have_count(1)
    page.get_by_label("Recognise (detection and scene)").check()
    models = page.get_by_role("group", name="Detection model")
    expect(models.get_by_role("radio")).not_to_have_count(0)
    check_screen(page, "05-recognise")
    start(page, 1)
    row = task_row(page, "scene.png").filter(has=page.get_by_text("infer", exact=True))
    expect(row.get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    row.get_by_role("button", name="View").click()
    result = page.get_by_role("dialog", name="Result: scene.png")
    expect(result.get_by_text("Scene: stripes")).to_be_visible()
    expect(result.get_by_role("img", name=f"{len(scene.shapes)} detections")).to_be_visible()
    boxes = result.locator("svg g")
    expect(boxes).to_have_count(len(scene.shapes))
    labels = result.get_by_role("list", name="Detections").get_by_role("listitem")
    assert sorted(text.split(":")[0] for text in labels.all_inner_texts()) == sorted(s.label for s in scene.shapes)
    # A label and its box light up together, from either side.
    labels.nth(1).hover()
    expect(result.locator("svg g.active")).to_have_count(1)
    assert result.locator("svg g.active text").text_content().split(" ")[0] == labels.nth(1).inner_text().split(":")[0]
    boxes.last.locator("rect").hover()  # the smallest, drawn over the others
    expect(result.locator("li.active")).to_have_count(1)
    labels.nth(0).focus()
    expect(result.locator("svg g.active")).to_have_count(1)
    check_screen(page, "06-detections")
    result.get_by_role("button", name="Close").click()
    with page.expect_download() as result_download:
        row.get_by_role("link", name="Download").click()
    assert result_download.value.suggested_filename == "scene-detections.json"
    saved_result = json.loads(Path(result_download.value.path()).read_text())
    assert len(saved_result["result"]["detections"]) == len(scene.shapes)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # the cookie went with it


@same_on_any_emulator
@SIZES
def test_a_rejected_file_says_why_and_is_not_started(page: Any, page_errors: list[str], tmp_path: Path) -> None:
    sign_up(page)
    page.get_by_label("Files", exact=True).set_input_files([write(tmp_path, "notes.jpg", b"plain text, not a picture")])
    expect(page.get_by_text("rejected:")).to_contain_text("not an image or video this service can read")
    expect(page.get_by_text("0 files ready")).to_be_visible()
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_disabled()
    check_screen(page, "10-rejected")
    # The upload's 400 is the refusal shown above: the one failed request this test expects.
    expected = [error for error in page_errors if error.endswith("/files") or "status of 400" in error]
    assert len(expected) == 2, page_errors
    page_errors[:] = [error for error in page_errors if error not in expected]


@same_on_any_emulator
@SIZES
def test_a_guest_works_then_keeps_the_account_and_signs_in_with_it_later(page: Any, tmp_path: Path) -> None:
    page.get_by_role("button", name="Continue as guest").click()
    expect(page.get_by_text("Guest: your work is kept until")).to_be_visible()
    page.get_by_label("Files", exact=True).set_input_files(
        [write(tmp_path, "cat.png", image_bytes((300, 200), fmt="PNG"))]
    )
    page.get_by_label("Preset").select_option("thumbnails")
    start(page, 1)
    expect(task_row(page, "cat.png").get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    check_screen(page, "08-guest")

    username = f"kept-{uuid.uuid4().hex[:8]}"
    page.get_by_role("button", name="Keep this account").click()
    page.get_by_label("New username").fill(username)
    page.get_by_label("New password").fill("a-long-password")
    page.get_by_role("button", name="Keep account").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Sign in").click()
    expect(task_row(page, "cat.png").get_by_text("done", exact=True)).to_be_visible()


@same_on_any_emulator
@SIZES
def test_the_app_is_usable_by_keyboard_alone(page: Any, tmp_path: Path) -> None:
    expect(page.get_by_label("Username")).to_be_visible()  # the page has asked who is signed in
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(f"keys-{uuid.uuid4().hex[:8]}")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The file picker opens from the keyboard; the test hands it the file as a person would pick it.
    page.get_by_label("Files", exact=True).focus()
    expect(page.get_by_label("Files", exact=True)).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files([write(tmp_path, "keys.png", image_bytes((200, 100), fmt="PNG"))])
    expect(page.get_by_text("1 file ready")).to_be_visible(timeout=30_000)
    page.get_by_label("Preset").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    row = task_row(page, "keys.png")
    expect(row.get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    row.get_by_role("button", name="View").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Result: keys.png")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("dialog").get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row.get_by_role("button", name="View")).to_be_focused()


@same_on_any_emulator
def test_a_page_of_another_origin_cannot_act_with_the_session_cookie(page: Any, stack: Any, web: str) -> None:
    """The web fixture's server is on 127.0.0.1 too: the same site (ports do not count), so the
    SameSite=Strict cookie does go along; the API's origin check is what refuses."""
    sign_up(page)
    other = page.context.new_page()
    other.goto(f"{web}/pic.png")
    status = other.evaluate(
        """async (api) => {
            const answer = await fetch(api + '/files', {method: 'POST', credentials: 'include', mode: 'cors',
                headers: {'Content-Type': 'text/plain'}, body: '{"url": "http://example.com/x.jpg"}'}).catch(e => null);
            return answer ? answer.status : 'blocked';
        }""",
        stack.api,
    )
    assert status == "blocked"  # no CORS for other origins: the browser hides the answer
    listed = page.evaluate("async () => (await (await fetch('/files')).json()).items.length")
    assert listed == 0  # and the request, which did reach the API, changed nothing


@SIZES
def test_the_task_list_pages_filters_zips_and_deletes(page: Any, tmp_path: Path) -> None:
    sign_up(page)
    names = [f"p{index:02d}.png" for index in range(11)]
    page.get_by_label("Files", exact=True).set_input_files(
        [write(tmp_path, name, image_bytes((60 + index, 40), fmt="PNG")) for index, name in enumerate(names)]
    )
    start(page, 11)
    tasks = page.get_by_role("list", name="Task list").get_by_role("listitem")
    expect(page.get_by_role("button", name="Next page")).to_be_enabled(timeout=TASK_TIMEOUT_MS)
    expect(tasks).to_have_count(10)
    expect(page.get_by_text("Page 1 of 2 · 11 tasks")).to_be_visible(timeout=10_000)
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Page 2 of 2 · 11 tasks")).to_be_visible()
    expect(tasks).to_have_count(1)
    expect(task_row(page, "p00.png")).to_be_visible()  # newest first: the first upload is last
    page.get_by_role("button", name="Previous page").click()
    expect(tasks.get_by_text("done", exact=True)).to_have_count(10, timeout=TASK_TIMEOUT_MS)

    page.get_by_label("Order").select_option("created_at")
    expect(tasks.first.get_by_text("p00.png", exact=True)).to_be_visible()  # oldest first now
    page.get_by_label("Order").select_option("-created_at")
    page.get_by_label("Format").select_option("webp")
    expect(page.get_by_text("No tasks with these filters.")).to_be_visible()
    page.get_by_label("Format").select_option("")
    page.get_by_label("Status").select_option("failed")
    expect(page.get_by_text("No tasks with these filters.")).to_be_visible()
    page.get_by_label("Status").select_option("done")
    expect(tasks).to_have_count(10)
    page.get_by_label("Status").select_option("")

    page.get_by_label("Select p10.png").check()
    page.get_by_label("Select p09.png").check()
    page.get_by_role("button", name="Download 2 as ZIP").click()
    archive = task_row(page, "ZIP of 2 tasks")
    expect(archive.get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    expect(archive).to_contain_text("p10.png · p09.png")  # which tasks, not only how many
    check_screen(page, "07-task-list")
    with page.expect_download() as download_info:
        archive.get_by_role("link", name="Download").click()
    assert download_info.value.suggested_filename.endswith(".zip")
    saved = tmp_path / "archive.zip"
    download_info.value.save_as(saved)

    with zipfile.ZipFile(saved) as zipped:
        assert len(zipped.namelist()) == 2

    task_row(page, "p10.png").get_by_role("button", name="Delete").click()
    expect(task_row(page, "p10.png")).to_have_count(0)


@same_on_any_emulator
@SIZES
def test_a_cover_resize_takes_its_gravity_from_a_choice(page: Any, stack: Any, tmp_path: Path) -> None:
    """The gravity field is a select of the engine's gravities (it once rendered as a number input,
    its list read before it was declared), and the chosen one reaches the task."""
    sign_up(page)
    page.get_by_label("Files", exact=True).set_input_files(
        [write(tmp_path, "wide.png", image_bytes((600, 200), fmt="PNG"))]
    )
    page.get_by_label("Preset").select_option("custom")
    page.get_by_label("Operation", exact=True).select_option("resize")
    page.get_by_role("button", name="Add operation").click()
    step = page.get_by_role("group", name="1. Resize")
    step.get_by_label("Fit").select_option("cover")
    gravity = step.get_by_label("Gravity")
    assert gravity.evaluate("element => element.tagName") == "SELECT"
    assert "attention" in gravity.locator("option").all_inner_texts()
    gravity.select_option("attention")
    start(page, 1)
    expect(task_row(page, "wide.png").get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    tasks = page.evaluate("async () => (await (await fetch('/tasks')).json()).items")
    (resize,) = tasks[0]["spec"]["operations"]
    assert (resize["fit"], resize["gravity"]) == ("cover", "attention")


@same_on_any_emulator
@SIZES
def test_a_video_plays_inline_and_a_heic_shows_through_its_preview(page: Any, tmp_path: Path) -> None:
    """A video output plays in the result, from the bucket (the page's policy names its origin), and
    a HEIC source, which Chromium cannot show, appears as its preview everywhere it is shown."""
    from tests.e2e.test_video_e2e import phone_clip

    sign_up(page)
    clip = phone_clip(tmp_path / "walk.mp4", seconds=1, size=(320, 240))
    heic = CORPUS / "pillow-heif-1.8.1" / "heif" / "RGB_10__128x128.heif"  # from pillow-heif's test suite
    page.get_by_label("Files", exact=True).set_input_files([str(clip)])
    page.get_by_label("Preset").select_option("custom")
    page.get_by_label("Output format").select_option("mp4")
    start(page, 1)
    tray = page.get_by_role("list", name="Ready files")
    tray.get_by_role("button", name="Remove walk.mp4").click()
    page.get_by_label("Files", exact=True).set_input_files([str(heic)])
    page.get_by_label("Preset").select_option("web")
    start(page, 1)
    heic_row = task_row(page, "RGB_10__128x128.heif")
    expect(heic_row.get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    video_row = task_row(page, "walk.mp4")
    expect(video_row.get_by_text("done", exact=True)).to_be_visible(timeout=TASK_TIMEOUT_MS)
    # The HEIC in the tray and in its row (source and JPEG output), the video's poster frame.
    thumbs = page.locator(".chosen img.thumb, .task img.thumb")
    expect(thumbs).to_have_count(1 + 2 + 2)
    wait_for_pictures(page, ".chosen img.thumb, .task img.thumb")
    video_row.get_by_role("button", name="View").click()
    result = page.get_by_role("dialog", name="Result: walk.mp4")
    video = result.get_by_label("Output default")
    expect(video).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.querySelector('dialog video'); return v?.readyState >= 2 && v.currentTime > 0; }",
        timeout=30_000,
    )  # it plays: frames decoded and time moving
    check_screen(page, "09-video")
