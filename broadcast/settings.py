"""Config section `broadcast:` (bulletins, rendering, mastering, publishing)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BroadcastSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    province: str = "Nghệ An"
    loudness_target_lufs: float = Field(-16.0, ge=-40.0, le=-5.0)
