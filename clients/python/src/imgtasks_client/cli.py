"""The `imgtasks` command: run images through the service from the shell."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import websockets
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import operations as ops
from .batch import Report, RunState, collect, fingerprint, run_one
from .client import Client
from .config import DEFAULT_PROFILE, resolve_settings, write_profile
from .errors import ImgtasksError, WaitTimeout
from .models import (
    ArchiveResult,
    ColorShare,
    EveryonesUsage,
    File,
    InferResult,
    PictureMetadata,
    ProcessResult,
    SigningKey,
    Task,
    UsageDay,
    UsageReport,
    UsageTotal,
)
from .op_strings import parse_operation

app = typer.Typer(
    help="imgtasks from the shell: upload images and videos, run tasks, follow them, download results.\n\n"
    "Examples:\n\n"
    "  imgtasks login --url http://127.0.0.1:3000\n\n"
    "  imgtasks run photos/ --preset web -o out/\n\n"
    '  imgtasks run "shots/*.png" --op "resize 800x600 fit=inside" --op "rotate 90" --format webp -o out/\n\n'
    "  imgtasks infer scene.png --detect shapes --classify scenes --json\n\n"
    "  imgtasks url 01J... --op rs:fit:800:600 --op f:auto",
    no_args_is_help=True,
    rich_markup_mode=None,
)
tasks_app = typer.Typer(help="List, show, cancel, restart and delete tasks.", no_args_is_help=True)
files_app = typer.Typer(help="List and delete files.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")
keys_app = typer.Typer(help="Signing keys of render URLs: make, list, revoke.", no_args_is_help=True)
app.add_typer(files_app, name="files")
app.add_typer(keys_app, name="keys")

console = Console()
errors = Console(stderr=True)

ProfileOption = Annotated[str | None, typer.Option("--profile", help="A profile of the profile file")]
UrlOption = Annotated[str | None, typer.Option("--url", help="The API's base URL (default from the profile)")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout, for scripts")]


def client(url: str | None, profile: str | None) -> Client:
    return Client(url, profile=profile)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


# ------------------------------------------------------------------ login
@app.command()
def login(
    url: UrlOption = None,
    profile: ProfileOption = None,
    username: Annotated[str | None, typer.Option(help="Asked for when not given")] = None,
    password: Annotated[str | None, typer.Option(help="Asked for (hidden) when not given")] = None,
) -> None:
    """Sign in and keep the token in the profile file (private to you).

    Example: imgtasks login --url http://127.0.0.1:3000 --username alice
    """
    settings = resolve_settings(url=url, profile=profile)
    name = username or typer.prompt("Username")
    secret = password or typer.prompt("Password", hide_input=True)
    with Client(settings.url) as signed_out:
        try:
            token = signed_out.run(ops.login(name, secret))
        except ImgtasksError as error:
            fail(error.detail)
    path = write_profile(profile or DEFAULT_PROFILE, {"url": settings.url, "token": token, "username": name})
    console.print(f"signed in to {settings.url} as {name} (profile saved in {path})")


@app.command()
def register(
    url: UrlOption = None,
    profile: ProfileOption = None,
    username: Annotated[str | None, typer.Option(help="Asked for when not given")] = None,
    password: Annotated[
        str | None, typer.Option(help="Asked for (hidden) when not given; 8 characters or more")
    ] = None,
) -> None:
    """Create an account, then sign in with it (as `login`).

    Example: imgtasks register --url http://127.0.0.1:3000 --username alice
    """
    settings = resolve_settings(url=url, profile=profile)
    name = username or typer.prompt("Username")
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Client(settings.url) as signed_out:
        try:
            signed_out.run(ops.register(name, secret))
        except ImgtasksError as error:
            fail(error.detail)
    login(url=settings.url, profile=profile, username=name, password=secret)


@app.command()
def logout(profile: ProfileOption = None) -> None:
    """Forget the profile's token."""
    write_profile(profile or DEFAULT_PROFILE, None)
    console.print("signed out")


