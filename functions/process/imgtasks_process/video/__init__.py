"""Video in (PyAV, FFmpeg's libraries): inspecting a file without decoding every frame, and the
timeline that picks and times the frames of an animation. Groundwork of the video issue: nothing
routes work here yet."""
