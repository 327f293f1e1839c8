"""The generated OpenAPI document against the public contract, api-v1.md: every endpoint, query
parameter and field the contract names must be in the document.

The contract's home is ../shared/docs/api-v1.md (beside the repository in CI and on the team's
machines); docs/api-v1.md is the repository's copy, so a clone anywhere else still tests against
it, and a test fails when the two differ."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from imgtasks_api import openapi
from imgtasks_api.app import app
from tests.helpers import ROOT

SHARED_CONTRACT = ROOT.parent / "shared" / "docs" / "api-v1.md"
CONTRACT_COPY = ROOT / "docs" / "api-v1.md"
NOT_YET: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def contract() -> str:
    source = SHARED_CONTRACT if SHARED_CONTRACT.exists() else CONTRACT_COPY
    return source.read_text(encoding="utf-8")


def test_the_repositorys_copy_of_the_contract_is_current() -> None:
    if not SHARED_CONTRACT.exists():
        pytest.skip(f"{SHARED_CONTRACT} is not beside this clone; the tests use {CONTRACT_COPY}")
    assert CONTRACT_COPY.read_text(encoding="utf-8") == SHARED_CONTRACT.read_text(encoding="utf-8"), (
        "the contract changed: copy ../shared/docs/api-v1.md to docs/api-v1.md and update the API"
    )


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.document(app)


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def properties(document: dict[str, Any], name: str) -> set[str]:
    return set(document["components"]["schemas"][name]["properties"])


def quoted_fields(text: str) -> set[str]:
    """Field names: quoted words right after `{` or `,` (values come after `:` or `|`)."""
    return set(re.findall(r'[{,]\s*"([a-z_]+)"', text))


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["info"]["title"] == "imgtasks"


def test_every_endpoint_of_the_contract_is_documented(contract: str, document: dict[str, Any]) -> None:
    rows = re.findall(r"^\| `(GET|POST|DELETE) (/[^` ?]*)", contract, flags=re.MULTILINE)
    named = re.findall(r"`(GET|POST|DELETE) (/[a-z./]+)`", contract)
    # Render URLs are served by the distribution (or its local stand-in), not by the API: the
    # document describes the API; tests/unit/test_render_urls.py and the e2e suite check them.
    endpoints = {
        (method, re.sub(r"\{[a-z_]+\}", "{x}", path)) for method, path in rows + named if not path.startswith("/img/")
    }
    documented = {
        (method.upper(), re.sub(r"\{[a-z_]+\}", "{x}", path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    documented.add(("GET", "/docs"))  # Swagger UI is served, not described
    documented.add(("GET", "/favicon.ico"))  # likewise: an empty answer for browsers
    assert len(endpoints) >= 20
    assert endpoints - NOT_YET <= documented, sorted(endpoints - NOT_YET - documented)


def test_list_endpoints_take_the_contracts_query_parameters(document: dict[str, Any]) -> None:
    def parameters(path: str) -> set[str]:
        return {p["name"] for p in document["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}

    assert parameters("/files") == {"status", "format", "limit", "cursor", "order"}
    assert parameters("/tasks") == {"status", "type", "format", "limit", "cursor", "order"}
    assert parameters("/tasks/{task_id}/download") == {"variant", "attachment"}


def test_file_and_task_shapes_have_every_field_of_the_contract(contract: str, document: dict[str, Any]) -> None:
    file_line = next(line for line in contract.splitlines() if line.startswith("File:"))
    task_line = next(line for line in contract.splitlines() if line.startswith("Task:"))
    assert quoted_fields(file_line) <= properties(document, "FileOut")
    task_fields = quoted_fields(task_line) - {"code", "message"}
    assert task_fields <= properties(document, "TaskOut")
    assert {"code", "message"} <= properties(document, "TaskErrorOut")
    file_status = document["components"]["schemas"]["FileOut"]["properties"]["status"]["enum"]
    assert set(file_status) == {"pending", "ready", "rejected"}
    task_status = document["components"]["schemas"]["TaskOut"]["properties"]["status"]["enum"]
    assert set(task_status) == {"queued", "running", "done", "failed", "cancelled"}


def test_auth_and_upload_shapes_have_every_field_of_the_contract(document: dict[str, Any]) -> None:
    assert properties(document, "UserOut") == {"id", "username", "created_at"}
    assert properties(document, "TokenOut") == {"access_token", "token_type", "expires_in"}
    assert properties(document, "StartedUploadOut") == {"file", "upload"}
    assert properties(document, "UploadOut") == {"url", "method", "fields", "expires_at"}
    page = {"items", "next_cursor", "total", "pages", "has_next", "has_previous"}
    assert properties(document, "FilePage") == properties(document, "TaskPage") == page
    assert properties(document, "TaskResultOut") == {"id", "status", "result"}
    assert properties(document, "TaskList") == {"tasks"}


def test_validation_failures_are_documented_as_400_problems_never_422(document: dict[str, Any]) -> None:
    """A 422 means one thing only: an Idempotency-Key reused for another request."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            takes_a_key = any(parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", []))
            assert ("422" in operation["responses"]) == takes_a_key, (method, path)
            if takes_a_key:
                assert "Idempotency-Key" in operation["responses"]["422"]["description"]
    create = document["paths"]["/tasks"]["post"]
    assert "application/problem+json" in create["responses"]["400"]["content"]


