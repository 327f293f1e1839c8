"""The distribution's local stand-in, on the API's port: a request under /img/ goes where the
template's distribution sends it. Its configuration is read from the template (the origin group's
first member is the results bucket, its second the render function's URL, failover on the
group's status codes), and its viewer functions run as their Python twins (edge_path,
edge_response_headers below), which a test runs beside the template's JavaScript. What it does
not do: cache at an edge (every request reaches the bucket), sign with origin access control
(the emulator takes any key). Each answer says which origin gave
it, in `X-Edge-Origin` (cache or render), which CloudFront does not send."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

from .gateway import build_event, translate_response
from .runtime import FunctionPool
from .template import Stack

log = logging.getLogger("local_stack.edge")

Answer = tuple[int, list[tuple[str, str]], bytes]
PREFIX = "/img/"
NEGOTIATED_MARK = "~"
_AUTO_OPTION = re.compile(r"/(f|format):auto(/|$)")


def negotiate(accept: str) -> str:
    """What f:auto writes for an Accept header: AVIF, then WebP, else JPEG."""
    lowered = accept.lower()
    return "avif" if "image/avif" in lowered else "webp" if "image/webp" in lowered else "jpeg"


def edge_path(path: str, accept: str) -> str:
    """The viewer-request function: a render URL whose last format option is `f:auto` gets the
    format Accept prefers as a last segment (one the viewer brought is dropped first)."""
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "img":
        return path
    if parts[-1].startswith(NEGOTIATED_MARK):
        parts.pop()
    auto = False
    for option in parts[4:-1]:
        name = option.split(":", 1)[0]
        if name in ("f", "format"):
            auto = option[len(name) + 1 :] == "auto"
    if auto:
        parts.append(NEGOTIATED_MARK + negotiate(accept))
    return "/".join(parts)


def edge_response_headers(path: str) -> dict[str, str]:
    """The viewer-response function: an f:auto answer varies with Accept."""
    return {"Vary": "Accept"} if _AUTO_OPTION.search(path) else {}


# What S3 sends with an object that the distribution passes on.
_OBJECT_HEADERS = {"ContentType": "Content-Type", "CacheControl": "Cache-Control", "ETag": "ETag"}


@dataclass(frozen=True)
class EdgeConfig:
    bucket: str
    render_function: str  # the logical id of the function behind the failover origin's URL
    failover_statuses: frozenset[int]
    viewer_request: bool  # whether the template associates the viewer functions
    viewer_response: bool


def edge_config(stack: Stack) -> EdgeConfig | None:
    """The stand-in's configuration from the template's one distribution (None without one)."""
    found = [name for name, res in stack.resources.items() if res["Type"] == "AWS::CloudFront::Distribution"]
    if not found:
        return None
    config = stack.resolve(stack.resources[found[0]]["Properties"])["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    behaviour = config["DefaultCacheBehavior"]
    group = next(item for item in config["OriginGroups"]["Items"] if item["Id"] == behaviour["TargetOriginId"])
    first, second = (member["OriginId"] for member in group["Members"]["Items"])
    bucket = str(origins[first]["DomainName"]).split(".s3.", 1)[0]
    function_name = str(origins[second]["DomainName"]).split(".lambda-url.", 1)[0]
    render_function = next(
        name
        for name, resource in stack.resources.items()
        if resource["Type"] == "AWS::Serverless::Function" and stack.physical[name].ref == function_name
    )
    events = {association["EventType"] for association in behaviour.get("FunctionAssociations", [])}
    return EdgeConfig(
        bucket=bucket,
        render_function=render_function,
        failover_statuses=frozenset(int(code) for code in group["FailoverCriteria"]["StatusCodes"]["Items"]),
        viewer_request="viewer-request" in events,
        viewer_response="viewer-response" in events,
    )


class Edge:
    def __init__(self, config: EdgeConfig, s3: Any, render: FunctionPool) -> None:
        self.config = config
        self._s3 = s3
        self._render = render

    @staticmethod
    def serves(path: str) -> bool:
        return path.startswith(PREFIX)

    def answer(self, method: str, target: str, headers: list[tuple[str, str]], source_ip: str) -> Answer:
        if method not in ("GET", "HEAD"):
            return 403, [("Content-Type", "text/plain")], b"This distribution is not configured to allow the method."
        path = urlsplit(target).path
        accept = next((value for name, value in headers if name.lower() == "accept"), "")
        uri = edge_path(path, accept) if self.config.viewer_request else path
        status, out, body = self._from_bucket(unquote(uri[1:]))
        if status in self.config.failover_statuses:
            status, out, body = self._from_render_function(method, uri, headers, source_ip)
        if self.config.viewer_response:
            added = edge_response_headers(uri)  # set as CloudFront sets them: in place of the origin's
            out = [(name, value) for name, value in out if name.lower() not in {key.lower() for key in added}]
            out.extend(added.items())
        return status, out, body

    def _from_bucket(self, key: str) -> Answer:
        try:
            found = self._s3.get_object(Bucket=self.config.bucket, Key=key)
        except ClientError as error:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 403))
            return (403 if status == 404 else status), [], b""  # no ListBucket for the distribution: 403
        headers = [(header, str(found[field])) for field, header in _OBJECT_HEADERS.items() if field in found]
        return 200, [*headers, ("X-Edge-Origin", "cache")], found["Body"].read()

    def _from_render_function(self, method: str, uri: str, headers: list[tuple[str, str]], source_ip: str) -> Answer:
        # The distribution forwards no viewer header under its cache policy, and no body.
        forwarded = [(name, value) for name, value in headers if name.lower() in ("user-agent",)]
        result = self._render.invoke(build_event(method, uri, forwarded, b"", source_ip, api_id="render"))
        if not result.ok:
            log.error("render function error: %s", (result.error or {}).get("errorMessage"))
            return 502, [("Content-Type", "text/plain")], b"The render origin failed."
        status, out, body = translate_response(result.payload)
        return status, [*out, ("X-Edge-Origin", "render")], body
