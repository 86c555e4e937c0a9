"""Who a radio request comes from: a console account (as the web app reports it), a commune's device
token, or nobody (public listener pages and feeds stay open)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from broadcast.airing import TOKEN_PREFIX


@dataclass(frozen=True)
class RadioUser:
    """A logged-in console account as the radio sees it (this layer does not know the console)."""

    name: str
    writer: bool  # may publish, delete, and fetch held or embargoed segments
    commune_code: int | None = None  # a commune radio account's own commune


def device_token_of(request: Request) -> str | None:
    """A device token from `Authorization: Bearer tt_...` (preferred: not kept in logs and histories) or
    `?token=tt_...` (for players that cannot set headers); None when the request carries none."""
    given = request.headers.get("authorization", "")
    if given.startswith("Bearer " + TOKEN_PREFIX):
        return given.removeprefix("Bearer ")
    token = request.query_params.get("token")
    return token or None
