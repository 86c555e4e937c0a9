"""Config section `intents:` (catalog directory, matcher thresholds)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class IntentSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    catalog_dir: Path = Path("config/intents")
    dialect_table: Path = Path("config/dialect.yaml")
    threshold: float = Field(0.55, ge=0.0, le=1.0)  # below: out of scope
    margin: float = Field(0.06, ge=0.0, le=1.0)  # best minus runner-up below this: clarify
    hot_reload: bool = True
