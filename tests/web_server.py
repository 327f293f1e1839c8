"""A web server on 127.0.0.1 for the URL-ingest tests (unit and e2e): a picture, redirects to it,
to the metadata address and round in a loop, error answers and an endless body."""

from __future__ import annotations

import http.server
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from tests.helpers import image_bytes

PICTURE = image_bytes((120, 80), fmt="PNG")


@cache
def clip() -> bytes:
    """Two seconds of H.264 (tests/unit/test_video.py's clip whose frames show their index)."""
    from tests.unit.test_video import make_clip

    with tempfile.TemporaryDirectory() as folder:
        return make_clip(Path(folder) / "clip.mp4", frames=60).read_bytes()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        routes = {
            "/pic.png": (200, {"Content-Type": "image/png"}, PICTURE),
            "/to-pic": (302, {"Location": "/pic.png"}, b""),
            "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/missing": (404, {}, b"no"),
            "/broken": (503, {}, b"later"),
            "/clip.mp4": (200, {"Content-Type": "video/mp4"}, clip()),
        }
        if self.path == "/endless":
            self.send_response(200)
            self.end_headers()
            chunk = bytes(64 * 1024)
            try:
                for _ in range(100_000):
                    self.wfile.write(chunk)
            except OSError:
                return
            return
        status, headers, body = routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serving() -> Iterator[str]:
    """The server's base URL while it runs."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
