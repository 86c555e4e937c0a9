"""The console's stylesheet (public: the login page needs it too) and the recording studio's script."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from console.context import PREFIX, TEMPLATES_DIR

router = APIRouter(include_in_schema=False)


@cache
def _css() -> str:
    return (TEMPLATES_DIR / "console.css").read_text(encoding="utf-8")


@cache
def _studio_js() -> str:
    return (TEMPLATES_DIR / "studio.js").read_text(encoding="utf-8")


@router.get(PREFIX + "/studio.js")
def studio_js() -> Response:
    """The recording studio's script (a file of our own: the pages allow no inline script)."""
    return Response(
        _studio_js(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get(PREFIX + "/console.css")
def css() -> Response:
    return Response(_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})