def test_every_request_body_form_is_documented_one_per_operation(document: dict[str, Any]) -> None:
    """POST /files and POST /tasks take JSON or multipart (both forms of the contract still work);
    the document gives each form an operation of its own, because generated clients stumble on an
    operation with two required body types (openapi-python-client #1451)."""
    forms = {
        "/files": "multipart/form-data",
        "/files/presigned": "application/json",
        "/tasks": "application/json",
        "/tasks/upload": "multipart/form-data",
    }
    for path, media in forms.items():
        assert set(document["paths"][path]["post"]["requestBody"]["content"]) == {media}, path
    assert "POST /files/presigned" in document["paths"]["/files"]["post"]["description"]
    assert "POST /tasks/upload" in document["paths"]["/tasks"]["post"]["description"]
    token = document["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in token


def test_public_endpoints_need_no_token_in_the_document(document: dict[str, Any]) -> None:
    assert document["paths"]["/auth/token"]["post"]["security"] == []
    assert document["paths"]["/tasks"]["get"].get("security") != []
    assert document["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
    assert document["components"]["securitySchemes"]["sessionCookie"] == {
        "type": "apiKey", "in": "cookie", "name": "imgtasks_session"
    }  # fmt: skip
    assert document["paths"]["/auth/session"]["post"]["security"] == []
    assert document["paths"]["/auth/session"]["delete"]["security"] == []
    assert document["paths"]["/auth/session"]["get"].get("security") != []
    assert document["paths"]["/auth/guest"]["post"]["security"] == []


def test_the_error_codes_are_one_catalog_in_the_code_the_contract_and_the_document(
    contract: str, document: dict[str, Any]
) -> None:
    from imgtasks.domain.errors import CATALOG

    rows = re.findall(r"^\| `([a-z_]+)` \| (.+) \| (yes|no) \|$", contract, flags=re.MULTILINE)
    in_contract = {code: (meaning, retried == "yes") for code, meaning, retried in rows}
    in_code = {code.value: (info.meaning, info.retried) for code, info in CATALOG.items()}
    assert in_contract == in_code
    assert set(document["components"]["schemas"]["ErrorCode"]["enum"]) == set(in_code)
    error_code = document["components"]["schemas"]["TaskErrorOut"]["properties"]["code"]
    assert error_code["$ref"] == "#/components/schemas/ErrorCode"
    assert all(f"`{code}`" in error_code["description"] for code in in_code)


def test_no_error_code_is_written_as_a_bare_string_outside_the_catalog() -> None:
    from imgtasks.domain.errors import ErrorCode

    codes = "|".join(code.value for code in ErrorCode)
    bare = re.compile(rf"[\"']({codes})[\"']")
    catalog = ROOT / "layers" / "common" / "imgtasks" / "domain" / "errors.py"
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("functions", "layers")
        for path in (ROOT / folder).rglob("*.py")
        if path != catalog
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("model_path", "accepted", "refused"),
    [
        (
            "imgtasks.domain.operations:ResizeOperation",
            [
                {"op": "resize", "width": 10},
                {"op": "resize", "width": 1, "height": 2, "fit": "cover", "gravity": "north"},
            ],
            [
                {"op": "resize"},
                {"op": "resize", "width": None},
                {"op": "resize", "width": 1, "fit": "cover"},
                {"op": "resize", "width": 1, "gravity": "north"},
            ],
        ),
        (
            "imgtasks.domain.operations:CropOperation",
            [{"op": "crop", "width": 1, "height": 1}, {"op": "crop", "width": 1, "height": 1, "left": 0, "top": 0}],
            [
                {"op": "crop", "width": 1, "height": 1, "left": 0},
                {"op": "crop", "width": 1, "height": 1, "left": 0, "top": 0, "gravity": "north"},
            ],
        ),
        (
            "imgtasks.domain.operations:RotateOperation",
            [{"op": "rotate", "angle": 5}, {"op": "rotate", "direction": "clockwise", "angle": None}],
            [{"op": "rotate"}, {"op": "rotate", "angle": 5, "direction": "clockwise"}],
        ),
        (
            "imgtasks.services.accounts:Registration",
            [{"username": "ada", "password": "correct-horse"}],
            [{"username": "Guest-ada", "password": "correct-horse"}, {"username": "ada", "password": "short"}],
        ),
        (
            "imgtasks_api.routes.files:FetchUrl",
            [{"url": "https://example.com/a.jpg"}, {"url": "http://u:p@[2001:db8::1]:8080/x?y"}],
            [
                {"url": "ftp://example.com/a"},
                {"url": "http://[9F05.B0D3]/"},
                {"url": "http://a:65536/"},
                {"url": "http:///x"},
            ],
        ),
    ],
)
def test_the_document_states_the_rules_the_validators_enforce(
    model_path: str, accepted: list[dict[str, Any]], refused: list[dict[str, Any]]
) -> None:
    """A body the document's schema allows is one the server takes, and one it refuses the server
    refuses too (schemathesis once found 17 schema-valid requests answered 400)."""
    import importlib

    import jsonschema
    import pydantic

    module, name = model_path.split(":")
    model = getattr(importlib.import_module(module), name)
    schema = model.model_json_schema()
    for body in accepted:
        jsonschema.validate(body, schema)
        model.model_validate(body)
    for body in refused:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, schema)
        with pytest.raises(pydantic.ValidationError):
            model.model_validate(body)
