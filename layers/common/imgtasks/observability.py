"""One Logger and Metrics per process, configured by the POWERTOOLS_* variables.

There is no tracer object: Lambda's active tracing (Tracing: Active in the template) records each
invocation in X-Ray without an SDK in the function, and the X-Ray SDK is in maintenance mode since
February 2026, with AWS recommending OpenTelemetry (the ADOT Lambda layer) for deeper traces. The
README says how to add that layer; the functions need no change for it."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

# Most API requests add no metric; Powertools warns about each (its documented way to quiet it).
warnings.filterwarnings("ignore", "No application metrics to publish*")

logger = Logger()
metrics = Metrics()
