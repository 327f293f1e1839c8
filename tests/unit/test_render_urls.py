"""Render URLs: signing keys through the API, the render function's answers and refusals, the
cache it fills and empties, outputs' stable `cdn_url`s, and the template's distribution against
the local stand-in (its edge functions run in Node beside their Python twins)."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from imgtasks_client import render_urls as client_urls
from PIL import Image

from imgtasks.domain.errors import InvalidInput, NotFound
from imgtasks.domain.render_options import parse
from imgtasks.domain.render_urls import parse_path, render_path, sign
from imgtasks.wiring import wiring
from local_stack.edge import edge_config, edge_path, edge_response_headers
from local_stack.template import Stack, load_template
from tests.helpers import TEMPLATE, FakeLambdaContext, http_event, image_bytes


@dataclass
class Rendered:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers["Content-Type"] == "application/problem+json", self.headers
        found: dict[str, Any] = json.loads(self.body)
        return found


@pytest.fixture
def render(mocked_stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The render function, called as the distribution's failover origin calls its URL."""
    from imgtasks_render import handler

    mocked_stack.use_environment_of("RenderFunction", monkeypatch)
    handler.service.cache_clear()

    def get(url: str) -> Rendered:
        answer = handler.lambda_handler(http_event("GET", urlsplit(url).path), FakeLambdaContext())
        body = base64.b64decode(answer["body"]) if answer.get("isBase64Encoded") else answer["body"].encode()
        return Rendered(answer["statusCode"], answer["headers"], body)

    yield get
    handler.service.cache_clear()


def signed(api: Any, file_id: str, options: str = "", **extra: Any) -> str:
    answer = api.call("POST", "/render-urls", json_body={"file_id": file_id, "options": options, **extra})
    assert answer.status == 200, answer.body
    return str(answer.body["url"])


def uploaded(api: Any, data: bytes, content_type: str = "image/jpeg", name: str = "photo.jpg") -> str:
    answer = api.upload(data, name, content_type)
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "ready", answer.body
    return str(answer.body["id"])


def cached_keys(mocked_stack: Any, prefix: str = "") -> list[str]:
    listed = mocked_stack.client("s3").list_objects_v2(Bucket=mocked_stack.outputs["ResultsBucketName"], Prefix=prefix)
    return sorted(entry["Key"] for entry in listed.get("Contents", []) if entry["Key"].startswith(("img/", "renders/")))


# ------------------------------------------------------------------ the grammar and the signature
def test_two_spellings_of_the_same_options_are_one_render_and_a_bad_option_is_named() -> None:
    short = parse(["rs:fit:800:600", "g:attention", "q:80", "f:webp"])
    long = parse(["format:webp", "quality:80", "resize:inside:800:600"])  # any order, long names
    assert short.normalised() == long.normalised() and short.digest() == long.digest()
    assert parse(["p:thumbnail-512"]).digest() == parse(["p:thumbnails:512"]).digest()
    assert parse(["rs:cover:300:300", "g:faces"]).digest() == parse(["rs:cover:300:300", "gravity:face"]).digest()
    assert parse(["rs:cover:300:300", "g:face"]).digest() != parse(["rs:cover:300:300", "g:sm"]).digest()
    assert parse(["q:80", "q:60"]).spec.output.quality == 60  # the last one counts
    assert parse(["q:auto", "f:webp"]).spec.output.quality == "auto"
    assert parse(["f:auto"]).auto_format and not parse(["f:auto", "f:png"]).auto_format
    for options, named, says in (
        (["rs:fit:abc:600"], "rs:fit:abc:600", "width must be a whole number"),
        (["rs:cover:0:600"], "rs:cover:0:600", "needs both width and height"),
        (["zoom:2"], "zoom:2", "unknown option 'zoom'"),
        (["f:bmp"], "f:bmp", "format must be one of"),
        (["q:101"], "q:101", "quality must be from 1 to 100"),
        (["g:fp:1.5:0"], "g:fp:1.5:0", "x must be from 0 to 1"),
        (["p:thumbnails"], "p:thumbnails", "name one, p:thumbnails:1024"),
        (["p:huge"], "p:huge", "unknown preset 'huge'"),
    ):
        with pytest.raises(InvalidInput) as refused:
            parse(options)
        assert refused.value.detail.startswith(f"option '{named}': ") and says in refused.value.detail


