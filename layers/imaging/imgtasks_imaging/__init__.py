"""The imaging engine: pure Pillow, no AWS. `render` is the whole job; the modules are its steps."""

from .pipeline import DecodeLimits, Rendered, Rendering, Source, render

__all__ = ["DecodeLimits", "Rendered", "Rendering", "Source", "render"]
