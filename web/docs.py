"""The interactive API page at /api/docs, from the Swagger UI files installed with `swagger-ui-bundle`.

FastAPI's own page fetches Swagger UI from a CDN, so on the province's closed network it stays blank.
Here the page, Swagger UI's script and style sheet, and the script that starts it are all served by the
app itself: no external address in the page, and no inline script (the page's policy allows scripts
from this site only, `web.headers.DOCS_POLICY`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/api/docs"
ASSETS = f"{DOCS_PATH}/assets"
SWAGGER_DIR = Path(swagger_ui_path)
# Only what the page uses (the package also ships its demo page and source maps).
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
START_SCRIPT = """\
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "%(openapi)s",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null  // the default badge asks validator.swagger.io about our document
  });
});
"""
PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s — API</title>
<link rel="stylesheet" href="%(assets)s/swagger-ui.css">
<link rel="icon" type="image/png" href="%(assets)s/favicon-32x32.png">
</head><body>
<div id="swagger-ui"></div>
<script src="%(assets)s/swagger-ui-bundle.js"></script>
<script src="%(docs)s/start.js"></script>
</body></html>
"""


def as_openapi_30(node: Any) -> Any:
    """The app's OpenAPI 3.1 document as the 3.0 that the packaged Swagger UI (4.x) renders: the one
    3.1 form our schemas use, `anyOf` with `{"type": "null"}`, becomes `nullable`, and `const` an `enum`
    of one. The published document (`/api/openapi.json`) stays 3.1."""
    if isinstance(node, list):
        return [as_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: as_openapi_30(value) for key, value in node.items()}
    if out.get("openapi", "").startswith("3.1"):
        out["openapi"] = "3.0.3"
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            out["nullable"] = True
            if len(rest) == 1:
                del out[key]
                out = {**rest[0], **out}
            else:
                out[key] = rest
    return out


def install_docs(app: FastAPI) -> None:
    """Serve the API page for `app.openapi_url` (create the app with `docs_url=None`)."""
    page = PAGE % {"title": app.title, "assets": ASSETS, "docs": DOCS_PATH}
    start = START_SCRIPT % {"openapi": f"{DOCS_PATH}/openapi.json"}

    @app.get(f"{DOCS_PATH}/openapi.json", include_in_schema=False)
    def docs_document() -> JSONResponse:
        return JSONResponse(as_openapi_30(app.openapi()))

    @app.get(DOCS_PATH, include_in_schema=False, response_class=HTMLResponse)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{DOCS_PATH}/start.js", include_in_schema=False)
    def docs_start() -> Response:
        return Response(start, media_type="text/javascript")

    @app.get(f"{ASSETS}/{{name}}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        if name not in SWAGGER_FILES:
            raise HTTPException(404)
        # Versioned with the installed package: browsers may keep them a day.
        return FileResponse(
            SWAGGER_DIR / name, media_type=SWAGGER_FILES[name], headers={"Cache-Control": "max-age=86400"}
        )
