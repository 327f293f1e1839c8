"""A render's pixels: the engine of process tasks on one still (a video's poster frame: its first
frame, upright), one output."""

from __future__ import annotations

import tempfile
from pathlib import Path

import imgtasks_imaging as imaging
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.limits import VideoLimits
from imgtasks.domain.outputs import OutputSpec
from imgtasks.domain.records import FileRecord
from imgtasks.domain.render_options import RenderOptions
from imgtasks.kinds.process import ProcessSpec
from imgtasks.services.renders import output_format

# The poster frame is handed to the image engine losslessly.
POSTER_SPEC = ProcessSpec(output=OutputSpec(format="png", fast=True))


class Pictures:
    def __init__(self, store: ObjectStore, limits: imaging.DecodeLimits, video_limits: VideoLimits) -> None:
        self._store = store
        self._limits = limits
        self._video_limits = video_limits

    def __call__(self, record: FileRecord, options: RenderOptions) -> bytes:
        spec = options.spec
        if record.is_video:
            source = self._poster(record)
            spec = options.with_format(output_format(record, options)).spec
        else:
            source = self._store.get(record.bucket, record.key)
        return imaging.render(source, spec, self._limits, describe=False).outputs[0].data

    def _poster(self, record: FileRecord) -> bytes:
        from imgtasks_imaging.video.render import render_video  # PyAV: imported for videos only

        with tempfile.TemporaryDirectory(prefix="imgtasks-poster-") as folder:
            path = Path(folder) / "source"
            self._store.download(record.bucket, record.key, path)
            rendering = render_video(path, POSTER_SPEC, max_pixels=self._limits.max_pixels, limits=self._video_limits)
        return rendering.outputs[0].data
