"""Publishes a model (a folder with model.onnx and manifest.json) to the models bucket.

    make publish-model MODEL=models/shapes                     the local stack (.local/outputs.json)
    make publish-model MODEL=path/to/yolo11n STACK=imgtasks    a deployed stack (its ModelsBucketName)
    .venv/bin/python scripts/publish_model.py DIR [--bucket NAME] [--endpoint URL] [--stack NAME]

The weights go to models/<id>/<version>/model.onnx and the manifest to registry/<id>.json; a task
naming the model uses that version from then on. See models/README.md for the manifest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common")]

from imgtasks.adapters.model_registry import publish  # noqa: E402
from local_stack.session import emulator_session  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--bucket", help="the models bucket (default: from --stack, else .local/outputs.json)")
    parser.add_argument("--endpoint", help="an AWS endpoint (default: the local stack's when its outputs are used)")
    parser.add_argument("--stack", help="a deployed CloudFormation stack whose ModelsBucketName to use")
    parser.add_argument("--outputs", type=Path, default=ROOT / ".local" / "outputs.json")
    args = parser.parse_args()
    bucket, endpoint = args.bucket, args.endpoint
    if bucket is None and args.stack:
        stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
        bucket = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "ModelsBucketName")
    if bucket is None:
        if not args.outputs.exists():
            parser.error(
                f"no --bucket or --stack, and no local stack outputs at {args.outputs} (is `make run` running?)"
            )
        outputs = json.loads(args.outputs.read_text())
        bucket, endpoint = outputs["ModelsBucketName"], endpoint or outputs["EndpointUrl"]
    # An emulator (the local stack's or another) gets a localstack-client session, which points
    # every client at it; AWS gets the default credential chain.
    s3 = emulator_session(endpoint).client("s3") if endpoint else boto3.client("s3")
    manifest = publish(s3, bucket, args.directory)
    print(
        f"published {manifest.id} version {manifest.version} ({manifest.task}) to s3://{bucket}/{manifest.weights_key}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
