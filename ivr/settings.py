"""Config section `ivr:` (Asterisk, ARI, call flow, prompts)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class IvrSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    app_name: str = "hotline"  # Stasis application name
