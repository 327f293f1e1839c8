"""Pictures and videos in the web app, in a real browser at desktop and phone size: a video output
playing inline from the bucket, a HEIC source shown through its preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scripts.corpus import CORPUS
from tests.e2e.conftest import same_on_any_emulator
from tests.e2e.web import (
    SIZES,
    TASK_TIMEOUT_MS,
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
)

__all__ = ["browser", "page", "page_errors", "size"]


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
