"""Proof of airing: communes' device tokens, audio downloads per commune, "aired" confirmations, and the
per-bulletin view of which targeted communes downloaded and aired a bulletin by its deadline."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from broadcast.communes import Commune
from broadcast.models import Airing, DeviceToken, Download, Segment
from core.db import transaction

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "tt_"  # tells a device token apart from the API token in logs and forms
MAX_TOKEN_CHARS = 128


def bulletin_key(seg: Segment) -> str:
    """The bulletin a segment was rendered from: a commune's own greeting version shares its bulletin."""
    return seg.key.split("--")[0]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CommuneAiring:
    """One targeted commune's row in the province's view of a bulletin."""

    commune: Commune
    downloads: int
    first_download: dt.datetime | None  # UTC
    aired_at: dt.datetime | None  # UTC
    confirmed_by: str  # "device", a console account, or ""

    def aired_by(self, deadline: dt.datetime | None) -> bool:
        return self.aired_at is not None and (deadline is None or self.aired_at <= deadline)


class AiringLog:
    """Device tokens, downloads and confirmations in the database (blocking calls: run off the event loop)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # --- device tokens ----------------------------------------------------------------------------

    def issue_token(self, commune_code: int, by: str) -> str:
        """A new token for the commune's devices, replacing any earlier one; shown once, stored hashed."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with transaction(self.sessions) as s:
            s.execute(delete(DeviceToken).where(DeviceToken.commune_code == commune_code))
            s.add(
                DeviceToken(
                    commune_code=commune_code, token_hash=_hash(token), created_at=_utcnow(), created_by=by
                )
            )
        return token

    def token_issued(self, commune_code: int) -> dt.datetime | None:
        """When the commune's current token was made (UTC), or None."""
        with self.sessions() as s:
            row = s.get(DeviceToken, commune_code)
            return row.created_at if row is not None else None

    def commune_of(self, token: str) -> int | None:
        """The commune whose devices hold `token`, or None for an unknown token."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_CHARS:
            return None
        with self.sessions() as s:
            return s.scalar(select(DeviceToken.commune_code).where(DeviceToken.token_hash == _hash(token)))

    # --- downloads and confirmations --------------------------------------------------------------

    def record_download(self, seg: Segment, commune_code: int | None) -> None:
        """One cheap insert; a failure is logged and never fails the download itself."""
        try:
            with transaction(self.sessions) as s:
                s.add(
                    Download(
                        segment_id=seg.id,
                        bulletin_key=bulletin_key(seg),
                        commune_code=commune_code,
                        at=_utcnow(),
                    )
                )
        except SQLAlchemyError as exc:
            logger.warning("download of segment %s not recorded: %s", seg.id, exc)

    def confirm_aired(
        self, seg: Segment, commune_code: int, by: str, aired_at: dt.datetime | None = None
    ) -> dt.datetime:
        """Record that the commune aired the segment's bulletin (at `aired_at`, UTC, default now);
        a later confirmation of the same bulletin by the same commune replaces the earlier one."""
        now = _utcnow()
        when = min(aired_at or now, now)  # a device's clock ahead of ours cannot air in the future
        key = bulletin_key(seg)
        with transaction(self.sessions) as s:
            s.execute(delete(Airing).where(Airing.bulletin_key == key, Airing.commune_code == commune_code))
            s.add(
                Airing(
                    bulletin_key=key,
                    segment_id=seg.id,
                    commune_code=commune_code,
                    aired_at=when,
                    confirmed_at=now,
                    confirmed_by=by[:64],
                )
            )
        return when

    def aired(self, key: str, commune_code: int) -> dt.datetime | None:
        with self.sessions() as s:
            return s.scalar(
                select(Airing.aired_at).where(Airing.bulletin_key == key, Airing.commune_code == commune_code)
            )

    def anonymous_downloads(self, key: str) -> int:
        with self.sessions() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(Download)
                    .where(Download.bulletin_key == key, Download.commune_code.is_(None))
                )
                or 0
            )

    def report(self, key: str, communes: list[Commune]) -> list[CommuneAiring]:
        """Per targeted commune: downloads by its devices, the first one, and its airing confirmation."""
        with self.sessions() as s:
            loads = {
                code: (n, first)
                for code, n, first in s.execute(
                    select(Download.commune_code, func.count(), func.min(Download.at))
                    .where(Download.bulletin_key == key, Download.commune_code.is_not(None))
                    .group_by(Download.commune_code)
                )
            }
            airings = {a.commune_code: a for a in s.scalars(select(Airing).where(Airing.bulletin_key == key))}
        out = []
        for c in communes:
            n, first = loads.get(c.code, (0, None))
            airing = airings.get(c.code)
            out.append(
                CommuneAiring(
                    commune=c,
                    downloads=n,
                    first_download=first,
                    aired_at=airing.aired_at if airing else None,
                    confirmed_by=airing.confirmed_by if airing else "",
                )
            )
        return out
