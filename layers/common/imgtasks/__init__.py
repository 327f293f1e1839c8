"""imgtasks domain: models, task state machine, repositories, auth, settings (the shared layer)."""

__version__ = "0.1.0"
