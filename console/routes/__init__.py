"""The console's pages, one router per area, each declared at module level with its dependencies
(console.deps). `install` includes them in this order (the order routes are matched in)."""

from __future__ import annotations

from fastapi import APIRouter

from console.routes import (
    assets,
    audit,
    auth,
    calls,
    dashboard,
    intent_edit,
    intent_new,
    intents,
    jobs,
    operators,
    prompts,
    radio,
    radio_airing,
    radio_commune,
    radio_reading,
    reports,
    review,
    studio,
    tickets,
)

ROUTERS: tuple[APIRouter, ...] = (
    assets.router,
    auth.router,
    dashboard.router,
    calls.router,
    tickets.router,
    reports.router,
    intents.router,
    intent_new.router,  # before intent_edit: "new" is not an intent's id
    intent_edit.router,
    review.router,
    prompts.router,
    studio.router,
    audit.router,
    operators.router,
    jobs.router,
    radio.router,
    radio_commune.router,
    radio_airing.router,
    radio_reading.router,
)
