"""Call log, tickets, dossiers and guesses by phone (tables of the `ivr` migration branch)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from ivr.enums import Outcome

TICKET_STATUSES = ("new", "in_progress", "answered", "closed")
# Why a ticket exists: a complaint; a message left when nobody answered; no message either, so staff call
# the number back (no audio); a recording recovered after a crash. Stored values: add, never rename.
TICKET_REASONS = ("feedback", "message", "callback", "recovered")


class Call(Base):
    """One phone call. The full number is kept for operators; logs and transcripts only show it masked."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    # The SIP Call-ID of the caller's leg (ARI channel variable SIP_CALL_ID): joins the caller's own records.
    sip_call_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    # National form (core.callerid), "" when withheld; the full number is for operators only.
    caller: Mapped[str] = mapped_column(String(64), default="")
    caller_masked: Mapped[str] = mapped_column(String(64), default="")
    caller_hash: Mapped[str] = mapped_column(String(64), default="", index=True)  # sha256: repeat callers
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(32), default=Outcome.IN_PROGRESS)  # ivr.enums.Outcome
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1..5
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)  # fell back to the keypad
    # The call worker holding the call (ivr.workers.worker_id); None: the one application (`hotline run`).
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    turns: Mapped[list[Turn]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="Turn.seq"
    )


class Turn(Base):
    """One exchange of a call: what was heard or keyed, what was decided, how long it took."""

    __tablename__ = "call_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16))  # an ivr.enums.TurnKind
    transcript: Mapped[str] = mapped_column(Text, default="")  # masked
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    dtmf: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str | None] = mapped_column(String(64), nullable=True)
    asr_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # end of speech -> transcript
    response_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # end of speech/key -> answer

    call: Mapped[Call] = relationship(back_populates="turns")


class PromptPlay(Base):
    """One prompt or sentence played in a call and how much of it was a human voice (coverage figures).

    `prompt` says what it was, never its content: a fixed prompt's key, "answer:<intent id>",
    "template:<name>" (a sentence filled during the call) or "text".
    """

    __tablename__ = "prompt_plays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    prompt: Mapped[str] = mapped_column(String(80))
    audio_ms: Mapped[int] = mapped_column(Integer)  # length of what was played
    human_ms: Mapped[int] = mapped_column(Integer)  # of which a recorded human voice


class Ticket(Base):
    """A recorded complaint or message, or a call-back request, followed up by operators."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, index=True)  # read to the caller
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), nullable=True)
    caller: Mapped[str] = mapped_column(String(64), default="")  # as Call.caller (also "" once purged)
    caller_masked: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(16), default="feedback")  # TICKET_REASONS
    # Code of the commune whose digital technology team the caller tried to reach (a message or call-back
    # for that team); None: for the hotline's own operators.
    commune: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    audio_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    transcript: Mapped[str] = mapped_column(Text, default="")  # masked
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The workflow (ivr.ticket_rules): ids of `ivr.tickets` categories and agencies ("": not chosen yet),
    # the operator account (username) who follows it up, the local day it is due, and when it was first
    # answered or closed (set once: reopening does not make a late ticket on time).
    category: Mapped[str] = mapped_column(String(32), default="", index=True)
    agency: Mapped[str] = mapped_column(String(32), default="", index=True)
    assignee: Mapped[str] = mapped_column(String(64), default="", index=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    replies: Mapped[list[TicketReply]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketReply.id"
    )

    @property
    def latest_reply(self) -> str:
        """What the caller hears by phone: the newest reply with a text ("" when none has one)."""
        return next((r.text for r in reversed(self.replies) if r.text), "")


class TicketReply(Base):
    """One step of a ticket's handling: who, when, the status it set and the text; the newest text is
    what the caller hears by phone (ivr.ticket_status)."""

    __tablename__ = "ticket_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(64), default="")  # operator username; "": the command line
    status: Mapped[str] = mapped_column(String(16))  # the ticket's status after this step
    text: Mapped[str] = mapped_column(Text, default="")  # "" for a status change alone

    ticket: Mapped[Ticket] = relationship(back_populates="replies")


class Dossier(Base):
    """An administrative dossier the caller can ask about (local stand-in for the provincial system)."""

    __tablename__ = "dossiers"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(200))  # spoken as is: "đã có kết quả, mời nhận tại..."
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class PhoneAttempt(Base):
    """One guess by phone (a ticket number, the prompt PIN), kept for the time window it counts in.

    Rows outlive the call, so limits hold across calls; `who` is a hash, never the number itself.
    """

    __tablename__ = "phone_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # an ivr.attempts.AttemptKind
    who: Mapped[str] = mapped_column(String(64))  # sha256 of the caller number or seat; "" when withheld
    at: Mapped[datetime] = mapped_column(DateTime)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)  # reserved: a failure until it succeeds

    __table_args__ = (Index("ix_phone_attempts_kind_who_at", "kind", "who", "at"),)


class ReviewItem(Base):
    """An utterance the hotline did not understand well enough, waiting for an operator (ivr.review_store).

    `transcript` is masked; `audio_path` and `transcript` are personal data, cleared by retention.
    """

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), nullable=True, index=True
    )
    turn_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # call_turns.seq of the utterance
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    reason: Mapped[str] = mapped_column(String(16))  # an ivr.review_rules.ReviewReason
    transcript: Mapped[str] = mapped_column(Text, default="")  # masked
    audio_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    audio_ms: Mapped[int] = mapped_column(Integer, default=0)
    guesses: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[intent id, score], ...], best first
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # a ReviewStatus
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the intent it was taught to
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # operator's username
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
