"""GET /models: what inference tasks can name."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ..context import json_response, new_router, ok_response, problem_responses, wiring_of
from ..schemas import ModelList, ModelOut

router = new_router()


@router.get(
    "/models",
    summary="The detection and classification models an infer task can name",
    operation_id="list_models",
    tags=["models"],
    responses={**ok_response(200, ModelList, "The registered models"), **problem_responses(401)},
)
def list_models() -> Response[ModelList]:
    manifests = wiring_of(router).model_registry.manifests()
    return json_response(
        200,
        ModelList(
            detection_models=[ModelOut.from_manifest(m) for m in manifests if m.task == "detection"],
            classification_models=[ModelOut.from_manifest(m) for m in manifests if m.task == "classification"],
        ),
    )
