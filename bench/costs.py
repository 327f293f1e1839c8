"""What 1,000 images cost on AWS, from what the local stack measured (bench/stack.py): each
function's invocations and worker CPU, the AWS calls each function's credentials signed and the
event sources' calls, counted at the embedded emulator, priced at the public prices of
imgtasks.domain.prices.

Lambda time is modelled, not copied from the local stack (whose emulator answers a call in tens of
milliseconds under load, where S3 and DynamoDB answer in a few): an invocation's billed time at a
memory size is its CPU time scaled by the CPU share Lambda gives that size, plus AWS_CALL_MS for
each AWS call it made. Lambda gives a function 1 vCPU at 1,769 MB and the share in proportion
below it; above it, more vCPUs help only work that runs on several threads, which the engine's
speed on 2 cores against 1 (measured in the same run) says. A core of this machine is taken as
fast as a Graviton2 core: the figures scale with that assumption."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from imgtasks.domain.prices import PRICES, RegionPrices

REGION = "us-east-1"
ONE_VCPU_MB = 1769  # Lambda: one full vCPU at this memory size, a share in proportion below it
AWS_CALL_MS = 10.0  # a same-region S3, DynamoDB or SQS request's round trip, modelled
MEMORY_SIZES = (256, 512, 1024, 1536, 1769, 2048, 3008, 4096)
READS = ("GetItem", "BatchGetItem", "Query", "Scan", "GET object", "HEAD object")


@dataclass
class FunctionRun:
    invocations: int
    wall_ms: float
    cpu_ms: float
    peak_rss_mb: float  # the largest a worker of the function grew (its Python, layers and work)
    memory_mb: int
    calls: int = 0


@dataclass
class MeasuredSet:
    """What one set of tasks made the stack do, measured around it."""

    name: str
    images: int
    functions: dict[str, FunctionRun]
    calls: Counter[tuple[str, str, str]]  # (function, service, operation), signed by a function
    source_calls: Counter[tuple[str, str, str]]  # (caller, service, operation): "event source" ones
    api_requests: float
    bytes_stored: int
    task_usage_usd: float  # the tasks' own `usage.cost.cost_usd`, summed
    speedup_2_cores: dict[str, float] = field(default_factory=dict)  # function -> engine speed at 2 / at 1


Totals = dict[str, tuple[int, float, float, float, int]]  # LocalStack.function_totals()


def delta(before: Totals, after: Totals) -> dict[str, FunctionRun]:
    runs = {}
    for name, (count, wall, cpu, peak, memory) in after.items():
        old = before.get(name, (0, 0.0, 0.0, 0.0, memory))
        if count - old[0]:
            runs[name] = FunctionRun(count - old[0], wall - old[1], cpu - old[2], peak, memory)
    return runs


def vcpu_speed(memory_mb: int, speedup_2_cores: float) -> float:
    """How fast CPU work runs at `memory_mb` against one full vCPU."""
    vcpus = memory_mb / ONE_VCPU_MB
    if vcpus <= 1:
        return vcpus
    return 1 + (speedup_2_cores - 1) * min(1.0, vcpus - 1)


def billed_ms(run: FunctionRun, memory_mb: int, speedup_2_cores: float = 1.0) -> float:
    """The modelled billed milliseconds of a function's invocations at `memory_mb`."""
    return run.cpu_ms / vcpu_speed(memory_mb, speedup_2_cores) + run.calls * AWS_CALL_MS


@dataclass
class CostLines:
    lambda_usd: dict[str, float]
    s3_usd: float
    sqs_usd: float
    dynamodb_usd: float
    api_gateway_usd: float
    storage_usd_month: float

    @property
    def total(self) -> float:
        return sum(self.lambda_usd.values()) + self.s3_usd + self.sqs_usd + self.dynamodb_usd + self.api_gateway_usd


def per_thousand(
    measured: MeasuredSet, memory: dict[str, int] | None = None, prices: RegionPrices | None = None
) -> CostLines:
    """The set's cost per 1,000 images, each function at its template memory size or `memory`'s."""
    table = prices or PRICES[REGION]
    scale = 1000 / measured.images
    calls_by_function: Counter[str] = Counter()
    for (function, _, _), count in measured.calls.items():
        calls_by_function[function] += count
    lambda_usd = {}
    for name, run in measured.functions.items():
        run.calls = calls_by_function.get(name, 0)
        size = (memory or {}).get(name, run.memory_mb)
        ms = billed_ms(run, size, measured.speedup_2_cores.get(name, 1.0))
        lambda_usd[name] = scale * (
            ms / 1000 * size / 1024 * table.lambda_gb_second + run.invocations * table.lambda_request
        )
    every = Counter({(service, operation): count for (_, service, operation), count in measured.calls.items()})
    for (caller, service, operation), count in measured.source_calls.items():
        if caller == "event source":
            every[(service, operation)] += count
    s3 = sqs = dynamodb = 0.0
    for (service, operation), count in every.items():
        if service == "s3":
            if operation.startswith(("GET", "HEAD")):
                s3 += count * table.s3_get_request
            elif not operation.startswith("DELETE"):
                s3 += count * table.s3_put_request
        elif service == "sqs":
            sqs += count * table.sqs_request
        elif service == "dynamodb":
            # Approximate: items under 1 KB and 4 KB reads, one unit a read (consistent); two a
            # write, as task and file items also write their indexes and counters do not.
            if operation in READS:
                dynamodb += count * table.dynamodb_read_unit
            else:
                dynamodb += count * 2 * table.dynamodb_write_unit
        # dynamodbstreams' GetRecords by Lambda triggers is free; CloudWatch is not priced here.
    return CostLines(
        lambda_usd=lambda_usd,
        s3_usd=scale * s3,
        sqs_usd=scale * sqs,
        dynamodb_usd=scale * dynamodb,
        api_gateway_usd=scale * measured.api_requests * table.api_gateway_request,
        storage_usd_month=scale * measured.bytes_stored / 2**30 * table.s3_gb_month,
    )


