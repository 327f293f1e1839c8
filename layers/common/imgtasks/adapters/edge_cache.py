"""The distribution's edge caches: render URLs invalidated there when what they show goes (a
deleted file, a revoked key), so that they stop being served before their year is up."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_cloudfront import CloudFrontClient

# What one invalidation may name (CloudFront allows 3,000 paths, 15 of them wildcards, in progress).
MAX_PATHS = 15


class EdgeCache:
    def __init__(self, client: CloudFrontClient, distribution_id: str) -> None:
        self._client = client
        self._distribution_id = distribution_id

    def invalidate(self, paths: list[str]) -> None:
        """One invalidation of these paths (a `*` at the end of one matches what it begins)."""
        for start in range(0, len(paths), MAX_PATHS):
            chunk = paths[start : start + MAX_PATHS]
            self._client.create_invalidation(
                DistributionId=self._distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(chunk), "Items": chunk},
                    "CallerReference": uuid.uuid4().hex,
                },
            )
