"""The web app's main walk-through in a real browser, at desktop and phone size: sign up, upload,
run, view, download, recognise on the same uploads, sign out; and what it refuses."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from PIL import Image

from scripts.corpus import CORPUS
from tests.e2e.conftest import same_on_any_emulator
from tests.e2e.web import (
    PHONE,
    SIZES,
    TASK_TIMEOUT_MS,
    big_png,
    browser,
    check_screen,
    expect,
    page,
    page_errors,
    sign_up,
    size,
    start,
    task_row,
    wait_for_pictures,
    write,
)
from tests.helpers import scene_with_shapes

__all__ = ["browser", "page", "page_errors", "size"]


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
    if size == PHONE:
        view.tap()  # a finger: it fails, as a person's tap would, when something covers the button
    else:
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
    models.get_by_role("radio", name="Shapes (circle, rectangle, triangle)").check()
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
    # A label and its box light up together, from either side (the picture loaded: nothing moves).
    wait_for_pictures(page, "dialog .overlay img")
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
    expect(page.get_by_role("list", name="Ready files").locator("img")).to_have_count(0)  # no broken picture
    check_screen(page, "10-rejected")
    # The upload's 400 is the refusal shown above: the one failed request this test expects.
    expected = [error for error in page_errors if error.endswith("/files") or "status of 400" in error]
    assert len(expected) == 2, page_errors
    page_errors[:] = [error for error in page_errors if error not in expected]


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
