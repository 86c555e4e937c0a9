"""console.deps: every console route declares the login it needs and every POST form its CSRF check."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from console import deps
from console.context import PREFIX, RADIO
from console.routes import ROUTERS

# Before any login: the login page and its styles, the radio job page's and the studio's own script files.
PUBLIC = {PREFIX, PREFIX + "/login", PREFIX + "/console.css", RADIO + "/tien-do.js", PREFIX + "/studio.js"}
# Every role may reach these (each page then checks what the role may see); the rest is hotline staff's.
ANY_ROLE = {PREFIX + "/", PREFIX + "/logout"}
LOGINS = {deps.page_login, deps.api_login, deps.any_page_login}
CSRF_IN_BODY = {  # check their tokens themselves
    PREFIX + "/login",
    PREFIX + "/prompts/{key}/upload",
    PREFIX + "/studio/{key}/take",
    RADIO + "/ban-tin/{segment_id}/giong-doc",
}


def _calls(dependant) -> set:
    """Every dependency function a route resolves, however deep."""
    out = set()
    for sub in dependant.dependencies:
        out.add(sub.call)
        out |= _calls(sub)
    return out


@pytest.fixture
def console_routes() -> list[APIRoute]:
    """The routes `install` includes (console.routes.ROUTERS)."""
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 20 and all(r.path.startswith(PREFIX) for r in routes)
    return routes


def test_every_console_route_but_the_login_needs_a_login(console_routes):
    for route in console_routes:
        calls = _calls(route.dependant)
        if route.path in PUBLIC:
            assert not calls & LOGINS, route.path
        else:
            assert calls & LOGINS, route.path


def test_only_the_radio_pages_let_the_radio_roles_in(console_routes):
    """Calls, tickets, recordings, the catalog and accounts: hotline staff only (page_login / api_login)."""
    for route in console_routes:
        if route.path in PUBLIC or route.path in ANY_ROLE or route.path.startswith(RADIO):
            continue
        assert _calls(route.dependant) & {deps.page_login, deps.api_login}, route.path


def test_every_post_form_checks_its_csrf_token(console_routes):
    posts = [r for r in console_routes if "POST" in r.methods]
    assert len(posts) > 10
    for route in posts:
        checked = bool(
            _calls(route.dependant) & {deps.csrf_login, deps.admin_csrf_login, deps.any_csrf_login}
        )
        assert checked != (route.path in CSRF_IN_BODY), route.path


def test_administrators_pages_need_an_administrator(console_routes):
    for route in console_routes:
        if route.path.startswith((PREFIX + "/operators", PREFIX + "/audit")):
            assert deps.admin_login in _calls(route.dependant), route.path
