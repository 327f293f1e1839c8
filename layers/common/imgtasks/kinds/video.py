"""Video tasks: process tasks that need FFmpeg, on a function and queue of their own (more memory,
/tmp and time). A process task is a video task when its input is a video, or when an output is one
only FFmpeg writes (MP4, WebM, a GIF with one palette for the clip). It is told when the task is
created, and again when a pending input turns out to be a video (a URL may bring one)."""

from __future__ import annotations

from imgtasks.domain.inspection import announces_video
from imgtasks.domain.records import FileRecord
from imgtasks.kinds.base import TaskKind
from imgtasks.kinds.process import PROCESS, ProcessSpec

VIDEO = TaskKind(
    name="video",
    task_type="process",
    queue_url_setting="video_queue_url",
    function="VideoFunction",
    handler="imgtasks_workers.video.lambda_handler",
)


def process_kind(source: FileRecord, spec: ProcessSpec) -> TaskKind:
    """The kind that runs a process task on this file: VIDEO or PROCESS."""
    return VIDEO if announces_video(source.content_type) or spec.needs_ffmpeg else PROCESS
