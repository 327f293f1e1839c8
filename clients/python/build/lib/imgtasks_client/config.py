"""Where the client finds the service and its credentials: arguments first, then the environment
(IMGTASKS_URL, IMGTASKS_TOKEN, or IMGTASKS_USERNAME and IMGTASKS_PASSWORD), then a profile in the
profile file (IMGTASKS_CONFIG, default ~/.config/imgtasks/profiles.json), which `imgtasks login`
writes (readable by its owner only)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:3000"
DEFAULT_PROFILE = "default"


def profile_path() -> Path:
    configured = os.environ.get("IMGTASKS_CONFIG")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "imgtasks" / "profiles.json"


def read_profiles() -> dict[str, dict[str, Any]]:
    path = profile_path()
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {}


def write_profile(name: str, values: dict[str, Any] | None) -> Path:
    """Saves (or, with None, removes) a profile; the file is private to its owner."""
    profiles = read_profiles()
    if values is None:
        profiles.pop(name, None)
    else:
        profiles[name] = values
    path = profile_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(profiles, indent=2))
    temporary.chmod(0o600)
    temporary.replace(path)
    return path


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None
    username: str | None
    password: str | None


def resolve_settings(
    url: str | None = None,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    profile: str | None = None,
) -> Settings:
    stored = read_profiles().get(profile or os.environ.get("IMGTASKS_PROFILE") or DEFAULT_PROFILE, {})
    given_credentials = token or username
    return Settings(
        url=(url or os.environ.get("IMGTASKS_URL") or stored.get("url") or DEFAULT_URL).rstrip("/"),
        token=token
        or (None if given_credentials else os.environ.get("IMGTASKS_TOKEN"))
        or (None if given_credentials or os.environ.get("IMGTASKS_USERNAME") else stored.get("token")),
        username=username or os.environ.get("IMGTASKS_USERNAME"),
        password=password or os.environ.get("IMGTASKS_PASSWORD"),
    )
