"""Vietnamese error responses: an HTML page for browsers, JSON `{"error": {code, message}}` for the API."""

from __future__ import annotations

import html
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

VI_STATUS = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    409: "Xung đột dữ liệu",
    413: "Dữ liệu gửi lên quá lớn",
    416: "Khoảng dữ liệu không hợp lệ",
    422: "Dữ liệu gửi lên không hợp lệ",
    429: "Quá nhiều yêu cầu, vui lòng thử lại sau",
    500: "Lỗi hệ thống",
    503: "Dịch vụ tạm thời không sẵn sàng",
}

# English details the framework raises itself (body limit, form parser): the Vietnamese title replaces them.
FRAMEWORK_DETAILS = frozenset({"Content Too Large", "There was an error parsing the body"})

ERROR_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{code} – {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}a{{color:#0645ad}}</style></head>
<body><h1>{title}</h1><p>{detail}</p><p><a href="/">Về trang chủ</a></p></body></html>
"""


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def own_detail(status: int, detail: object) -> str | None:
    """The detail worth showing: ours (Vietnamese), not the status phrase or a framework's English text."""
    if not isinstance(detail, str) or detail == HTTPStatus(status).phrase or detail in FRAMEWORK_DETAILS:
        return None
    return detail


def error_response(request: Request, status: int, detail: str | None = None) -> Response:
    title = VI_STATUS.get(status) or HTTPStatus(status).phrase
    text = detail or title
    if _wants_html(request):
        body = ERROR_PAGE.format(code=status, title=html.escape(title), detail=html.escape(text))
        return HTMLResponse(body, status_code=status)
    return JSONResponse({"error": {"code": status, "message": text}}, status_code=status)
