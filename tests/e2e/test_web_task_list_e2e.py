"""The web app's task list in a real browser, at desktop and phone size: pages, filters, orders, a
ZIP of chosen tasks that names them, deletion."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

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
    write,
)
from tests.helpers import image_bytes

__all__ = ["browser", "page", "page_errors", "size"]


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
    # The total is a counter the change stream moves after the tasks: the page reads it again.
    expect(page.get_by_text("Page 1 of 2 · 11 tasks")).to_be_visible()
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
