"""imgtasks, the shared layer: domain/ (records and rules), services/ (use cases), adapters/ (AWS),
with the settings, observability and the one wiring module every function starts from."""

__version__ = "0.1.0"
