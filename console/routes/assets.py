"""The console's stylesheet (public: the login page needs it too)."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from console.context import PREFIX, TEMPLATES_DIR

router = APIRouter(include_in_schema=False)


@cache
def _css() -> str:
    return (TEMPLATES_DIR / "console.css").read_text(encoding="utf-8")


@router.get(PREFIX + "/console.css")
def css() -> Response:
    return Response(_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})
