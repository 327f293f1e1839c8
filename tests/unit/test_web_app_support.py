"""What the web app asks of the API beyond the tasks themselves: whether the browser is signed in
(without a 401 on load), previews any browser shows (HEIC, TIFF and video sources, small pictures
for lists), downloads named after the input, and a page policy that lets the buckets' videos play."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.helpers import image_bytes, multipart
from tests.unit.test_render_urls import render
from tests.unit.test_sessions import Browser, sign_up

__all__ = ["render"]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_the_session_state_answers_200_signed_in_or_not_and_a_forged_cookie_counts_as_none(api: Any) -> None:
    browser = Browser(api)
    nobody = browser.call("GET", "/auth/state")
    assert (nobody["statusCode"], nobody["json"]) == (200, {"signed_in": False, "session": None})
    sign_up(browser, "carol")
    signed_in = browser.call("GET", "/auth/state")
    assert signed_in["statusCode"] == 200 and signed_in["json"]["signed_in"] is True
    assert signed_in["json"]["session"]["username"] == "carol"
    assert signed_in["headers"]["Cache-Control"] == "no-store"
    browser.cookie = browser.cookie[:-4] + "AAAA" if browser.cookie else None
    forged = browser.call("GET", "/auth/state")
    assert (forged["statusCode"], forged["json"]["signed_in"]) == (200, False)


def test_a_preview_is_a_small_render_any_browser_shows_of_any_ready_file(api: Any, render: Any) -> None:
    api.sign_up()
    tiff = api.upload(image_bytes((1200, 800), fmt="TIFF"), "scan.tif", "image/tiff").body
    answer = api.call("GET", f"/files/{tiff['id']}/preview")
    assert answer.status == 302
    assert answer.headers["Cache-Control"] == "private, max-age=3600"
    location = answer.headers["Location"]
    assert "/rs:fit:320:320/f:jpeg/" in location
    shown = render(location)
    assert shown.status == 200 and shown.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.body)) as picture:
        assert picture.size == (320, 213)
    bigger = api.call("GET", f"/files/{tiff['id']}/preview?size=1600").headers["Location"]
    with Image.open(io.BytesIO(render(bigger).body)) as picture:
        assert picture.size == (1200, 800)  # fit: never enlarged
    assert api.call("GET", f"/files/{tiff['id']}/preview?size=9000").status == 400
    assert api.call("GET", "/files/01ARZ3NDEKTSV4RRFFQ69G5FAV/preview").status == 404


def test_a_guest_previews_what_browsers_show_as_it_is_and_is_told_why_not_the_rest(api: Any) -> None:
    browser = Browser(api)
    assert browser.call("POST", "/auth/guest")["statusCode"] == 201

    def upload(data: bytes, name: str, content_type: str) -> str:
        body, header = multipart({}, {"file": (name, data, content_type)})
        made = browser.call("POST", "/files", body=body, headers={"content-type": header})
        assert made["statusCode"] == 201, made
        return str(made["json"]["id"])

    photo = upload(image_bytes((64, 48)), "cat.jpg", "image/jpeg")
    shown = browser.call("GET", f"/files/{photo}/preview")
    assert shown["statusCode"] == 302 and shown["headers"]["Cache-Control"] == "private, max-age=600"
    assert parse_qs(urlsplit(shown["headers"]["Location"]).query)["response-content-type"] == ["image/jpeg"]
    scan = upload(image_bytes((64, 48), fmt="TIFF"), "scan.tif", "image/tiff")
    refused = browser.call("GET", f"/files/{scan}/preview")
    assert refused["statusCode"] == 409 and "keep the account" in refused["json"]["detail"]


def test_a_download_is_named_after_its_input_variant_and_size(api: Any, process: Any) -> None:
    api.sign_up()
    source = api.upload(image_bytes((1600, 1200)), "beach photo.jpg").body
    spec = {
        "type": "process",
        "file_ids": [source["id"]],
        "operations": [{"op": "resize", "width": 800}],
        "variants": [{"name": "default"}, {"name": "thumb", "operations": [{"op": "resize", "width": 200}]}],
    }
    created = api.call("POST", "/tasks", json_body=spec)
    assert created.status == 202, created.body
    task_id = created.body["tasks"][0]["id"]
    process.drain()

    def saved_as(query: str) -> str:
        location = api.call("GET", f"/tasks/{task_id}/download?attachment=true{query}").headers["Location"]
        (disposition,) = parse_qs(urlsplit(location).query)["response-content-disposition"]
        return disposition

    assert saved_as("") == 'attachment; filename="beach photo-800x600.jpg"'
    assert saved_as("&variant=thumb") == 'attachment; filename="beach photo-thumb-200x150.jpg"'
    assert api.call("DELETE", f"/files/{source['id']}").status == 204
    assert saved_as("") == f'attachment; filename="{task_id}-800x600.jpg"'


def test_the_page_lets_pictures_and_videos_come_from_the_buckets_and_nowhere_else(
    api: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    from imgtasks_api import web_app

    (tmp_path / "index.html").write_text("<!doctype html><title>imgtasks</title>")
    monkeypatch.setattr(web_app, "APP_ROOT", tmp_path)
    api.sign_up()
    file_id = api.upload(image_bytes((64, 48))).body["id"]
    bucket_origin = origin(api.call("GET", f"/files/{file_id}/content").headers["Location"])
    policy = api.call("GET", "/app/", anonymous=True).headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert bucket_origin in directives["media-src"] and bucket_origin in directives["img-src"]
    assert "https:" not in directives["img-src"] and "http:" not in directives["img-src"]
    assert directives["script-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