def test_the_signature_is_hmac_sha256_of_the_rest_of_the_path_as_openssl_computes_it() -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed as the independent HMAC reference (apt-get install openssl)")
    secret, rest = "isk_example-secret", "/rs:fit:800:600/q:80/01ARZ3NDEKTSV4RRFFQ69G5FAV.webp"
    digest = subprocess.run(  # noqa: S603 - the machine's openssl, fixed arguments
        [openssl, "dgst", "-sha256", "-hmac", secret, "-binary"], input=rest.encode(), capture_output=True, check=True
    ).stdout
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert sign(secret, rest) == expected == client_urls.signature(secret, rest)
    path = render_path(
        "01KEY00000000000000000000K", secret, ["rs:fit:800:600", "q:80"], "01ARZ3NDEKTSV4RRFFQ69G5FAV.webp"
    )
    assert path == f"/img/01KEY00000000000000000000K/{expected}{rest}"
    assert (
        client_urls.sign(
            "https://cdn.example",
            "01KEY00000000000000000000K",
            secret,
            "01ARZ3NDEKTSV4RRFFQ69G5FAV.webp",
            "rs:fit:800:600/q:80",
        )
        == "https://cdn.example" + path
    )
    assert parse_path(path).signature_matches(secret)
    assert not parse_path(path.replace("q:80", "q:81")).signature_matches(secret)


# ------------------------------------------------------------------ the template and its stand-in
EDGE_CASES = [
    ("/img/k/s/rs:fit:800:600/f:auto/01F", "image/avif,image/webp,*/*"),
    ("/img/k/s/rs:fit:800:600/f:auto/01F", "image/webp,*/*;q=0.8"),
    ("/img/k/s/f:auto/01F", "text/html,*/*"),
    ("/img/k/s/f:auto/01F", ""),
    ("/img/k/s/format:auto/01F/~webp", "image/avif"),  # a suffix the viewer brought is replaced
    ("/img/k/s/f:auto/f:png/01F", "image/avif"),  # a later format option wins: not auto
    ("/img/k/s/f:webp/01F/~avif", "image/avif"),
    ("/img/k/s/01F.jpg", "image/avif"),
    ("/files/01F", "image/avif"),
    ("/img", ""),
]


def _template_function(name: str) -> str:
    return str(load_template(TEMPLATE)["Resources"][name]["Properties"]["FunctionCode"])


