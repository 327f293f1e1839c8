"""Web app flows in a real browser, at desktop and phone size: a guest who keeps the account, the
keyboard alone, a cover resize's gravity."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import same_on_any_emulator
from tests.e2e.web import (
    SIZES,
    TASK_TIMEOUT_MS,
    browser,
    check_screen,
    expect,
    page,
    page_errors,
    playwright_api,
    sign_up,
    size,
    start,
    task_row,
    write,
)
from tests.helpers import image_bytes

__all__ = ["browser", "page", "page_errors", "size"]


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


def open_picker_by_keyboard(page: Any) -> Any:
    """The file picker, opened as a keyboard user does: focus on it, then Space, or Enter if Space
    did not open it (on a loaded machine Chromium once let a Space go by with no chooser)."""
    picker = page.get_by_label("Files", exact=True)
    for key in ("Space", "Enter"):
        picker.focus()
        expect(picker).to_be_focused()
        try:
            with page.expect_file_chooser(timeout=15_000) as chooser:
                page.keyboard.press(key)
        except playwright_api.TimeoutError:
            continue
        return chooser.value
    pytest.fail("neither Space nor Enter opened the file picker from the keyboard")


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
    chooser = open_picker_by_keyboard(page)
    chooser.set_files([write(tmp_path, "keys.png", image_bytes((200, 100), fmt="PNG"))])
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
