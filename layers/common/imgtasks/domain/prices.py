"""AWS's public on-demand prices for what a task uses, per region, for arm64 Lambda functions: the
one table every cost the service shows is priced from. Free tiers are left out (a cost per task
should not depend on how many came before it this month); each figure is the first paid tier.

Only us-east-1 is in the table: AWS's pricing pages fill their figures in by script, and the copies
read on READ_ON had no other region's figures that could be checked. Any other region is priced
at us-east-1's figures, and the cost says so (`Cost.region`). When a price changes or a region is
added, change it here, with the date it was read and the pages it came from."""

from __future__ import annotations

import os

from pydantic import Field

from imgtasks.domain.base import Model
from imgtasks.domain.usage import Usage

READ_ON = "2026-12-04"
# The pages each figure was read from (AWS's own pricing pages are the authority: aws.amazon.com/
# <service>/pricing/; where their stored copies showed no figure, the page that quotes it).
SOURCES = {
    "lambda": "https://aws.amazon.com/lambda/pricing/ (arm64 20% under x86's $0.0000166667: "
    "https://aws.amazon.com/blogs/aws/aws-lambda-functions-powered-by-aws-graviton2-processor-run-your-"
    "functions-on-arm-and-get-up-to-34-better-price-performance/); requests: "
    "https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html",
    "sqs": "https://aws.amazon.com/sqs/pricing/ (quoted at https://cloudburn.io/blog/amazon-sqs-pricing, March 2026)",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the 50% cut of 2024-11-01; quoted at "
    "https://airbyte.com/data-engineering-resources/dynamodb-pricing, July 2025); stream reads by Lambda "
    "triggers are free: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html",
    "s3": "https://aws.amazon.com/s3/pricing/ (quoted at https://cloudburn.io/blog/amazon-s3-pricing, March 2026)",
    "api_gateway": "https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/"
    "cost-optimization.html",
    "cloudfront": "https://aws.amazon.com/cloudfront/pricing/",
}
MILLION = 1_000_000
GIB = 2**30  # AWS bills storage and transfer "per GB" of 2^30 bytes


class RegionPrices(Model):
    lambda_gb_second: float = Field(description="Lambda, arm64, per GB-second (first 6 billion GB-s a month)")
    lambda_request: float = Field(description="Lambda, per request")
    sqs_request: float = Field(description="SQS standard queue, per request (64 KB chunk)")
    dynamodb_write_unit: float = Field(description="DynamoDB on-demand, per write request unit")
    dynamodb_read_unit: float = Field(description="DynamoDB on-demand, per read request unit")
    s3_put_request: float = Field(description="S3 Standard, per PUT, COPY, POST or LIST request")
    s3_get_request: float = Field(description="S3 Standard, per GET or HEAD request")
    s3_gb_month: float = Field(description="S3 Standard storage, per GB-month (first 50 TB)")
    api_gateway_request: float = Field(description="API Gateway HTTP API, per request (first 300 million)")
    transfer_out_gb: float = Field(description="Data transfer out to the internet, per GB (first 10 TB)")
    cloudfront_gb: float = Field(description="CloudFront data transfer out, per GB (first 10 TB, North America/Europe)")
    cloudfront_request: float = Field(description="CloudFront HTTPS request")


PRICES: dict[str, RegionPrices] = {
    "us-east-1": RegionPrices(
        lambda_gb_second=0.0000133334,
        lambda_request=0.20 / MILLION,
        sqs_request=0.40 / MILLION,
        dynamodb_write_unit=0.625 / MILLION,
        dynamodb_read_unit=0.125 / MILLION,
        s3_put_request=0.005 / 1000,
        s3_get_request=0.0004 / 1000,
        s3_gb_month=0.023,
        api_gateway_request=1.00 / MILLION,
        transfer_out_gb=0.09,
        cloudfront_gb=0.085,
        cloudfront_request=0.0100 / 10_000,
    ),
}
DEFAULT_REGION = "us-east-1"


class Cost(Model):
    """A usage priced: the one-off cost of the work, and what keeping its outputs costs a month."""

    region: str = Field(description="The region whose prices were used")
    prices_read_on: str = Field(description="When the price table was read from AWS's pricing pages")
    lambda_usd: float
    requests_usd: float = Field(description="S3, SQS, DynamoDB and API Gateway requests")
    cost_usd: float = Field(description="lambda_usd + requests_usd: what the work cost, once")
    storage_usd_per_month: float = Field(description="What keeping the outputs costs each month they are kept")


def running_region() -> str:
    """The region this code runs in (Lambda sets AWS_REGION)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def prices_for(region: str) -> tuple[str, RegionPrices]:
    """The region's prices, or the default region's where the table has none."""
    if region in PRICES:
        return region, PRICES[region]
    return DEFAULT_REGION, PRICES[DEFAULT_REGION]


def price(usage: Usage, region: str) -> Cost:
    priced_region, table = prices_for(region)
    requests = usage.requests
    lambda_usd = (
        usage.total_gb_seconds() * table.lambda_gb_second + usage.total_lambda_requests() * table.lambda_request
    )
    requests_usd = (
        requests.s3_put * table.s3_put_request
        + requests.s3_get * table.s3_get_request
        + requests.sqs * table.sqs_request
        + requests.dynamodb_read_units * table.dynamodb_read_unit
        + requests.dynamodb_write_units * table.dynamodb_write_unit
        + requests.api_gateway * table.api_gateway_request
    )
    return Cost(
        region=priced_region,
        prices_read_on=READ_ON,
        lambda_usd=lambda_usd,
        requests_usd=requests_usd,
        cost_usd=lambda_usd + requests_usd,
        storage_usd_per_month=usage.bytes_stored / GIB * table.s3_gb_month,
    )