def cost_table(sets: list[MeasuredSet]) -> list[str]:
    """Cost per 1,000 images, at the template's memory sizes."""
    lines = [
        f"cost per 1,000 images, {REGION} prices, at the template's memory sizes "
        "(Lambda time modelled: bench/costs.py)",
        f"{'job':<30}{'Lambda':>10}{'S3':>9}{'SQS':>9}{'DynamoDB':>10}{'API GW':>9}{'total':>10}"
        f"{'tasks say':>11}{'storage/mo':>12}",
        "-" * 110,
    ]
    for measured in sets:
        cost = per_thousand(measured)
        said = measured.task_usage_usd / measured.images * 1000 if measured.images else 0.0
        lines.append(
            f"{measured.name:<30}{sum(cost.lambda_usd.values()):>10.4f}{cost.s3_usd:>9.4f}{cost.sqs_usd:>9.4f}"
            f"{cost.dynamodb_usd:>10.4f}{cost.api_gateway_usd:>9.4f}{cost.total:>10.4f}{said:>11.4f}"
            f"{cost.storage_usd_month:>12.5f}"
        )
    lines.append("(USD; 'tasks say': the same tasks' own usage.cost_usd summed, as measured on the local stack)")
    return lines


def lambda_lines(sets: list[MeasuredSet]) -> list[str]:
    """Where each set's Lambda cost goes, function by function."""
    lines = [
        f"{'job':<30}{'function':<26}{'invocations':>12}{'cpu ms':>10}{'calls':>8}{'memory':>8}{'$ / 1,000':>11}",
        "-" * 105,
    ]
    for measured in sets:
        cost = per_thousand(measured)
        for name, run in sorted(measured.functions.items(), key=lambda item: -cost.lambda_usd[item[0]]):
            per_image = 1 / measured.images
            lines.append(
                f"{measured.name:<30}{name:<26}{run.invocations * per_image:>12.2f}{run.cpu_ms * per_image:>10.1f}"
                f"{run.calls * per_image:>8.1f}{run.memory_mb:>8}{cost.lambda_usd[name]:>11.4f}"
            )
    lines.append("(per image: invocations, worker CPU ms and AWS calls; the last column per 1,000 images)")
    return lines


def memory_lines(sets: list[MeasuredSet], workers: dict[str, str]) -> list[str]:
    """Each worker's cost per 1,000 images at each memory size (the rest of the stack as it is)."""
    header = (
        f"{'job':<30}{'worker':<18}"
        + "".join(f"{size:>9}" for size in MEMORY_SIZES)
        + f"{'lowest':>9}{'peak MB':>9}{'x2 cores':>9}"
    )
    lines = [header, "-" * len(header)]
    for measured in sets:
        worker = workers.get(measured.name)
        if worker is None or worker not in measured.functions:
            continue
        costs = [per_thousand(measured, {worker: size}).total for size in MEMORY_SIZES]
        # Sizes a worker's peak memory (with a quarter to spare) does not fit in are not candidates.
        fits = [size >= measured.functions[worker].peak_rss_mb * 1.25 for size in MEMORY_SIZES]
        best = min((cost, size) for cost, size, fit in zip(costs, MEMORY_SIZES, fits, strict=True) if fit)[1]
        template = measured.functions[worker].memory_mb
        cells = "".join(
            f"{cost:>8.4f}{'*' if size == template else ' ' if fit else '!'}"
            for size, cost, fit in zip(MEMORY_SIZES, costs, fits, strict=True)
        )
        run = measured.functions[worker]
        lines.append(
            f"{measured.name:<30}{worker:<18}{cells}{best:>9}{run.peak_rss_mb:>9.0f}"
            f"{measured.speedup_2_cores.get(worker, 1.0):>9.2f}"
        )
    lines.append("(USD per 1,000 images with the worker at each memory size; * the template's size; ! too small")
    lines.append(" for the worker's peak resident memory with a quarter to spare; lowest: the cheapest size that")
    lines.append(" fits; x2 cores: the engine's speed on 2 cores against 1, what more than 1,769 MB can buy)")
    return lines
