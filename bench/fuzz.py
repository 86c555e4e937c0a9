"""API fuzz campaign: schemathesis against the web app's own OpenAPI document, over real HTTP.

The real app runs under uvicorn on a free loopback port, on a throwaway data dir with a migrated SQLite
database, one console operator and two radio segments (one published, one embargoed). Every operation of
`/api/openapi.json` gets generated requests, valid and invalid, as three clients: anonymous, a console
session logged in through the real login form (CSRF token + cookie), and the holder of the radio API
token. Each response is checked for server errors, undocumented status codes, content types, headers and
bodies that do not match the schema, and invalid input that was accepted.

The console's own routes (HTML pages and forms, and the JSON `/console/api/stats`) are left out of the
document on purpose (`include_in_schema=False`): they have no schema to fuzz against.

`run()` is the `make bench` entry; `campaign()` is shared with the bounded test in tests/web.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "ma-truy-cap-kiem-thu-dai-32-ky-tu-x"
USERNAME = "fuzz"
PASSWORD = "mat-khau-kiem-thu-dai-1"
MAX_EXAMPLES = 150  # per operation, per generation mode, per client
TIME_CAP_S = 900.0  # the whole campaign
REQUEST_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Client:
    """Who sends the requests: extra headers and cookies on every request."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # check title -> count
    examples: dict[str, str] = field(default_factory=dict)  # "check | operation" -> first reproduction
    no_negative_cases: set[str] = field(default_factory=set)  # operations without any input to spoil
    timed_out: bool = False

    def operations_covered(self) -> int:
        return len(self.operations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": sorted(self.operations),
            "operations_covered": self.operations_covered(),
            "requests": self.requests,
            "statuses": dict(sorted(self.statuses.items())),
            "failures": sum(self.failures.values()),
            "failures_by_kind": dict(self.failures),
            "failure_examples": self.examples,
            "operations_without_invalid_input": sorted(self.no_negative_cases),
            "stopped_at_time_cap": self.timed_out,
        }


def serve(app: Any) -> contextlib.AbstractContextManager[str]:
    """`app` under uvicorn on 127.0.0.1 in a thread, quiet: the fuzzer sends malformed requests."""
    from tests.browser import serve as serve_app

    return serve_app(app, log_level="critical")


def make_settings(data: Path) -> Any:
    """Shipped config, data under `data`, the radio API token set; schema migrated."""
    from hotline.db import upgrade
    from hotline.settings import load_settings

    env = {
        "HOTLINE_PATHS__DATA_DIR": str(data / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(data / "var" / "cache"),
        "HOTLINE_IVR__PROMPTS_DIR": str(data / "prompts"),
        "HOTLINE_BROADCAST__API_TOKEN": TOKEN,
    }
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    upgrade(settings.database_url)
    return settings


def seed(app: Any) -> None:
    """One console operator, a published segment and an embargoed one (files on disk)."""
    from broadcast.models import Segment
    from console.data.operators import add_operator
    from core.db import transaction

    add_operator(app.state.sessions, USERNAME, PASSWORD, "admin")
    svc = app.state.broadcast
    svc.segments_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with transaction(app.state.sessions) as s:
        for n, publish_at in ((1, None), (2, now + dt.timedelta(days=3650))):
            audio = b"\xff\xfb\x90\x64" + bytes(400)  # an MPEG frame header and silence: only served
            (svc.segments_dir / f"seg-{n}.mp3").write_bytes(audio)
            (svc.segments_dir / f"seg-{n}.json").write_text(
                json.dumps({"script": "Bản tin thử.", "warnings": []}), encoding="utf-8"
            )
            s.add(
                Segment(
                    key=f"ban-tin-thu-{n}",
                    title=f"Bản tin thử {n}",
                    bulletin_date=now.date(),
                    agency="Sở Khoa học và Công nghệ",
                    duration_s=1.0,
                    loudness_lufs=-16.0,
                    true_peak_dbtp=-1.5,
                    file=f"seg-{n}.mp3",
                    sidecar=f"seg-{n}.json",
                    size_bytes=len(audio),
                    checksum=hashlib.sha256(audio).hexdigest(),
                    created_at=now,
                    publish_at=publish_at,
                )
            )


def console_login(base: str) -> dict[str, str]:
    """The session cookie of the seeded operator, through the real login form."""
    import httpx

    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as client:
        page = client.get("/console/login")
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if not match:
            raise RuntimeError("no CSRF field on the login page")
        r = client.post(
            "/console/login", data={"username": USERNAME, "password": PASSWORD, "csrf": match.group(1)}
        )
        if r.status_code != 303:
            raise RuntimeError(f"console login failed: {r.status_code}")
        return {"hotline_console": client.cookies["hotline_console"]}


def clients(base: str) -> list[Client]:
    return [
        Client("anonymous"),
        Client("console_session", cookies=console_login(base)),
        Client("api_token", headers={"Authorization": f"Bearer {TOKEN}"}),
    ]


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        negative_data_rejection,
    ]


def _one_operation(
    base: str, client: Client, label: str, report: Report, checks: list[Any], deadline: float
) -> Any:
    """The test body Hypothesis drives for one operation: send the case, check the response, count."""
    from schemathesis.core.failures import Failure, FailureGroup

    def record(failure: Failure, case: Any) -> None:
        report.failures[failure.title] += 1
        report.examples.setdefault(f"{failure.title} | {label}", case.as_curl_command(base_url=base)[:600])

    def fuzz(case: Any) -> None:
        if time.monotonic() > deadline:
            report.timed_out = True
            return
        response = case.call(
            base_url=base,
            headers=dict(client.headers),
            cookies=dict(client.cookies),
            timeout=REQUEST_TIMEOUT_S,
        )
        report.requests += 1
        report.statuses[f"{client.name} {response.status_code}"] += 1
        try:
            case.validate_response(response, checks=checks, headers=dict(client.headers))
        except FailureGroup as group:
            for failure in group.exceptions:
                record(failure, case)
        except Failure as failure:
            record(failure, case)

    return fuzz


def campaign(
    base: str, who: list[Client], max_examples: int, time_cap_s: float, *, derandomize: bool = False
) -> Report:
    """Every operation of the app's OpenAPI document, positive and negative data, as each client."""
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    checks = _checks()
    report = Report()
    deadline = time.monotonic() + time_cap_s
    config = hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=derandomize,  # the test suite's short run: the same requests every time
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )

    for client in who:
        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"
            report.operations.add(label)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz = _one_operation(base, client, label, report, checks, deadline)
                test = hypothesis.given(case=operation.as_strategy(generation_mode=mode))(config(fuzz))
                try:
                    test()
                except hypothesis.errors.Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                    report.no_negative_cases.add(label)
    return report


def run(max_examples: int = MAX_EXAMPLES, time_cap_s: float = TIME_CAP_S) -> dict:
    from web.app import create_app

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        app = create_app(make_settings(Path(tmp)))
        with serve(app) as base:
            seed(app)
            report = campaign(base, clients(base), max_examples, time_cap_s)
    result = report.as_dict()
    result.update(
        clients=["anonymous", "console_session", "api_token"],
        max_examples_per_operation_and_mode=max_examples,
        time_cap_s=time_cap_s,
        seconds=round(time.monotonic() - started, 1),
    )
    return result


if __name__ == "__main__":
    import sys

    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(json.dumps(run(examples, 120.0), ensure_ascii=False, indent=2))
