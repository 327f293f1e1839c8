"""The operators' page of the web app (#/admin) in a real browser, at desktop and phone size: a
module of its own, so the suite's workers share it apart from the long walk-throughs."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest

from tests.e2e.client import Client
from tests.e2e.conftest import OPERATOR, same_on_any_emulator
from tests.e2e.web import browser, check_screen, overflowing, page, page_errors, sign_up, size

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

__all__ = ["browser", "page", "page_errors", "size"]


@same_on_any_emulator
@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_an_operator_sees_the_operations_page_live(browser: Any, stack: Any, viewport: tuple[int, int]) -> None:
    api = Client(stack.api)
    with contextlib.suppress(AssertionError):  # made by another test of this stack
        api.sign_up(OPERATOR)
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.api}/app/")
    page.get_by_label("Username").fill(OPERATOR)
    page.get_by_label("Password").fill("correct-horse")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Operations").click()
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    expect(page.get_by_role("heading", name="Throughput")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Tasks per minute over the last hour"))).to_be_visible()
    queues = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Dead letters"))
    expect(queues.get_by_role("rowheader")).to_have_count(7)
    expect(page.get_by_role("button", name="Redrive the dead letters of process")).to_be_disabled()
    functions = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="p95"))
    expect(functions.get_by_role("rowheader", name="api", exact=True)).to_be_visible()
    # Live: the page asks again by itself.
    updated = page.get_by_text(re.compile("^updated ")).inner_text()
    expect(page.get_by_text(re.compile("^updated "))).not_to_have_text(updated, timeout=15_000)
    assert overflowing(page, viewport[0]) == []
    check_screen(page, "admin")
    context.close()
    assert errors == [], errors


def test_the_operations_page_is_for_operators_only(page: Any) -> None:
    sign_up(page)
    expect(page.get_by_role("link", name="Operations")).to_have_count(0)
    page.goto(page.url.split("#")[0] + "#/admin")
    expect(page.get_by_role("alert")).to_contain_text("for the operators")
