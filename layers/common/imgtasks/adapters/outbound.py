"""Outbound HTTP to addresses a client chose (URL ingest), guarded against SSRF.

- http and https only; the name is resolved once and every address it gives is checked: loopback,
  private, link-local, multicast, reserved, unspecified and IPv4-mapped addresses are refused
  (private and loopback may be allowed by configuration, for a local stack; the cloud metadata
  addresses never are);
- the connection goes to the address that was checked (urllib3 with the hostname kept for the
  Host header, SNI and the certificate check), so no second lookup can be rebound;
- at most MAX_REDIRECTS redirects, each checked the same way; connect, read and total timeouts;
- the body is streamed, and the read stops past a byte cap;
- a URL is logged or shown without its user and password (`redacted`).

urllib3 comes with the Lambda runtime (botocore's transport): no package to add."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import urllib3

MAX_REDIRECTS = 3
MAX_URL_LENGTH = 2048
# What a URL a client gives (to fetch, or for webhooks) must look like, as the OpenAPI document
# states it and request validation enforces it (RFC 3986's syntax, ASCII): http or https, an
# optional user, a host (a name or IPv4 address, or an IPv6 address in brackets), a port up to
# 65535. check_url parses it again; check_address checks where it leads.
_HEX = "[0-9A-Fa-f]{1,4}"
_IPV6 = (
    r"({h}:){7}{h}"
    "|"
    r"({h}:){1,7}:"
    "|"
    r"({h}:){1,6}:{h}"
    "|"
    r"({h}:){1,5}(:{h}){1,2}"
    "|"
    r"({h}:){1,4}(:{h}){1,3}"
    "|"
    r"({h}:){1,3}(:{h}){1,4}"
    "|"
    r"({h}:){1,2}(:{h}){1,5}"
    "|"
    r"{h}:(:{h}){1,6}"
    "|"
    r":((:{h}){1,7}|:)"
).replace("{h}", _HEX)
# Unreserved characters, percent escapes and sub-delimiters, all literal inside a class in
# Python's, JavaScript's and pydantic's (Rust's) regular expressions alike.
_REG_NAME = r"[A-Za-z0-9._~%!$&'()*+,;=-]+"
_USER_INFO = r"[A-Za-z0-9._~%!$&'()*+,;=:-]*@"
_PORT = r"(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
WEB_URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://({_USER_INFO})?(\[({_IPV6})\]|{_REG_NAME}){_PORT}([/?#]\S*)?$"
CHUNK_BYTES = 1024 * 1024
# Cloud metadata services, refused even where private addresses are allowed: AWS's instance
# metadata (IPv4 and IPv6) and DNS/time addresses, ECS's task metadata, Alibaba Cloud's
# (100.100.100.200) and Oracle Cloud's (192.0.0.192). GCP's and Azure's are 169.254.169.254 too.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "169.254.170.2",
        "100.100.100.200",
        "192.0.0.192",
    )
)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class OutboundRefused(Exception):
    """The URL, or an address or redirect on its way, is not one the service may reach."""


class OutboundFailed(Exception):
    """The server could not be reached or did not answer well; `transient` when trying again later
    may work (a timeout, a refused connection, a 5xx or 429)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class TooLarge(Exception):
    """The body passed the byte cap."""


def redacted(url: str) -> str:
    """The URL without user and password, for logs and for showing."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of a URL the service may try; OutboundRefused otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise OutboundRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise OutboundRefused("the URL cannot be parsed") from error
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"only http and https URLs are fetched, not {parts.scheme or 'a bare path'}")
    if not parts.hostname:
        raise OutboundRefused("the URL has no host")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_address(address: Address, *, allow_private: bool) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise OutboundRefused(f"{address} is an IPv4-mapped address")
    if address in METADATA_ADDRESSES or address.is_link_local:
        raise OutboundRefused(f"{address} is a link-local or cloud metadata address")
    if address.is_loopback:  # ::1 is also in a reserved block: loopback is its reason
        if not allow_private:
            raise OutboundRefused(f"{address} is a loopback or private address")
        return
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        raise OutboundRefused(f"{address} is a multicast, unspecified or reserved address")
    if not allow_private and (address.is_loopback or address.is_private or not address.is_global):
        raise OutboundRefused(f"{address} is a loopback or private address")


def system_resolver(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OutboundFailed(f"the name {host} does not resolve", transient=True) from error
    return list(dict.fromkeys(str(entry[4][0]) for entry in found))


@dataclass(frozen=True)
class Fetched:
    """An answer with its body still to be read (`chunks`), from `url` after any redirects."""

    url: str
    status: int
    headers: dict[str, str]
    response: Any

    def chunks(self, max_bytes: int, deadline: float) -> Iterator[bytes]:
        """The body in chunks; TooLarge past max_bytes, OutboundFailed past the deadline."""
        read = 0
        try:
            for chunk in self.response.stream(CHUNK_BYTES):
                read += len(chunk)
                if read > max_bytes:
                    raise TooLarge(f"the body is larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise OutboundFailed("the download took too long", transient=True)
                yield chunk
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise OutboundFailed(f"the download broke off ({type(error).__name__})", transient=True) from error
        finally:
            self.response.release_conn()


class OutboundClient:
    def __init__(
        self,
        *,
        allow_private: bool,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 15.0,
        resolver: Resolver = system_resolver,
        user_agent: str = "imgtasks",
    ) -> None:
        self._allow_private = allow_private
        self._timeout = urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s)
        self._resolve = resolver
        self._user_agent = user_agent

    def _address(self, host: str, port: int) -> str:
        """The one address to connect to, once every address of the name has passed the checks."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            addresses = [ipaddress.ip_address(found) for found in self._resolve(host, port)]
        else:
            addresses = [literal]
        if not addresses:
            raise OutboundFailed(f"the name {host} has no address", transient=True)
        for address in addresses:
            check_address(address, allow_private=self._allow_private)
        return str(addresses[0])

    def _pool(self, scheme: str, host: str, port: int) -> Any:
        address = self._address(host, port)
        options: dict[str, Any] = {"timeout": self._timeout, "retries": False, "maxsize": 1}
        if scheme == "https":
            # Connect to the checked address; TLS names and verifies the host.
            return urllib3.HTTPSConnectionPool(
                address, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **options
            )
        return urllib3.HTTPConnectionPool(address, port, **options)

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> Fetched:
        """The answer of the first server that does not redirect (at most MAX_REDIRECTS hops,
        each checked), its body not yet read."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            scheme, host, port = check_url(current)
            pool = self._pool(scheme, host, port)
            parts = urlsplit(current)
            target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
            host_header = host if parts.port is None else f"{host}:{parts.port}"
            if ":" in host and not host.startswith("["):
                host_header = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
            sent = {"User-Agent": self._user_agent, **(headers or {}), "Host": host_header}
            try:
                response = pool.urlopen(
                    method,
                    target,
                    body=body,
                    headers=sent,
                    redirect=False,
                    preload_content=False,
                    assert_same_host=False,
                )
            except urllib3.exceptions.HTTPError as error:
                raise OutboundFailed(f"{host} could not be reached ({type(error).__name__})", transient=True) from error
            if follow_redirects and response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                response.drain_conn()
                response.release_conn()
                current = urljoin(current, response.headers["Location"])
                if response.status == 303:
                    method, body = "GET", None
                continue
            return Fetched(redacted(current), response.status, dict(response.headers), response)
        raise OutboundRefused(f"more than {MAX_REDIRECTS} redirects")