def test_the_templates_edge_functions_do_what_the_local_stand_in_does() -> None:
    """The JavaScript CloudFront runs, run by Node, against the stand-in's Python twins."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js runs the template's CloudFront Functions here: apt-get install nodejs")
    # Each in a scope of its own, as CloudFront runs them (both are named `handler`).
    script = (
        "var requestHandler = (function () {\n"
        + _template_function("RenderRequestFunction")
        + "\nreturn handler; })();\nvar responseHandler = (function () {\n"
        + _template_function("RenderResponseFunction")
        + "\nreturn handler; })();\n"
        + "var cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        + "console.log(JSON.stringify(cases.map(function (c) {\n"
        + "  var headers = c[1] ? {accept: {value: c[1]}} : {};\n"
        + "  var uri = requestHandler({request: {uri: c[0], headers: headers}}).uri;\n"
        + "  var response = responseHandler({request: {uri: uri}, response: {headers: {}}});\n"
        + "  return [uri, response.headers.vary ? response.headers.vary.value : null];\n"
        + "})));\n"
    )
    ran = subprocess.run(  # noqa: S603 - the machine's node, the template's code
        [node, "-e", script], input=json.dumps(EDGE_CASES), capture_output=True, text=True, check=True
    )
    in_javascript = json.loads(ran.stdout)
    in_python = [
        [edge_path(uri, accept), edge_response_headers(edge_path(uri, accept)).get("Vary")]
        for uri, accept in EDGE_CASES
    ]
    assert in_javascript == in_python
    assert (
        in_python[0][0].endswith("/01F/~avif")
        and in_python[1][0].endswith("/~webp")
        and in_python[2][0].endswith("/~jpeg")
    )


def test_the_distribution_reads_the_private_bucket_first_then_the_render_function(mocked_stack: Any) -> None:
    template = load_template(TEMPLATE)
    resources = template["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    (group,) = config["OriginGroups"]["Items"]
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == group["Id"]
    assert [member["OriginId"] for member in group["Members"]["Items"]] == ["cache", "render"]
    assert sorted(group["FailoverCriteria"]["StatusCodes"]["Items"]) == [403, 404]
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    # A `no-store` answer (a refusal, the 307 of an answer over 6 MB) is not kept at all.
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == {"Ref": "RenderCachePolicy"}
    policy = resources["RenderCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (policy["MinTTL"], policy["MaxTTL"]) == (0, 31536000)
    assert {entry["ErrorCode"]: entry["ErrorCachingMinTTL"] for entry in config["CustomErrorResponses"]} == {
        400: 0,
        403: 0,
        404: 0,
    }
    # The cache: the results bucket through S3 origin access control, no public access.
    assert origins["cache"]["DomainName"] == {"Fn::GetAtt": ["ResultsBucket", "RegionalDomainName"]}
    cache_oac = resources["CacheOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (cache_oac["OriginAccessControlOriginType"], cache_oac["SigningBehavior"]) == ("s3", "always")
    assert resources["ResultsBucket"]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    # The bucket lets this distribution read img/* and nothing else.
    statements = resources["ResultsBucketTlsOnly"]["Properties"]["PolicyDocument"]["Statement"]
    (allowed,) = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allowed["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allowed["Action"] == "s3:GetObject"
    assert allowed["Resource"] == {"Fn::Sub": "${ResultsBucket.Arn}/img/*"}
    assert "${Distribution}" in allowed["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    # The render function: an IAM-authenticated URL that only this distribution may call.
    render_oac = resources["RenderOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert render_oac["OriginAccessControlOriginType"] == "lambda"
    assert resources["RenderFunctionUrl"]["Properties"]["AuthType"] == "AWS_IAM"
    for permission in ("RenderFunctionUrlPermission", "RenderFunctionInvokePermission"):
        granted = resources[permission]["Properties"]
        assert (
            granted["Principal"] == "cloudfront.amazonaws.com" and "${Distribution}" in granted["SourceArn"]["Fn::Sub"]
        )
    # The stand-in reads the same configuration: the same bucket, the same function, the same codes.
    stack = mocked_stack.provisioned.stack
    found = edge_config(stack)
    assert found is not None
    assert found.bucket == mocked_stack.outputs["ResultsBucketName"]
    assert found.render_function == "RenderFunction"
    assert found.failover_statuses == {403, 404} and found.viewer_request and found.viewer_response
    assert edge_config(Stack({"Resources": {}}, "empty")) is None


# ------------------------------------------------------------------ keys
def test_signing_keys_are_made_listed_and_revoked_and_a_guest_cannot_make_one(api: Any) -> None:
    from tests.unit.test_sessions import Browser

    api.sign_up()
    first = api.call("POST", "/signing-keys")
    assert first.status == 201 and first.body["secret"].startswith("isk_")
    second = api.call("POST", "/signing-keys").body
    listed = api.call("GET", "/signing-keys").body
    assert [key["id"] for key in listed["items"]] == [second["id"], first.body["id"]]  # newest first
    assert all(key["secret"] is None for key in listed["items"])
    assert listed["render_base_url"].startswith("https://")
    assert api.call("DELETE", f"/signing-keys/{first.body['id']}").status == 204
    assert api.call("DELETE", f"/signing-keys/{first.body['id']}").status == 404
    bob = api.sign_up("bob")
    assert api.call("DELETE", f"/signing-keys/{second['id']}", token=bob).status == 404  # not bob's

    browser = Browser(api)
    assert browser.call("POST", "/auth/guest")["statusCode"] == 201
    refused = browser.call("POST", "/signing-keys")
    assert refused["statusCode"] == 403 and "guest" in refused["json"]["detail"]


# ------------------------------------------------------------------ the render function
def test_a_render_url_answers_the_image_once_and_every_wrong_url_is_refused(
    api: Any, render: Any, mocked_stack: Any
) -> None:
    alice = api.sign_up()
    file_id = uploaded(api, image_bytes((1200, 900)))
    url = signed(api, file_id, "rs:fit:400:300/q:80/f:webp")
    answer = render(url)
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "image/webp"
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(answer.body)).size == (400, 300)
    path = urlsplit(url).path
    assert cached_keys(mocked_stack, "img/") == [path[1:]]  # the distribution's next lookup finds it

    # Another spelling of the same options: a new URL, the same render (copied, not made again).
    again = render(signed(api, file_id, "format:webp/quality:80/resize:inside:400:300"))
    assert again.status == 200 and again.body == answer.body
    assert len(cached_keys(mocked_stack, "renders/")) == 1 and len(cached_keys(mocked_stack, "img/")) == 2

    key_id = path.split("/")[2]
    forged = path.replace("q:80", "q:90")
    assert render(forged).status == 403
    assert "signature does not match" in render(forged).problem["detail"]
    assert render(path.replace(key_id, "01ARZ3NDEKTSV4RRFFQ69G5FAV")).status == 403  # no such key
    assert render(f"/img/{key_id}").status == 403  # no signature at all
    bad = signed(api, file_id, "rs:fit:400:300")
    bad_path = urlsplit(bad).path
    bob = api.sign_up("bob")
    bobs_file = uploaded_as(api, bob)
    api.token = alice
    assert api.call("POST", "/render-urls", json_body={"file_id": bobs_file, "options": ""}).status == 404
    foreign = render_path(key_id, _secret_of(api, key_id), [], bobs_file)
    assert render(foreign).status == 404  # bob's file, alice's key: answered as a missing file
    assert render(render_path(key_id, _secret_of(api, key_id), [], "01ARZ3NDEKTSV4RRFFQ69G5FAV")).status == 404
    bad_option = render(render_path(key_id, _secret_of(api, key_id), ["rs:fit:400:abc"], file_id))
    assert bad_option.status == 400 and bad_option.problem["detail"].startswith("option 'rs:fit:400:abc'")
    assert render(bad_path).status == 200
    refused = api.call("POST", "/render-urls", json_body={"file_id": file_id, "options": "spin:90"})
    assert refused.status == 400 and "option 'spin:90'" in refused.body["detail"]


def _secret_of(api: Any, key_id: str) -> str:
    found = api.services.signing_keys.get(key_id)
    assert found is not None
    return str(found.secret)


def uploaded_as(api: Any, token: str) -> str:
    answer = api.upload(image_bytes((64, 48)), "bob.jpg", "image/jpeg", token=token)
    assert answer.status == 201
    return str(answer.body["id"])


def test_a_source_over_the_limits_is_a_422_with_the_catalog_code(
    api: Any, render: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.sign_up()
    file_id = uploaded(api, image_bytes((1200, 900)))
    url = signed(api, file_id, "rs:fit:100:100")
    monkeypatch.setenv("MAX_IMAGE_PIXELS", "500000")  # the render function's limit, lower than the upload's
    from imgtasks_render import handler

    handler.service.cache_clear()
    answer = render(url)
    assert answer.status == 422 and answer.problem["code"] == "image_too_large", answer.body


def test_renders_past_a_keys_minute_are_a_429_with_retry_after(
    api: Any, render: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENDERS_PER_MINUTE", "2")
    api.sign_up()
    file_id = uploaded(api, image_bytes((300, 200)))
    statuses = [render(signed(api, file_id, f"rs:fit:{side}:{side}")) for side in (50, 60, 70)]
    assert [answer.status for answer in statuses[:2]] == [200, 200]
    assert statuses[2].status == 429 and 1 <= int(statuses[2].headers["Retry-After"]) <= 60


def test_an_answer_over_lambdas_6_mb_is_a_redirect_to_the_same_url_which_the_bucket_then_serves(
    api: Any, render: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    noise = np.random.default_rng(7).integers(0, 256, (900, 1200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG", quality=95)
    file_id = uploaded(api, buffer.getvalue())
    url = signed(api, file_id, "rs:fill:1800:1800:1/f:png")  # about 9.7 MB of PNG noise
    answer = render(url)
    path = urlsplit(url).path
    assert answer.status == 307, answer.body
    assert answer.headers["Location"] == path and answer.headers["Cache-Control"] == "no-store"
    stored = mocked_stack.client("s3").get_object(Bucket=mocked_stack.outputs["ResultsBucketName"], Key=path[1:])
    assert stored["ContentLength"] > 6 * 1024 * 1024 and stored["ContentType"] == "image/png"
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"


def test_outputs_carry_a_cdn_url_of_their_own_bytes_and_deleting_the_file_or_key_empties_the_cache(
    api: Any, render: Any, process: Any, dispatch: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    file_id = uploaded(api, image_bytes((640, 480)))
    created = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "preset": "web"})
    task_id = created.body["tasks"][0]["id"]
    process.drain()
    (output,) = api.call("GET", f"/tasks/{task_id}").body["result"]["outputs"]
    assert output["cdn_url"].endswith(f"/{output['file_id']}.jpg")
    (key,) = api.call("GET", "/signing-keys").body["items"]  # made on first use
    assert f"/img/{key['id']}/" in output["cdn_url"]
    served = render(output["cdn_url"])
    record = api.services.file_records.get(output["file_id"])
    stored = mocked_stack.client("s3").get_object(Bucket=record.bucket, Key=record.key)
    assert served.status == 200 and served.body == stored["Body"].read()  # the bytes as they are
    thumbnail = render(signed(api, output["file_id"], "rs:cover:64:64/f:webp"))
    assert thumbnail.status == 200 and cached_keys(mocked_stack)

    assert api.call("DELETE", f"/tasks/{task_id}").status == 204  # deletes its output file
    dispatch.drain()
    assert cached_keys(mocked_stack) == []
    assert render(output["cdn_url"]).status == 404

    source = render(signed(api, file_id, "rs:fit:32:32"))
    assert source.status == 200 and cached_keys(mocked_stack, "img/")
    assert api.call("DELETE", f"/signing-keys/{key['id']}").status == 204
    dispatch.drain()
    assert cached_keys(mocked_stack, "img/") == []
    assert render(output["cdn_url"]).status == 403


def test_the_client_signs_the_url_the_service_signs(api: Any) -> None:
    api.sign_up()
    file_id = uploaded(api, image_bytes((64, 48)))
    key = api.call("POST", "/signing-keys").body
    base = api.call("GET", "/signing-keys").body["render_base_url"]
    by_service = signed(api, file_id, "rs:fit:32:32/f:webp", key_id=key["id"])
    by_client = client_urls.sign(base, key["id"], key["secret"], file_id, ["rs:fit:32:32", "f:webp"])
    assert by_client == by_service
    wiring.cache_clear()


def test_a_video_is_served_as_it_is_without_options_and_as_its_upright_poster_frame_with_them(
    api: Any, render: Any, tmp_path: Any
) -> None:
    from tests.unit.test_video import make_clip

    api.sign_up()
    clip = make_clip(tmp_path / "phone.mp4", frames=30, size=(320, 240), rotation=90).read_bytes()
    answer = api.upload(clip, "phone.mp4", "video/mp4")
    assert answer.status == 201 and answer.body["status"] == "ready", answer.body
    file_id = answer.body["id"]
    plain = render(signed(api, file_id))
    assert (plain.status, plain.headers["Content-Type"], plain.body) == (200, "video/mp4", clip)
    poster = render(signed(api, file_id, "rs:fit:120:120"))
    assert (poster.status, poster.headers["Content-Type"]) == (200, "image/jpeg"), poster.body
    with Image.open(io.BytesIO(poster.body)) as shown:
        assert shown.size == (90, 120)  # recorded on its side, shown upright
    webp = render(signed(api, file_id, "rs:fit:120:120/f:webp"))
    assert webp.headers["Content-Type"] == "image/webp"


def test_two_first_uses_at_once_make_one_key_and_a_revoked_first_key_is_not_made_again(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    keys, records = api.services.signing_keys, api.services.signing_key_records
    real_list = records.list_owned
    rival: list[Any] = []

    def listed_before_the_rival(owner_id: str) -> list[Any]:
        """The other first use (a webhook event beside this read) makes its key right after this
        one listed none."""
        if rival:
            return real_list(owner_id)
        rival.append(None)
        rival[0] = keys.newest(owner_id)  # lists through here again: sees none, makes its key
        return []

    monkeypatch.setattr(records, "list_owned", listed_before_the_rival)
    mine = keys.newest(owner)
    assert mine.id == rival[0].id and mine.secret == rival[0].secret  # its key, not a second one
    monkeypatch.setattr(records, "list_owned", real_list)
    assert [key.id for key in keys.list(owner)] == [mine.id]

    keys.revoke(owner, mine.id)
    again = keys.newest(owner)  # all revoked: a new key, under a new id
    assert again.id != mine.id and [key.id for key in keys.list(owner)] == [again.id]
    made = keys.create(owner, guest=False)
    assert keys.newest(owner).id == made.id  # a key the owner makes is the newest


def test_a_first_use_key_is_not_listed_until_it_wins_so_no_reader_signs_with_a_losers_key(api: Any) -> None:
    """A page asks for ten previews at once: ten first uses. A reader that listed the owner's keys
    while a losing candidate existed once signed its URLs with a key deleted a moment later (403)."""
    owner = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    keys, records = api.services.signing_keys, api.services.signing_key_records
    real_claim = records.claim_first
    listed_meanwhile: list[list[str]] = []

    def claim_after_a_reader_listed(owner_id: str, key_id: str, previous: str | None) -> bool:
        listed_meanwhile.append([key.id for key in records.list_owned(owner_id)])
        if len(listed_meanwhile) == 1:  # the rival claims first: this candidate loses
            assert keys.newest(owner_id).id != key_id
        return real_claim(owner_id, key_id, previous)

    records.claim_first = claim_after_a_reader_listed  # type: ignore[method-assign]
    try:
        mine = keys.newest(owner)
    finally:
        records.claim_first = real_claim  # type: ignore[method-assign]
    assert listed_meanwhile[0] == [] and listed_meanwhile[1] == []  # no candidate was ever listed
    assert [key.id for key in keys.list(owner)] == [mine.id]
    assert keys.get(mine.id) is not None


def test_a_file_deleted_while_its_render_is_made_leaves_nothing_behind_and_odd_paths_are_refused(
    api: Any, render: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    file_id = uploaded(api, image_bytes((300, 200)))
    url = signed(api, file_id, "rs:fit:100:100")
    services = api.services

    def deleted_meanwhile(record: Any, options: Any) -> bytes:
        services.files.delete(services.file_records.get(file_id).owner_id, file_id)
        services.cached_renders.forget_file(file_id)  # the sweep the deletion sets off, done first
        return image_bytes((100, 66))

    racing = services.render_service(deleted_meanwhile, renders_per_minute=100)
    with pytest.raises(NotFound):
        racing.serve(urlsplit(url).path)
    assert cached_keys(mocked_stack) == []  # the render's own objects went with the file

    other = uploaded(api, image_bytes((300, 200)))
    path = urlsplit(signed(api, other, "rs:fit:50:50")).path
    assert render(path + ".").status == 404  # an empty extension names no object
    # A `#` would begin the URL's fragment: colours are written without it.
    bad_colour = api.call("POST", "/render-urls", json_body={"file_id": other, "options": "bg:#ff0000"})
    assert bad_colour.status == 400 and "rrggbb" in bad_colour.body["detail"]


def test_a_revoked_key_and_a_deleted_file_are_invalidated_at_the_distributions_edges(
    api: Any, render: Any, dispatch: Any, mocked_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imgtasks_dispatch import dispatch as dispatch_module

    cloudfront = mocked_stack.client("cloudfront")
    origin = {"Id": "cache", "DomainName": "cache.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "render-urls-test",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "cache",
                "ViewerProtocolPolicy": "https-only",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )["Distribution"]["Id"]
    monkeypatch.setenv("DISTRIBUTION_ID", distribution)  # the stand-in's is empty: it has no edges
    dispatch_module.dispatch_wiring.cache_clear()

    def invalidated() -> list[list[str]]:
        listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"].get("Items", [])
        batches = [
            cloudfront.get_invalidation(DistributionId=distribution, Id=entry["Id"])["Invalidation"][
                "InvalidationBatch"
            ]
            for entry in listed
        ]
        return sorted(batch["Paths"]["Items"] for batch in batches)

    api.sign_up()
    kept, deleted = uploaded(api, image_bytes((64, 48))), uploaded(api, image_bytes((64, 48)))
    first = api.call("POST", "/signing-keys").body["id"]
    second = api.call("POST", "/signing-keys").body["id"]
    assert render(signed(api, deleted, "rs:fit:10:10", key_id=first)).status == 200
    assert render(signed(api, deleted, "rs:fit:20:20", key_id=second)).status == 200
    assert render(signed(api, kept, "rs:fit:10:10", key_id=first)).status == 200
    assert api.call("DELETE", f"/files/{deleted}").status == 204
    dispatch.drain()
    assert invalidated() == [sorted([f"/img/{first}/*", f"/img/{second}/*"])]  # every key that signed its renders
    assert api.call("DELETE", f"/signing-keys/{first}").status == 204
    dispatch.drain()
    assert [f"/img/{first}/*"] in invalidated()
