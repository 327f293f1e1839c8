"""The local stack: runs infra/template.yaml on this machine with no Docker and no AWS account.

An AWS emulator (moto's server, in-process, or an already running LocalStack), the template's
resources provisioned through the real AWS APIs, the HTTP API served as API Gateway would, the SQS
event sources polled as Lambda does, and each function in worker processes of its own."""
