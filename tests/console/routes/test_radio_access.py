"""Who may reach what: every console and radio route for every role, through the real app and SQLite file.

Roles: nobody, a hotline operator, a bulletin editor, commune A's radio account, an administrator, and the
device tokens of communes A and B. A route missing from the table fails the test, so a new route has to
say who may use it.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.broadcast.catalog import add_segment
from tests.console.helpers import add_operator, csrf_of, login

ROLES = ("anon", "operator", "editor", "commune", "admin", "device_a", "device_b")
# One letter per role, in the order above: o = let in (any answer but a refusal or a server error),
# l = asked to log in or show a token (303 to the login page, or 401), d = refused (403).
STAFF = "loddoll"  # calls, tickets, recordings, the catalog: hotline staff only
ADMIN = "ldddoll"  # the audit log and accounts
ANY_LOGIN = "looooll"  # every console account (each page then shows what the role may see)
WRITER = "loodoll"  # writing and publishing bulletins
PROVINCE = "ldodoll"  # the province's airing view
OPEN = "ooooooo"  # public listener pages, feeds and API reads
COMMUNE_A = "ooooood"  # commune A's feeds and audio: B's device token is refused
COMMUNE_B = "ooooodo"
API_WRITE = "loololl"  # the API token or a writer's console session (a commune account is no writer)

BAD_BULLETIN = b"# no front matter"

# (method, route path, the path as requested, expectations). {a}/{b}: commune A's / B's segment;
# {fa}/{fb}: their files; {slug}: commune A's page; {job}: a render job.
TABLE: list[tuple[str, str, str, str]] = [
    ("GET", "/console", "/console", OPEN),
    ("GET", "/console/login", "/console/login", OPEN),
    ("POST", "/console/login", "/console/login", "ddddddd"),  # no login form's token: refused for all
    ("GET", "/console/console.css", "/console/console.css", OPEN),
    ("GET", "/console/", "/console/", ANY_LOGIN),
    ("GET", "/console/api/stats", "/console/api/stats", STAFF),
    ("GET", "/console/calls", "/console/calls", STAFF),
    ("GET", "/console/calls/{call_id}", "/console/calls/999999", STAFF),
    ("POST", "/console/calls/{call_id}/number", "/console/calls/999999/number", STAFF),
    ("GET", "/console/tickets", "/console/tickets", STAFF),
    ("GET", "/console/tickets/{number}", "/console/tickets/000000", STAFF),
    ("GET", "/console/tickets/{number}/audio", "/console/tickets/000000/audio", STAFF),
    ("POST", "/console/tickets/{number}/reply", "/console/tickets/000000/reply", STAFF),
    ("POST", "/console/tickets/{number}/assign", "/console/tickets/000000/assign", STAFF),
    ("POST", "/console/tickets/{number}/number", "/console/tickets/000000/number", STAFF),
    ("GET", "/console/report", "/console/report", STAFF),
    ("GET", "/console/report/download", "/console/report/download?format=csv", STAFF),
    ("GET", "/console/intents", "/console/intents", STAFF),
    ("POST", "/console/intents/try", "/console/intents/try", STAFF),
    ("GET", "/console/intents/new", "/console/intents/new", STAFF),
    ("POST", "/console/intents/new", "/console/intents/new", STAFF),
    ("GET", "/console/intents/{intent_id}", "/console/intents/cccd", STAFF),
    ("POST", "/console/intents/{intent_id}/restore", "/console/intents/cccd/restore", STAFF),
    ("POST", "/console/intents/{intent_id}/edit", "/console/intents/cccd/edit", STAFF),
    ("GET", "/console/review", "/console/review", STAFF),
    ("GET", "/console/review/{item_id}/audio", "/console/review/999999/audio", STAFF),
    ("POST", "/console/review", "/console/review", STAFF),
    ("GET", "/console/prompts", "/console/prompts", STAFF),
    ("POST", "/console/prompts/restore", "/console/prompts/restore", STAFF),
    ("POST", "/console/prompts/{key}/text", "/console/prompts/greeting/text", STAFF),
    ("GET", "/console/prompts/{key}/audio", "/console/prompts/greeting/audio", STAFF),
    ("POST", "/console/prompts/{key}/upload", "/console/prompts/greeting/upload", STAFF),
    ("POST", "/console/intents/speak", "/console/intents/speak", STAFF),
    # the recording studio: what every caller hears, so hotline staff only
    ("GET", "/console/studio", "/console/studio", STAFF),
    ("GET", "/console/studio.js", "/console/studio.js", OPEN),
    ("GET", "/console/studio/{key}", "/console/studio/greeting", STAFF),
    ("GET", "/console/studio/{key}/context", "/console/studio/greeting/context", STAFF),
    (
        "GET",
        "/console/studio/{key}/take/{take}/audio",
        "/console/studio/greeting/take/khong-co/audio",
        STAFF,
    ),
    ("POST", "/console/studio/{key}/take", "/console/studio/greeting/take", STAFF),
    (
        "POST",
        "/console/studio/{key}/take/{take}/accept",
        "/console/studio/greeting/take/khong-co/accept",
        STAFF,
    ),
    (
        "POST",
        "/console/studio/{key}/take/{take}/discard",
        "/console/studio/greeting/take/khong-co/discard",
        STAFF,
    ),
    ("GET", "/console/audit", "/console/audit", ADMIN),
    ("GET", "/console/operators", "/console/operators", ADMIN),
    ("POST", "/console/operators/add", "/console/operators/add", ADMIN),
    ("POST", "/console/operators/password", "/console/operators/password", ADMIN),
    ("POST", "/console/operators/{username}/disable", "/console/operators/khong-co/disable", ADMIN),
    ("POST", "/console/operators/{username}/enable", "/console/operators/khong-co/enable", ADMIN),
    ("GET", "/console/cong-viec", "/console/cong-viec", ADMIN),
    ("POST", "/console/cong-viec/{job_id}/thu-lai", "/console/cong-viec/999999/thu-lai", ADMIN),
    # the radio newsroom, commune pages and the province's view
    ("GET", "/console/truyen-thanh", "/console/truyen-thanh", ANY_LOGIN),
    ("POST", "/console/truyen-thanh/soan", "/console/truyen-thanh/soan", WRITER),
    ("GET", "/console/truyen-thanh/viec/{job_id}", "/console/truyen-thanh/viec/{job}", WRITER),
    (
        "GET",
        "/console/truyen-thanh/viec/{job_id}/trang-thai",
        "/console/truyen-thanh/viec/{job}/trang-thai",
        WRITER,
    ),
    ("GET", "/console/truyen-thanh/tien-do.js", "/console/truyen-thanh/tien-do.js", OPEN),
    ("GET", "/console/truyen-thanh/ban-tin/{segment_id}", "/console/truyen-thanh/ban-tin/{a}", ANY_LOGIN),
    ("GET", "/console/truyen-thanh/ban-tin/{segment_id}", "/console/truyen-thanh/ban-tin/{b}", "loodoll"),
    (
        "GET",
        "/console/truyen-thanh/ban-tin/{segment_id}/nghe",
        "/console/truyen-thanh/ban-tin/{a}/nghe",
        ANY_LOGIN,
    ),
    (
        "GET",
        "/console/truyen-thanh/ban-tin/{segment_id}/nghe",
        "/console/truyen-thanh/ban-tin/{b}/nghe",
        "loodoll",
    ),
    (
        "POST",
        "/console/truyen-thanh/ban-tin/{segment_id}/phat-hanh",
        "/console/truyen-thanh/ban-tin/{a}/phat-hanh",
        WRITER,
    ),
    # a reading by a person: writers for any bulletin, a commune account for a bulletin sent to it
    (
        "GET",
        "/console/truyen-thanh/ban-tin/{segment_id}/giong-doc",
        "/console/truyen-thanh/ban-tin/{a}/giong-doc",
        ANY_LOGIN,
    ),
    (
        "GET",
        "/console/truyen-thanh/ban-tin/{segment_id}/giong-doc",
        "/console/truyen-thanh/ban-tin/{b}/giong-doc",
        "loodoll",
    ),
    (
        "POST",
        "/console/truyen-thanh/ban-tin/{segment_id}/giong-doc",
        "/console/truyen-thanh/ban-tin/{a}/giong-doc",
        ANY_LOGIN,
    ),
    (
        "POST",
        "/console/truyen-thanh/ban-tin/{segment_id}/giong-doc",
        "/console/truyen-thanh/ban-tin/{b}/giong-doc",
        "loodoll",
    ),
    ("GET", "/console/truyen-thanh/xa", "/console/truyen-thanh/xa", "ldoooll"),
    (
        "POST",
        "/console/truyen-thanh/xa/da-phat/{segment_id}",
        "/console/truyen-thanh/xa/da-phat/{a}",
        "lddodll",
    ),
    (
        "POST",
        "/console/truyen-thanh/xa/da-phat/{segment_id}",
        "/console/truyen-thanh/xa/da-phat/{b}",
        "lddddll",
    ),
    # a commune account: its own commune's token; an administrator: any commune's (none chosen: 422)
    ("POST", "/console/truyen-thanh/ma-thiet-bi", "/console/truyen-thanh/ma-thiet-bi", "lddooll"),
    ("GET", "/console/truyen-thanh/phat-song", "/console/truyen-thanh/phat-song", PROVINCE),
    ("GET", "/console/truyen-thanh/phat-song/{segment_id}", "/console/truyen-thanh/phat-song/{a}", PROVINCE),
    (
        "GET",
        "/console/truyen-thanh/phat-song/{segment_id}/tai-ve",
        "/console/truyen-thanh/phat-song/{a}/tai-ve?format=csv",
        PROVINCE,
    ),
    # public radio pages, feeds, files and the API
    ("GET", "/truyen-thanh", "/truyen-thanh", OPEN),
    ("GET", "/truyen-thanh/", "/truyen-thanh/", OPEN),
    ("GET", "/truyen-thanh/style.css", "/truyen-thanh/style.css", OPEN),
    ("GET", "/truyen-thanh/loc-xa.js", "/truyen-thanh/loc-xa.js", OPEN),
    ("GET", "/truyen-thanh/{slug}", "/truyen-thanh/{slug}", OPEN),
    ("GET", "/truyen-thanh/{slug}/rss.xml", "/truyen-thanh/{slug}/rss.xml", COMMUNE_A),
    ("GET", "/truyen-thanh/{slug}/danh-sach-phat.m3u", "/truyen-thanh/{slug}/danh-sach-phat.m3u", COMMUNE_A),
    ("GET", "/truyen-thanh/{slug}/lich/{day}.json", "/truyen-thanh/{slug}/lich/01-01-2001.json", COMMUNE_A),
    ("GET", "/truyen-thanh/{slug}/lich/{day}.m3u", "/truyen-thanh/{slug}/lich/01-01-2001.m3u", COMMUNE_A),
    (
        "GET",
        "/truyen-thanh/{slug}/goi-ngoai-tuyen.zip",
        "/truyen-thanh/{slug}/goi-ngoai-tuyen.zip",
        COMMUNE_A,
    ),
    ("GET", "/truyen-thanh/tep/{segment_id}/{filename}", "/truyen-thanh/tep/{a}/{fa}", COMMUNE_A),
    ("GET", "/truyen-thanh/tep/{segment_id}/{filename}", "/truyen-thanh/tep/{b}/{fb}", COMMUNE_B),
    ("GET", "/api/broadcast/communes", "/api/broadcast/communes", OPEN),
    ("GET", "/api/broadcast/segments", "/api/broadcast/segments", OPEN),
    ("GET", "/api/broadcast/segments/{segment_id}", "/api/broadcast/segments/{a}", OPEN),
    ("DELETE", "/api/broadcast/segments/{segment_id}", "/api/broadcast/segments/999999", API_WRITE),
    ("POST", "/api/broadcast/segments/{segment_id}/aired", "/api/broadcast/segments/{a}/aired", "lllllod"),
    ("POST", "/api/broadcast/segments/{segment_id}/aired", "/api/broadcast/segments/{b}/aired", "llllldo"),
    ("POST", "/api/broadcast/bulletins", "/api/broadcast/bulletins", API_WRITE),
    ("GET", "/api/broadcast/jobs/{job_id}", "/api/broadcast/jobs/{job}", API_WRITE),
    ("GET", "/api/broadcast/jobs", "/api/broadcast/jobs", API_WRITE),
    ("POST", "/console/logout", "/console/logout", ANY_LOGIN),  # last: it ends the session
]


def _routes(app) -> set[tuple[str, str]]:
    """(method, path) of every console and radio route the app serves (HEAD goes with GET)."""
    out = set()
    stack = list(app.routes)
    while stack:
        route = stack.pop()
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack.extend(inner.routes)
            continue
        if isinstance(route, APIRoute) and route.path.startswith(
            ("/console", "/truyen-thanh", "/api/broadcast")
        ):
            out |= {(m, route.path) for m in route.methods if m != "HEAD"}
    return out


def _outcome(r) -> str:
    assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text[:300])
    # The login page with the way back (a successful logout leads to the bare login page).
    if r.status_code == 401 or (r.status_code == 303 and "/console/login?next=" in r.headers["location"]):
        return "l"
    return "d" if r.status_code == 403 else "o"


@pytest.fixture
def world(console_settings):
    from web.app import create_app

    with TestClient(create_app(console_settings)) as app_client:
        app = app_client.app
        radio, airing = app.state.broadcast, app.state.broadcast_airing
        a, b = radio.communes.resolve("Đô Lương"), radio.communes.resolve("Anh Sơn")
        seg_a = add_segment(radio, "ban-tin-xa-a", communes=[a.code])
        seg_b = add_segment(radio, "ban-tin-xa-b", communes=[b.code])
        job = radio.create_job("ban-tin.md", None)
        add_operator(console_settings, "lan", "operator")
        add_operator(console_settings, "bien", "editor")
        add_operator(console_settings, "hoa", "admin")
        from console.data.operators import add_operator as add
        from core.db import engine_for, session_factory
        from tests.console.helpers import PASSWORD

        add(session_factory(engine_for(console_settings)), "xa-a", PASSWORD, "commune", commune_code=a.code)
        values = {
            "{a}": str(seg_a.id),
            "{b}": str(seg_b.id),
            "{fa}": seg_a.file,
            "{fb}": seg_b.file,
            "{slug}": a.slug,
            "{job}": job,
        }
        tokens = {
            "device_a": airing.issue_token(a.code, "test"),
            "device_b": airing.issue_token(b.code, "test"),
        }
        yield app, values, tokens


def test_every_console_and_radio_route_for_every_role(world):
    app, values, tokens = world
    assert {(m, p) for m, p, _, _ in TABLE} == _routes(app), "every route needs its row"
    clients: dict[str, TestClient] = {}
    csrf: dict[str, str] = {}
    for role, user in (("operator", "lan"), ("editor", "bien"), ("commune", "xa-a"), ("admin", "hoa")):
        client = TestClient(app)
        assert login(client, user).status_code == 303
        csrf[role] = csrf_of(client.get("/console/", follow_redirects=True).text)
        clients[role] = client
    anon = TestClient(app)
    seen: dict[tuple[str, str], str] = {}
    # Device roles first: a commune account making a new device token ends the old one.
    for index, role in sorted(enumerate(ROLES), key=lambda x: (not x[1].startswith("device"), x[0])):
        client = clients.get(role, anon)
        for method, _route, raw_path, expected in TABLE:
            path = raw_path
            for key, value in values.items():
                path = path.replace(key, value)
            headers = {}
            if role in tokens:
                headers["Authorization"] = f"Bearer {tokens[role]}"
            elif role in clients and not path.startswith("/console"):
                # The console's cookie is scoped to /console: an API client presents it itself.
                headers["Cookie"] = f"hotline_console={client.cookies['hotline_console']}"
            kwargs: dict = {"headers": headers, "follow_redirects": False}
            if method == "POST":
                if path == "/api/broadcast/bulletins":
                    kwargs["content"] = BAD_BULLETIN
                    headers["content-type"] = "text/markdown"
                elif path.startswith("/console"):
                    kwargs["data"] = {"csrf": csrf.get(role, "")}
            r = client.request(method, path, **kwargs)
            seen[(role, raw_path + method)] = got = _outcome(r)
            assert got == expected[index], (role, method, path, r.status_code, r.text[:200])
    assert len(seen) == len(ROLES) * len(TABLE)


def test_a_device_token_pulls_only_its_own_commune_and_is_kept_hashed(world):
    app, values, tokens = world
    client = TestClient(app)
    a = {"Authorization": f"Bearer {tokens['device_a']}"}
    # ?token= for players that cannot set headers: the playlist's links carry it, so each file is counted.
    m3u = client.get(f"/truyen-thanh/{values['{slug}']}/danh-sach-phat.m3u?token={tokens['device_a']}")
    assert m3u.status_code == 200 and f"?token={tokens['device_a']}" in m3u.text
    assert m3u.headers["cache-control"] == "private, no-store"
    assert values["{fb}"] not in m3u.text  # commune B's segment is not on A's playlist
    wrong = client.get(
        f"/truyen-thanh/{values['{slug}']}/rss.xml", headers={"Authorization": "Bearer tt_wrong"}
    )
    assert wrong.status_code == 401 and "Mã thiết bị" in wrong.json()["error"]["message"]
    from broadcast.models import DeviceToken

    with app.state.sessions() as s:
        stored = [row.token_hash for row in s.query(DeviceToken)]
    assert len(stored) == 2 and tokens["device_a"] not in stored and all(len(h) == 64 for h in stored)
    # A device token writes nothing but airings: no upload, no deletion.
    r = client.delete(f"/api/broadcast/segments/{values['{a}']}", headers=a)
    assert r.status_code == 401
