"""Video in (PyAV, FFmpeg's libraries): the timeline that picks and times the frames of an
animation, the renderer of a task on a video, and the encoders FFmpeg brings (clip-palette GIF,
MP4, WebM). Loaded by the video worker only; the image worker never imports it."""
