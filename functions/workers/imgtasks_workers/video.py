"""The video function: process tasks that need FFmpeg (imgtasks.kinds.video), from the video
queue: the process runner with a renderer that reads videos from local storage (Lambda's /tmp),
never whole in memory, and watches the invocation's deadline; images that need FFmpeg's encoders
(MP4, WebM, a clip-palette GIF) go through the image renderer, which has them here."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

import imgtasks_imaging as imaging
import imgtasks_imaging.video
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.limits import VideoLimits
from imgtasks.domain.records import FileRecord
from imgtasks.kinds.process import ProcessSpec
from imgtasks.kinds.video import VIDEO
from imgtasks.observability import logger, metrics
from imgtasks_imaging.video.render import render_video

from .batches import handle_batch
from .process import ImageRenderer, OnOutput, Progress, TaskRunner, build_runner


class VideoRenderer(ImageRenderer):
    def __init__(self, store: ObjectStore, limits: imaging.DecodeLimits, video_limits: VideoLimits) -> None:
        super().__init__(store, limits)
        self._video_limits = video_limits
        self._context: LambdaContext | None = None

    def use_context(self, context: LambdaContext) -> None:
        self._context = context

    def render(
        self, source: FileRecord, spec: ProcessSpec, progress: Progress, on_output: OnOutput | None = None
    ) -> imaging.Rendering:
        if source.video is None:
            return imaging.render(self._store.get(source.bucket, source.key), spec, self.limits, progress, on_output)
        context = self._context
        remaining_s = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
        with tempfile.TemporaryDirectory(prefix="imgtasks-video-") as folder:
            path = Path(folder) / "source"
            self._store.download(source.bucket, source.key, path)
            return render_video(
                path,
                spec,
                max_pixels=self.limits.max_pixels,
                limits=self._video_limits,
                progress=progress,
                remaining_s=remaining_s,
            )


@cache
def runner() -> TaskRunner:
    """Built on the first batch of a container (cold start) and kept for the next ones."""
    return build_runner(VIDEO, lambda wiring, limits: VideoRenderer(wiring.store, limits, wiring.limits.video))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    runner().register_lambda_context(context)
    return handle_batch(event, context, "video", runner().run)
