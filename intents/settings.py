"""Config section `intents:` (catalog directory, matcher thresholds)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from core.config import ProductConfig


class IntentSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    catalog_dir: Path = Path("config/intents")
    dialect_table: Path = Path("config/dialect.yaml")
    threshold: float = Field(0.55, ge=0.0, le=1.0)  # below: out of scope
    margin: float = Field(0.06, ge=0.0, le=1.0)  # best minus runner-up below this: clarify
    hot_reload: bool = True
    reload_interval: float = Field(1.0, gt=0.0, le=60.0)  # seconds between catalog change checks
    max_answer_seconds: float = Field(40.0, gt=0.0)  # longest spoken answer `intents check` accepts
    speech_rate: float = Field(3.0, gt=0.0)  # syllables per second assumed when timing answers
    max_text_chars: int = Field(500, ge=10)  # longer caller text is cut to this before matching


class IntentsConfig(ProductConfig, Protocol):
    """What understanding callers reads from the product's settings."""

    @property
    def intents(self) -> IntentSettings: ...
