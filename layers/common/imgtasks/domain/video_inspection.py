"""Reading a video's header: container, codec, size as shown (after the rotation phones record),
duration, frame rate, frame count (estimated from duration and rate where the container does not
say) and whether it has sound, from the container and its first frame, never every frame.

The container is recognised from its first bytes before FFmpeg sees them (FFmpeg reads almost
anything as *some* format, a text file included); PyAV (FFmpeg's libraries, the video layer) is
imported on first use, so the functions that never see a video never load it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.limits import VideoLimits
from imgtasks.domain.records import VideoInfo

# The containers accepted, by the name the API shows, with the content type each is served as.
VIDEO_CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}
# Announced content types by container family: an upload announced as one member of a family may
# turn out to be another (a phone's .mov sent as video/mp4) and is served as what it really is.
VIDEO_FORMATS_SENTENCE = "MP4, MOV, WebM, MKV or AVI"
VIDEO_FAMILIES = {
    "video/mp4": {"mp4", "mov"},
    "video/x-m4v": {"mp4", "mov"},
    "video/quicktime": {"mp4", "mov"},
    "video/webm": {"webm", "mkv"},
    "video/x-matroska": {"webm", "mkv"},
    "video/x-msvideo": {"avi"},
    "video/avi": {"avi"},
}
# No camera records faster (phones' slow motion tops out at 960 fps); a rate beyond this is a
# broken or hostile header.
MAX_FPS = 1000.0
SNIFF_BYTES = 64
# QuickTime files written before the `ftyp` box was specified start with one of these.
_QUICKTIME_FIRST_BOXES = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
# ISO-BMFF brands of still images (HEIF/HEIC, AVIF): the same box structure, not videos.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"})


def sniff_container(head: bytes) -> str | None:
    """The container a file's first bytes announce (mp4, mov, webm, mkv, avi), or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        if head[8:12] in _IMAGE_BRANDS:
            return None
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if len(head) >= 8 and head[4:8] in _QUICKTIME_FIRST_BOXES:
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: the DocType element says which
        return "webm" if b"webm" in head[:SNIFF_BYTES] else "mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


@dataclass(frozen=True)
class InspectedVideo:
    info: VideoInfo
    width: int
    height: int
    frames: int

    @property
    def content_type(self) -> str:
        return VIDEO_CONTENT_TYPES[self.info.container]


def _invalid(message: str) -> PermanentTaskError:
    return PermanentTaskError(ErrorCode.INVALID_VIDEO, message)


def stream_duration_s(container: Any, stream: Any) -> float:
    """The video stream's duration, else the container's (0 when neither says)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / 1_000_000)
    return 0.0


def inspect_video(source: BinaryIO, *, max_pixels: int, limits: VideoLimits) -> InspectedVideo:
    """Raises PermanentTaskError (`invalid_video`, `no_video_stream`, `unsupported_codec`,
    `image_too_large`, `video_too_long`), each with a sentence a person can act on."""
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    container_name = sniff_container(head)
    if container_name is None:
        raise _invalid(f"the file is not a video this service reads ({VIDEO_FORMATS_SENTENCE})")

    import av

    try:
        container = av.open(source, mode="r")
    except (av.error.FFmpegError, ValueError) as error:
        raise _invalid(f"the {container_name.upper()} file cannot be read (truncated or damaged?)") from error
    with container:
        if not container.streams.video:
            if container.streams.audio:
                raise PermanentTaskError(ErrorCode.NO_VIDEO_STREAM, "the file has sound only: there is no picture")
            raise PermanentTaskError(ErrorCode.NO_VIDEO_STREAM, "the file has no video stream")
        stream = container.streams.video[0]
        codec = _codec(stream)
        _check_size(stream.codec_context.width, stream.codec_context.height, max_pixels)
        first = _first_frame(container, stream, codec)
        duration_s = stream_duration_s(container, stream)
        counted = int(stream.frames or 0)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        has_audio = bool(container.streams.audio)
    fps = float(rate) if rate else 0.0
    if duration_s <= 0:
        # A live recording (a browser's MediaRecorder, a stream saved as it came) says no duration:
        # its packets are read to the end, never decoded, for their count and their last time.
        counted, duration_s = _packets_and_seconds(source)
        if counted > 1 and duration_s > 0:
            fps = counted / duration_s
    if not 0 < fps <= MAX_FPS:
        raise _invalid(f"the video claims {fps:g} frames per second, which no camera records")
    if duration_s > limits.max_seconds:
        raise PermanentTaskError(
            ErrorCode.VIDEO_TOO_LONG,
            f"the video is {duration_s:.1f} s long; the limit is {limits.max_seconds:g} s",
        )
    rotation = round(first.rotation or 0) % 360
    width, height = first.width, first.height
    _check_size(width, height, max_pixels)
    if rotation in (90, 270):
        width, height = height, width
    info = VideoInfo(
        container=container_name,
        codec=codec,
        duration=round(duration_s, 3),
        fps=round(fps, 3),
        frames_estimated=not counted,
        has_audio=has_audio,
        rotation=rotation,
    )
    return InspectedVideo(info=info, width=width, height=height, frames=counted or max(1, round(duration_s * fps)))


def _codec(stream: Any) -> str:
    codec_context = stream.codec_context
    if codec_context is None or codec_context.codec is None:
        raise PermanentTaskError(ErrorCode.UNSUPPORTED_CODEC, "the video's codec is one the service cannot decode")
    return str(codec_context.codec.canonical_name)  # "av1", not the decoder's name ("libdav1d")


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width and height and width * height > max_pixels:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"the video's frames are {width}x{height} ({width * height} pixels); the limit is {max_pixels} pixels",
        )


def _first_frame(container: Any, stream: Any, codec: str) -> Any:
    import av

    try:
        return next(container.decode(stream))
    except StopIteration:
        raise _invalid(f"the {codec} stream has no frame that decodes (truncated or damaged?)") from None
    except av.error.FFmpegError as error:
        if isinstance(error, av.error.DecoderNotFoundError | av.error.PatchWelcomeError):
            raise PermanentTaskError(
                ErrorCode.UNSUPPORTED_CODEC, f"the video's codec ({codec}) is one the service cannot decode"
            ) from error
        raise _invalid(f"the first frame of its {codec} stream does not decode (truncated or damaged?)") from error


def _packets_and_seconds(source: BinaryIO) -> tuple[int, float]:
    """The video stream's packets (one a frame) and the time from the first to the end of the last,
    read without decoding, in a second pass over the file."""
    import av

    source.seek(0)
    starts: list[float] = []
    end = 0.0
    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.pts is None or packet.time_base is None:
                continue  # the empty packet that ends the stream
            start = float(packet.pts * packet.time_base)
            starts.append(start)
            end = max(end, start + float((packet.duration or 0) * packet.time_base))
    if len(starts) < 2:
        return len(starts), 0.0
    first, last = min(starts), max(starts)
    if end <= last:  # the last frame says no duration: it shows for an average frame's time
        end = last + (last - first) / (len(starts) - 1)
    return len(starts), end - first
