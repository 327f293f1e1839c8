"""Render URLs through the distribution's local stand-in, on both emulators: a real photograph (an
EXIF-rotated one from Pillow's test suite) rendered once, then served from the bucket; Accept
negotiation; the 6 MB redirect; a foreign file; a key made, used by the client without a request,
and revoked."""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import requests
from imgtasks_client import Client, SigningKey
from PIL import Image, ImageOps

from scripts.corpus import CORPUS
from tests.e2e.client import Client as HttpClient
from tests.e2e.conftest import same_on_any_emulator

PHOTO = CORPUS / "pillow-13.0.0" / "hopper_orientation_6.jpg"  # stored sideways, EXIF orientation 6


def psnr(a: Image.Image, b: Image.Image) -> float:
    error = np.mean((np.asarray(a.convert("RGB"), np.float64) - np.asarray(b.convert("RGB"), np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(error, 1e-12)))


def signed_in(stack: Any) -> tuple[HttpClient, Client]:
    http = HttpClient(stack.api)
    username = f"render-{uuid.uuid4().hex[:8]}"
    http.sign_up(username, "correct-horse")
    return http, Client(stack.api, token=http.token)


def uploaded(http: HttpClient, data: bytes, name: str = "photo.jpg") -> str:
    answer = http.upload(data, name, "image/jpeg")
    assert answer.status_code == 201 and answer.json()["status"] == "ready", answer.text
    file_id: str = answer.json()["id"]
    return file_id


def test_a_real_photo_is_rendered_once_upright_then_served_from_the_cache_in_each_accepted_format(stack: Any) -> None:
    http, client = signed_in(stack)
    file_id = uploaded(http, PHOTO.read_bytes(), PHOTO.name)
    url = client.urls.sign(file_id, "rs:fit:64:64/f:png")
    first = requests.get(url, timeout=60)
    assert first.status_code == 200, first.text
    assert (first.headers["Content-Type"], first.headers["X-Edge-Origin"]) == ("image/png", "render")
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    again = requests.get(url, timeout=60)
    assert (again.status_code, again.headers["X-Edge-Origin"], again.content) == (200, "cache", first.content)

    # Upright, as Pillow shows the photo once it applies the EXIF orientation, within the engine's error.
    with Image.open(PHOTO) as original:
        reference = ImageOps.exif_transpose(original).convert("RGB")
    reference.thumbnail((64, 64), Image.Resampling.LANCZOS)
    with Image.open(io.BytesIO(first.content)) as rendered:
        assert rendered.size == reference.size
        assert psnr(rendered, reference) > 30

    auto = client.urls.sign(file_id, "rs:fit:64:64/f:auto")
    formats = {}
    for accept, expected in (
        ("image/avif,image/webp,*/*", "image/avif"),
        ("image/webp,*/*", "image/webp"),
        ("*/*", "image/jpeg"),
    ):
        answer = requests.get(auto, headers={"Accept": accept}, timeout=60)
        assert (answer.status_code, answer.headers["Content-Type"]) == (200, expected), answer.text
        assert answer.headers["Vary"] == "Accept"
        formats[expected] = answer.content
        cached = requests.get(auto, headers={"Accept": accept}, timeout=60)
        assert (cached.headers["X-Edge-Origin"], cached.content) == ("cache", answer.content)
    assert len(set(formats.values())) == 3


def test_an_answer_over_lambdas_limit_is_redirected_to_the_bucket_and_refusals_are_problems(stack: Any) -> None:
    http, client = signed_in(stack)
    noise = np.random.default_rng(3).integers(0, 256, (1250, 1250, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG", quality=90)
    file_id = uploaded(http, buffer.getvalue(), "noise.jpg")
    url = client.urls.sign(file_id, "f:png")  # about 4.7 MB of PNG: over what a Lambda answer holds
    redirect = requests.get(url, allow_redirects=False, timeout=60)
    assert redirect.status_code == 307 and redirect.headers["Cache-Control"] == "no-store"
    assert redirect.headers["Location"] == url.removeprefix(stack.api)
    followed = requests.get(url, timeout=60)
    assert (followed.status_code, followed.headers["X-Edge-Origin"]) == (200, "cache")
    assert len(followed.content) > 4 * 1024 * 1024 and followed.content.startswith(b"\x89PNG")

    # Someone else's file, signed with my key: answered as a missing file.
    other, _ = signed_in(stack)
    foreign = uploaded(other, buffer.getvalue(), "theirs.jpg")
    key = client.signing_keys.create()
    base = client.signing_keys.list()[1]
    refused = requests.get(client.urls.sign(foreign, "rs:fit:10:10", key=key, base_url=base), timeout=30)
    assert refused.status_code == 404 and refused.headers["Content-Type"] == "application/problem+json"
    bad = requests.get(client.urls.sign(file_id, "rs:fit:ten:10", key=key, base_url=base), timeout=30)
    assert bad.status_code == 400 and bad.json()["detail"].startswith("option 'rs:fit:ten:10'")


def test_a_key_signs_urls_without_a_request_until_it_is_revoked(stack: Any) -> None:
    http, client = signed_in(stack)
    file_id = uploaded(http, PHOTO.read_bytes(), PHOTO.name)
    key = client.signing_keys.create()
    assert key.secret is not None
    keys, base = client.signing_keys.list()
    assert [listed.id for listed in keys] == [key.id] and keys[0].secret is None
    local = client.urls.sign(
        file_id,
        ["rs:cover:32:32", "g:attention"],
        key=SigningKey(id=key.id, created_at="", secret=key.secret),
        base_url=base,
    )
    assert local == client.urls.sign(file_id, "rs:cover:32:32/g:attention", key=key)  # the service signs alike
    assert requests.get(local, timeout=30).status_code == 200
    assert requests.get(local, timeout=30).headers["X-Edge-Origin"] == "cache"

    client.signing_keys.revoke(key.id)
    # The cached answer goes with the key (the change stream's dispatcher deletes it), then the
    # render origin refuses the signature's key.
    deadline = time.monotonic() + 30
    while (answer := requests.get(local, timeout=30)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked key's cached answer is still served"
        time.sleep(0.5)
    assert answer.status_code == 403 and "unknown signing key" in answer.json()["detail"]


@same_on_any_emulator
def test_the_cli_makes_a_key_and_signs_urls_with_it_or_through_the_service(stack: Any, tmp_path: Path) -> None:
    from tests.e2e.test_client_e2e import cli
    from tests.e2e.test_client_e2e import signed_in as cli_signed_in

    username = cli_signed_in(stack, tmp_path)
    http = HttpClient(stack.api)
    signed_in_as = {"grant_type": "password", "username": username, "password": "correct-horse"}
    http.token = http.request("POST", "/auth/token", data=signed_in_as).json()["access_token"]
    file_id = uploaded(http, PHOTO.read_bytes(), PHOTO.name)
    made = cli(stack, tmp_path, "keys", "create", "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    options = ["--op", "rs:fit:48:48", "--op", "f:webp"]
    by_service = cli(stack, tmp_path, "url", file_id, *options)
    by_cli = cli(stack, tmp_path, "url", file_id, *options, "--key-id", key["id"], "--secret", key["secret"])
    assert by_service.returncode == by_cli.returncode == 0, by_service.stderr + by_cli.stderr
    assert by_service.stdout == by_cli.stdout  # the newest key, signed here and there alike
    answer = requests.get(by_cli.stdout.strip(), timeout=30)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "image/webp")
    listed = cli(stack, tmp_path, "keys", "ls")
    assert key["id"] in listed.stdout and key["secret"] not in listed.stdout
    refused = cli(stack, tmp_path, "url", file_id, "--op", "spin:90")
    assert refused.returncode == 1 and "option 'spin:90'" in refused.stderr
