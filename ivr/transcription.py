"""Complaint transcription as a job (README "Jobs"): the recording is on disk with its ticket; the job
(argument: the ticket's id) reads it, recognizes it and stores the transcript on the ticket.

Idempotent: a ticket that has a transcript already is left as it is, so a job run twice (a retry, a
worker killed after storing) transcribes once. A failure raises, and the runner tries again as the task
says; the ticket and its recording stay whatever happens (operators listen to it, as when transcription
was unavailable).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from core.jobs import InProcessRunner, Task
from ivr.store import TRANSCRIBE_TASK, CallStore
from voice.asr.base import AsrResult
from voice.audio import AudioChunk, read_audio

logger = logging.getLogger(__name__)

TRANSCRIBE_RETRIES = 2  # a recognizer that was busy or restarting: tried twice more (30 s, then 60 s)
TRANSCRIBE_TIMEOUT_S = 600.0  # one recording; a complaint is at most a few minutes

# Blocking whole-clip recognition, from a job's thread.
Transcribe = Callable[[AudioChunk], AsrResult]


class AsyncTranscriber(Protocol):
    """Whole-clip recognition (`voice.asr.Recognizer.transcribe`)."""

    def transcribe(self, chunk: AudioChunk) -> Coroutine[Any, Any, AsrResult]: ...


def transcribe_ticket(store: CallStore, transcribe: Transcribe, ticket_id: int) -> bool:
    """Blocking: the ticket's recording to its transcript; False when there is nothing (left) to do."""
    ticket = store.ticket_by_id(ticket_id)
    if ticket is None or not ticket.audio_path:  # purged, or a call-back ticket
        return False
    if ticket.transcript:
        logger.info("ticket %s: transcribed already", ticket.number)
        return False
    chunk = read_audio(ticket.audio_path)
    result = transcribe(chunk)
    store.set_ticket_transcript(ticket.number, result.text or "")
    logger.info("ticket %s: transcribed (%.1f s of audio)", ticket.number, chunk.duration_s)
    return True


def on_loop(transcriber: AsyncTranscriber, loop: asyncio.AbstractEventLoop) -> Transcribe:
    """Recognition by the call application's recognizer, on its loop (its admission control and pool
    shared with the calls), waited for from a job's thread."""

    def transcribe(chunk: AudioChunk) -> AsrResult:
        future = asyncio.run_coroutine_threadsafe(transcriber.transcribe(chunk), loop)
        return future.result(TRANSCRIBE_TIMEOUT_S)

    return transcribe


def in_own_loop(transcriber: Callable[[], AsyncTranscriber]) -> Transcribe:
    """Recognition on a job worker, which has no call loop: the recognizer's call in a loop of its own."""

    def transcribe(chunk: AudioChunk) -> AsrResult:
        return asyncio.run(_call(transcriber().transcribe(chunk)))

    return transcribe


async def _call(coro: Coroutine[Any, Any, AsrResult]) -> AsrResult:
    return await coro


def transcription_tasks(store: Callable[[], CallStore], transcribe: Transcribe) -> list[Task]:
    def run(ticket_id: int) -> bool:
        return transcribe_ticket(store(), transcribe, ticket_id)

    return [Task(TRANSCRIBE_TASK, run, retries=TRANSCRIBE_RETRIES)]


def call_runner(
    store: CallStore, transcriber: AsyncTranscriber, loop: asyncio.AbstractEventLoop
) -> InProcessRunner:
    """The call application's runner in the embedded mode (SQLite): transcription jobs stored with their
    tickets and run in a thread here with the calls' recognizer, as before jobs had an engine."""
    return InProcessRunner(
        transcription_tasks(lambda: store, on_loop(transcriber, loop)), sessions=store.factory
    )