# ------------------------------------------------------------------ run
def operation(text: str) -> dict[str, Any]:
    try:
        return parse_operation(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def inputs_of(paths: list[str]) -> list[Path]:
    try:
        return collect(paths)
    except FileNotFoundError as error:
        fail(str(error), 2)


def reporter(progress: Progress, row: TaskID) -> Report:
    """A file's report drawn on its row of the progress display."""

    def report(completed: int | None, description: str | None) -> None:
        changes: dict[str, Any] = {}
        if completed is not None:
            changes["completed"] = completed
        if description is not None:
            changes["description"] = description
        progress.update(row, **changes)

    return report


@app.command()
def run(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (recursively) and globs")],
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Where the outputs go")] = Path("imgtasks-out"),
    preset: Annotated[str | None, typer.Option(help="A preset: web, thumbnails (see the API's /presets)")] = None,
    op: Annotated[list[str] | None, typer.Option("--op", help='An operation, e.g. "resize 800x600 fit=inside"')] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", help="jpeg, png, apng, webp, gif, avif, tiff, jxl, mp4, webm")
    ] = None,
    quality: Annotated[
        str | None, typer.Option(help="1-100, or auto: the smallest that keeps the picture's look (JPEG, WebP, AVIF)")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Files at once")] = 4,
    url: UrlOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload, run, follow and download: each output lands in OUTDIR named after its input.

    A second run with the same arguments skips what is done and follows what is still running.
    The exit code is 1 when any task failed.

    Example: imgtasks run photos/ "extra/*.png" --op "resize 800x600" --format webp --quality 80 -o out/
    """
    if preset and (op or output_format or quality):
        fail("--preset cannot be combined with --op, --format or --quality", 2)
    spec: dict[str, Any] = {}
    if preset:
        spec["preset"] = preset
    else:
        spec["operations"] = [operation(text) for text in op or []]
        chosen_quality: int | str | None = int(quality) if quality and quality.isdigit() else quality
        output = {k: v for k, v in {"format": output_format, "quality": chosen_quality}.items() if v is not None}
        if output:
            spec["output"] = output
    inputs = inputs_of(paths)
    if not inputs:
        fail("no images or videos found", 2)
    outdir.mkdir(parents=True, exist_ok=True)
    state = RunState(outdir)
    results: list[dict[str, Any]] = []
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=errors
    )
    with client(url, profile) as api, Live(progress, console=errors, transient=as_json):
        overall = progress.add_task("all files", total=len(inputs))
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            rows = {path: progress.add_task(path.name, total=100) for path in inputs}
            futures = [
                pool.submit(
                    run_one, api, path, spec, outdir, state, fingerprint(path, spec), reporter(progress, rows[path])
                )
                for path in inputs
            ]
            for future in as_completed(futures):
                results.append(future.result())
                progress.advance(overall)
                done = sum(r["status"] == "done" for r in results)
                progress.update(overall, description=f"all files: {done} done, {len(results) - done} failed")
                state.save()
    results.sort(key=lambda r: r["input"])
    failed = [r for r in results if r["status"] != "done"]
    if as_json:
        print_json({"results": results, "done": len(results) - len(failed), "failed": len(failed)})
    else:
        table = Table(title=f"{len(results) - len(failed)} done, {len(failed)} failed")
        for column in ("input", "status", "outputs or error"):
            table.add_column(column)
        for result in results:
            status = result["status"] + (" (before)" if result.get("skipped") else "")
            detail = ", ".join(result.get("outputs", [])) or result.get("error", "")
            table.add_row(result["input"], status, detail)
        console.print(table)
    if failed:
        raise typer.Exit(1)


# ------------------------------------------------------------------ infer
@app.command()
def infer(
    paths: Annotated[list[str], typer.Argument(help="Files, folders and globs")],
    detect: Annotated[str | None, typer.Option(help="A detection model id (see `imgtasks models`)")] = None,
    classify: Annotated[str | None, typer.Option(help="A classification model id")] = None,
    url: UrlOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Detect objects and classify scenes; a table, or --json.

    Example: imgtasks infer scene.png --detect shapes --classify scenes
    """
    if not detect and not classify:
        fail("name --detect, --classify or both", 2)
    results: list[dict[str, Any]] = []
    with client(url, profile) as api:
        for path in inputs_of(paths):
            try:
                uploaded = api.files.upload(path)
                (task,) = api.tasks.create(
                    uploaded, type="infer", detection_model=detect, classification_model=classify
                )
                task = api.tasks.wait(task.id)
            except ImgtasksError as error:
                results.append({"input": str(path), "status": "failed", "error": error.detail})
                continue
            entry: dict[str, Any] = {"input": str(path), "status": task.status, "task_id": task.id}
            if isinstance(task.result, InferResult):
                entry["result"] = task.result.model_dump()
            elif task.error:
                entry["error"] = task.error.message
            results.append(entry)
    if as_json:
        print_json(results)
    else:
        table = Table()
        for column in ("input", "scene", "detections"):
            table.add_column(column)
        for entry in results:
            result = entry.get("result")
            if result is None:
                table.add_row(entry["input"], f"[red]{entry['status']}[/red]", entry.get("error", ""))
                continue
            scene = result["image_class"]
            found = ", ".join(f"{d['label']} {d['probability']:.0%}" for d in result["detections"])
            table.add_row(entry["input"], f"{scene['label']} {scene['probability']:.0%}" if scene else "", found)
        console.print(table)
    if any(entry["status"] != "done" for entry in results):
        raise typer.Exit(1)


# ------------------------------------------------------------------ tasks, files, models
def task_row(task: Task) -> list[str]:
    detail = task.error.message if task.error else ""
    if isinstance(task.result, ProcessResult):
        detail = ", ".join(f"{o.name} {o.format} {o.width}x{o.height}" for o in task.result.outputs)
    return [task.id, task.type, task.status, f"{task.progress}%", task.created_at, detail]


@tasks_app.command("ls")
def tasks_ls(
    status: Annotated[str | None, typer.Option(help="queued, running, done, failed, cancelled")] = None,
    task_type: Annotated[str | None, typer.Option("--type", help="process, infer, archive")] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", help="Tasks writing jpeg, png, webp, gif, zip...")
    ] = None,
    order: Annotated[
        str, typer.Option(help="created_at, updated_at or status; a leading - for descending")
    ] = "-created_at",
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    url: UrlOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Your tasks, newest first, and how many match. Example: imgtasks tasks ls --status failed --order -updated_at"""
    found: list[Task] = []
    cursor: str | None = None
    with client(url, profile) as api:
        try:
            while True:
                page = api.tasks.page(
                    status=status,
                    type=task_type,
                    format=output_format,
                    order=order,
                    limit=min(limit - len(found), 100),
                    cursor=cursor,
                )
                found.extend(page.items)
                cursor = page.next_cursor
                if cursor is None or len(found) >= limit:
                    break
        except ImgtasksError as error:
            fail(error.detail)
    if as_json:
        print_json([task.model_dump() for task in found])
        return
    table = Table(caption=f"{len(found)} of {page.total} task{'s' if page.total != 1 else ''}")
    for column in ("id", "type", "status", "progress", "created", "outputs or error"):
        table.add_column(column)
    for task in found:
        table.add_row(*task_row(task))
    console.print(table)


def _one_task(action: str, task_id: str, url: str | None, profile: str | None, as_json: bool) -> None:
    with client(url, profile) as api:
        try:
            task = getattr(api.tasks, action)(task_id)
        except ImgtasksError as error:
            fail(error.detail)
    if task is None:
        console.print(f"{task_id} deleted")
    elif as_json:
        print_json(task.model_dump())
    else:
        console.print(" ".join(task_row(task)))


def swatches(colors: list[ColorShare] | None) -> str:
    """Dominant colours as coloured blocks with their hex and share."""
    return "  ".join(f"[on {c.hex}]    [/] {c.hex} {round(c.share * 100)}%" for c in colors or [])


def metadata_lines(facts: PictureMetadata) -> list[tuple[str, str]]:
    exposure = " ".join(
        part
        for part in (
            f"f/{facts.f_number:g}" if facts.f_number else "",
            f"1/{round(1 / facts.exposure_time)} s" if facts.exposure_time and facts.exposure_time < 1 else "",
            f"{facts.exposure_time:g} s" if facts.exposure_time and facts.exposure_time >= 1 else "",
            f"ISO {facts.iso}" if facts.iso else "",
            f"{facts.focal_length:g} mm" if facts.focal_length else "",
        )
        if part
    )
    gps = facts.gps
    rows = [
        ("camera", facts.camera or ""),
        ("lens", facts.lens or ""),
        ("taken", facts.taken_at or ""),
        ("exposure", exposure),
        ("colour profile", facts.color_profile or ""),
        ("orientation", str(facts.orientation) if facts.orientation else ""),
        (
            "where",
            f"{gps.latitude:.5f}, {gps.longitude:.5f}" + (f", {gps.altitude:g} m" if gps.altitude else "")
            if gps
            else "",
        ),
    ]
    return [(name, value) for name, value in rows if value]


def show_task(task: Task) -> None:
    """One task in full: its status, then what its result says (placeholders, colours, metadata,
    outputs; or detections)."""
    console.print(" ".join(task_row(task)))
    result = task.result
    if isinstance(result, ProcessResult):
        details = Table(show_header=False, box=None, padding=(0, 2))
        source = result.source
        details.add_row("source", f"{source.format} {source.width}x{source.height}, {source.size} bytes")
        for name, value in metadata_lines(source.metadata) if source.metadata else []:
            details.add_row(name, value)
        details.add_row("colours", swatches(source.colors))
        details.add_row("blurhash", source.blurhash or "")
        details.add_row("thumbhash", source.thumbhash or "")
        for output in result.outputs:
            chose = f", quality auto chose {output.auto_quality.quality}" if output.auto_quality else ""
            details.add_row(output.name, f"{output.format} {output.width}x{output.height}, {output.size} bytes{chose}")
            details.add_row("", swatches(output.colors))
            details.add_row("", f"blurhash {output.blurhash or '-'}  thumbhash {output.thumbhash or '-'}")
        console.print(details)
    elif isinstance(result, InferResult):
        if result.image_class:
            console.print(f"scene: {result.image_class.label} {round(result.image_class.probability * 100)}%")
        for detection in result.detections:
            points = f", {len(detection.keypoints)} keypoints" if detection.keypoints else ""
            console.print(
                f"{detection.label} {round(detection.probability * 100)}% at "
                f"{detection.x:.3f}, {detection.y:.3f} size {detection.width:.3f} x {detection.height:.3f}{points}"
            )
    if task.usage is not None:
        used = task.usage
        functions = ", ".join(
            f"{i.function} {i.ms:.0f} ms{' (modelled)' if i.estimated else ''}" for i in used.invocations
        )
        requests = used.requests
        console.print(
            f"cost {dollars(used.cost.cost_usd)} at {used.cost.region} prices: Lambda {used.lambda_gb_seconds:.3f} "
            f"GB-s ({functions}); S3 {requests.s3_put + requests.s3_get:.0f}, SQS {requests.sqs:.1f} requests, "
            f"DynamoDB {requests.dynamodb_read_units + requests.dynamodb_write_units:.1f} units"
        )


@tasks_app.command("show")
def tasks_show(task_id: str, url: UrlOption = None, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """One task, with what its result says: a picture's camera, colours and placeholders, each
    output, or the detections. Example: imgtasks tasks show 01J... --json"""
    with client(url, profile) as api:
        try:
            task = api.tasks.get(task_id)
        except ImgtasksError as error:
            fail(error.detail)
    if as_json:
        print_json(task.model_dump())
    else:
        show_task(task)


@tasks_app.command("cancel")
def tasks_cancel(
    task_id: str, url: UrlOption = None, profile: ProfileOption = None, as_json: JsonOption = False
) -> None:
    """Cancel a queued or running task."""
    _one_task("cancel", task_id, url, profile, as_json)


@tasks_app.command("restart")
def tasks_restart(
    task_id: str, url: UrlOption = None, profile: ProfileOption = None, as_json: JsonOption = False
) -> None:
    """Run a failed or cancelled task again."""
    _one_task("restart", task_id, url, profile, as_json)


@tasks_app.command("rm")
def tasks_rm(task_id: str, url: UrlOption = None, profile: ProfileOption = None) -> None:
    """Delete a task and its outputs."""
    _one_task("delete", task_id, url, profile, False)


@files_app.command("ls")
def files_ls(
    status: Annotated[str | None, typer.Option(help="pending, ready, rejected")] = None,
    file_format: Annotated[str | None, typer.Option("--format", help="jpeg, png, heic, mp4...")] = None,
    order: Annotated[str, typer.Option(help="-created_at (newest first) or created_at")] = "-created_at",
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    url: UrlOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Your files, newest first, and how many match."""
    with client(url, profile) as api:
        try:
            page = api.files.page(status=status, format=file_format, order=order, limit=min(limit, 100))
            found: list[File] = list(page.items)
            if page.next_cursor and limit > 100:
                rest = api.files.list(status=status, format=file_format, order=order, page_size=100)
                found = list(islice(rest, limit))
        except ImgtasksError as error:
            fail(error.detail)
    if as_json:
        print_json([item.model_dump() for item in found])
        return
    table = Table(caption=f"{len(found)} of {page.total} file{'s' if page.total != 1 else ''}")
    for column in ("id", "name", "status", "format", "size"):
        table.add_column(column)
    for item in found:
        size = f"{item.width}x{item.height}" if item.width else ""
        table.add_row(item.id, item.filename, item.status, item.format or "", size)
    console.print(table)


@files_app.command("rm")
def files_rm(file_id: str, url: UrlOption = None, profile: ProfileOption = None) -> None:
    """Delete a file and its bytes."""
    with client(url, profile) as api:
        try:
            api.files.delete(file_id)
        except ImgtasksError as error:
            fail(error.detail)
    console.print(f"{file_id} deleted")


def dollars(amount: float) -> str:
    """A cost to read: cents, or a small one to its first two significant digits ($0.000023)."""
    if amount >= 0.01 or amount == 0:
        return f"${amount:,.2f}"
    places = 1 - math.floor(math.log10(amount))
    return f"${amount:.{places}f}"


def size_text(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"


@app.command()
def usage(
    first_day: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (30 days back)")] = None,
    last_day: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (today)")] = None,
    everyone: Annotated[bool, typer.Option("--everyone", help="Every user's (operators only)")] = False,
    url: UrlOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """What your tasks used of AWS and cost, per day and type (with --everyone: each user's)."""
    with client(url, profile) as api:
        report: UsageReport | EveryonesUsage = (
            api.usage.everyone(first_day, last_day) if everyone else api.usage.get(first_day, last_day)
        )
    if as_json:
        print_json(report.model_dump())
        return
    table = Table(title=f"usage {report.first_day} to {report.last_day}")
    first = "user" if isinstance(report, EveryonesUsage) else "day"
    for column in (first, "type", "tasks", "cost", "per 1,000", "Lambda GB-s", "requests", "stored"):
        table.add_column(column, justify="left" if column in (first, "type") else "right")
    rows: list[tuple[str, str, UsageDay | UsageTotal]] = (
        [(user.user_id, "all", user.total) for user in report.users]
        if isinstance(report, EveryonesUsage)
        else [(row.day, row.type, row) for row in report.days]
    )
    for label, kind, row in [*rows, ("total", "", report.total)]:
        per_thousand = dollars(row.cost_usd / row.tasks * 1000) if row.tasks and label != "total" else ""
        table.add_row(
            label,
            kind,
            str(row.tasks),
            dollars(row.cost_usd),
            per_thousand,
            f"{row.lambda_gb_seconds:,.2f}",
            f"{row.requests:,.0f}",
            size_text(row.bytes_stored),
            style="bold" if label == "total" else None,
        )
    console.print(table)
    console.print(
        f"Priced at AWS's public {report.region} prices (read {report.prices_read_on}); keeping the outputs "
        f"costs {dollars(report.total.storage_usd_per_month)} a month."
    )


@app.command()
def models(url: UrlOption = None, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """The models inference tasks can name."""
    with client(url, profile) as api:
        listed = api.models.list()
    if as_json:
        print_json(listed.model_dump())
        return
    table = Table()
    for column in ("kind", "id", "version", "labels"):
        table.add_column(column)
    for kind, found in (("detection", listed.detection_models), ("classification", listed.classification_models)):
        for model in found:
            table.add_row(kind, model.id, model.version, ", ".join(model.labels))
    console.print(table)


class _Ended(Exception):  # how the first read after connecting stops the loop
    def __init__(self, task: Task) -> None:
        self.task = task


def _follow(api: Client, task: Task, show: Callable[[Task], None]) -> Task:
    """The task until it ends, as the push channel tells each change of it (a WebSocket);
    long-polls instead when the channel cannot be opened (a server without one, a proxy that
    refuses WebSockets)."""

    def read_again() -> None:  # a change made before the connection opened is not pushed
        now = api.tasks.get(task.id)
        show(now)
        if now.ended:
            raise _Ended(now)

    try:
        for change in api.events(reconnect=False, on_open=read_again):
            if change.task is not None and change.id == task.id:
                task = change.task
                show(task)
                if task.ended:
                    return task
            elif change.change == "deleted" and change.id == task.id:
                return task
    except _Ended as ended:
        return ended.task
    except (OSError, ImgtasksError, websockets.InvalidHandshake, websockets.ConnectionClosed):
        pass
    while not task.ended:
        task = _long_poll(api, task)
        show(task)
    return task


def _long_poll(api: Client, task: Task) -> Task:
    try:
        return api.tasks.wait(task.id, timeout=20)
    except WaitTimeout:
        return api.tasks.get(task.id)


@app.command()
def watch(task_id: str, url: UrlOption = None, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Follow a task live until it ends: each change as the service pushes it (long-poll where it
    cannot). Exit code 1 when it did not end done."""
    with client(url, profile) as api:
        task = api.tasks.get(task_id)
        with Live(console=errors, transient=as_json) as live:

            def show(now: Task) -> None:
                outputs = len(now.result.outputs) if isinstance(now.result, ProcessResult) else 0
                made = f", {outputs} output{'s' if outputs != 1 else ''}" if outputs else ""
                live.update(f"{now.id} {now.type} [bold]{now.status}[/bold] {now.progress}%{made}")

            show(task)
            if not task.ended:
                task = _follow(api, api.tasks.get(task_id), show)
    if as_json:
        print_json(task.model_dump())
    else:
        console.print(" ".join(task_row(task)))
    if task.status != "done":
        raise typer.Exit(1)


@app.command()
def archive(
    task_ids: Annotated[list[str], typer.Argument(help="Done tasks whose outputs go into one ZIP")],
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Where the ZIP goes")] = Path(),
    url: UrlOption = None,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
) -> None:
    """One ZIP of these tasks' outputs, downloaded. Example: imgtasks archive 01J... 01K... -o out/"""
    with client(url, profile) as api:
        try:
            outdir.mkdir(parents=True, exist_ok=True)
            task = api.tasks.archive(task_ids).wait(raise_on_failure=True)
            (path,) = api.tasks.download(task, outdir, stem=f"archive-{task.id}")
        except ImgtasksError as error:
            fail(error.detail)
    if as_json:
        print_json({"task": task.model_dump(), "path": str(path)})
    else:
        files = task.result.files if isinstance(task.result, ArchiveResult) else 0
        console.print(f"{path} ({files} files)")


# ------------------------------------------------------------------ render URLs
@app.command("url")
def render_url(
    file_id: Annotated[str, typer.Argument(help="A ready file of yours: an upload or a task's output")],
    op: Annotated[
        list[str] | None,
        typer.Option("--op", help="A render option (rs:fit:800:600, g:attention, q:80, f:webp, p:thumbnail-512...)"),
    ] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="Sign here with this key (with --secret)")] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", envvar="IMGTASKS_SIGNING_SECRET", help="The key's secret")
    ] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Where render URLs are served")] = None,
    url: UrlOption = None,
    profile: ProfileOption = None,
) -> None:
    """A signed render URL of a file, for an <img> tag or a CDN. Without --key-id and --secret
    the service signs it with your newest key. Example: imgtasks url 01J... --op rs:fit:800:600 --op f:auto"""
    if secret is not None and key_id is None:
        fail("--secret signs with a key: name it with --key-id", 2)
    with client(url, profile) as api:
        try:
            if key_id is not None and secret is not None:
                served_at = base_url or api.signing_keys.list()[1]
                key = SigningKey(id=key_id, created_at="", secret=secret)
                signed = api.urls.sign(file_id, op or [], key=key, base_url=served_at)
            else:  # the service signs, with --key-id's key or your newest
                chosen = SigningKey(id=key_id, created_at="") if key_id is not None else None
                signed = api.urls.sign(file_id, op or [], key=chosen)
        except ImgtasksError as error:
            fail(error.detail)
    sys.stdout.write(signed + "\n")


@keys_app.command("create")
def keys_create(url: UrlOption = None, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Make a signing key; its secret is shown this once."""
    with client(url, profile) as api:
        try:
            key = api.signing_keys.create()
        except ImgtasksError as error:
            fail(error.detail)
    if as_json:
        print_json(key.model_dump())
        return
    console.print(f"key id  {key.id}\nsecret  {key.secret}\n[dim]the secret is not shown again: keep it now[/dim]")


@keys_app.command("ls")
def keys_ls(url: UrlOption = None, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Your signing keys, newest first (no secrets)."""
    with client(url, profile) as api:
        keys, served_at = api.signing_keys.list()
    if as_json:
        print_json({"items": [key.model_dump() for key in keys], "render_base_url": served_at})
        return
    table = Table(caption=f"render URLs are served at {served_at}")
    for column in ("id", "created"):
        table.add_column(column)
    for key in keys:
        table.add_row(key.id, key.created_at)
    console.print(table)


@keys_app.command("rm")
def keys_rm(key_id: str, url: UrlOption = None, profile: ProfileOption = None) -> None:
    """Revoke a signing key: its URLs stop working where they reach the service."""
    with client(url, profile) as api:
        try:
            api.signing_keys.revoke(key_id)
        except ImgtasksError as error:
            fail(error.detail)
    console.print(f"{key_id} revoked")


def main() -> None:
    os.environ.setdefault("COLUMNS", "120")
    app()
