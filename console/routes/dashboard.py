"""The dashboard: today's tiles, and the managers' charts over a chosen range of days, weeks or months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from console.context import PREFIX, RADIO, Console
from console.dashboard_charts import charts, tiles, totals
from console.data.dashboard import dashboard as dashboard_figures
from console.data.periods import (
    MAX_DAYS,
    PERIOD_VI,
    Period,
    RangeError,
    day_range,
    format_day,
    parse_day,
)
from console.data.prompts import load_prompts
from console.data.ticket_figures import month_trend
from console.data.times import today_local
from console.data.trends import trends
from console.data.voice_coverage import prompt_namer
from console.deps import AnyPageLogin, ApiLogin, ConsoleDep, Db

router = APIRouter(include_in_schema=False)


def _now() -> dt.datetime:
    """The page's present moment (aware UTC); one place, so a test can fix it."""
    return dt.datetime.now(dt.UTC)


def _typed_day(text: str, field: str, errors: list[str]) -> dt.date | None:
    """A typed day; a mistyped one is explained on the page and replaced by the default."""
    try:
        return parse_day(text, field)
    except RangeError as exc:
        errors.append(f"{exc} Ô này đang dùng ngày mặc định.")
        return None


@router.get(PREFIX + "/")
def dashboard(
    console: ConsoleDep,
    db: Db,
    login: AnyPageLogin,
    period: str = Query(Period.DAY.value, max_length=8),
    day_from: str = Query("", alias="from", max_length=10),
    day_to: str = Query("", alias="to", max_length=10),
) -> Response:
    if not login.operator.is_staff:  # the radio roles start on the radio's own page
        return RedirectResponse(RADIO, status_code=303)
    now = _now()
    errors: list[str] = []
    if period not in PERIOD_VI:  # a hand-edited address: said in Vietnamese, not a validation error
        errors.append("Không có cách xem này; đang xem theo ngày (chọn ngày, tuần hoặc tháng).")
    cut = Period(period) if period in PERIOD_VI else Period.DAY
    first, last = _typed_day(day_from, "từ ngày", errors), _typed_day(day_to, "đến ngày", errors)
    span = day_range(first, last, cut, today_local(console.tz, now), console.tz)
    monthly = partial(month_trend, now=now.replace(tzinfo=None), tz=console.tz)
    t = trends(db, span, month_figures=monthly)
    return console.render(
        "dashboard.html",
        login,
        page="home",
        d=dashboard_figures(db, console.tz, now, _prompt_names(console)),
        charts=charts(t, console.topic),
        tiles=tiles(totals(t)),
        span=span,
        periods=PERIOD_VI,
        form={"period": cut, "from": format_day(span.first), "to": format_day(span.last)},
        errors=errors,
        max_months=MAX_DAYS // 30,
    )


def _prompt_names(console: Console) -> Callable[[str], str]:
    """Names for the voice coverage table; without a readable prompts file, the generic ones."""
    try:
        prompts, templates = load_prompts(console.settings)
    except Exception:  # the prompts page explains a broken file; the dashboard still shows figures
        prompts, templates = {}, {}
    return prompt_namer(prompts, templates, console.topic)


@router.get(PREFIX + "/api/stats")
def stats(console: ConsoleDep, db: Db, login: ApiLogin) -> dict[str, Any]:
    d = asdict(dashboard_figures(db, console.tz))
    d["day"] = d["day"].isoformat()
    return d
