"""The base of every pydantic model of the service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    # Validators are built on a model's first use instead of at import, so a cold start pays
    # only for the models its first request needs (bench/coldstart.py).
    model_config = ConfigDict(defer_build=True)


class StrictModel(Model):
    """Unknown fields are an error, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")
