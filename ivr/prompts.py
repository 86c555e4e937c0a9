"""Fixed prompts: key -> Vietnamese text (config/prompts.yaml), rendered once to 8 kHz audio.

A human recording `audio_assets/prompts/<key>.wav` wins over synthesis. Everything fixed is
rendered at start-up into `<cache_dir>/ivr/prompts/<key>.wav` (8 kHz, 16-bit; Asterisk plays it
as `sound:<path without .wav>`), so a call never waits for TTS for a fixed prompt and still has
audio when the synthesizer fails. Dynamic sentences (answers, ticket numbers) are synthesized on
demand and kept in a small in-memory cache on top of the synthesizer's render cache; as they may
carry personal data (a ticket number, a reply), their files are removed once unused for
`privacy.render_cache_days` (the retention purge).

With recordings in the word bank (`ivr.word_bank`, config/word_bank.yaml), a dynamic sentence is spoken
from recorded words and phrases (`voice.compose`): the longest recorded pieces cover it, and only the
words nobody recorded are synthesized. `human_share` tells how much of a played sentence was a human
voice (the call log keeps it per play; the dashboard shows last week's share).

The intent catalog's answers, follow-up questions and keypad menu lines are units of the composer too
(`use_catalog`, keys from `ivr.topic_units`): an answer recorded in the studio is played whole from its
recording, a menu from its recorded lines. A topic's recording is used only while it was read from the
text in force (`ivr.take_notes`); after a text edit the new text is synthesized until it is recorded again.
The same holds for the topics' titles and for the fixed words of the templates (`ivr.template_units`), so a
sentence filled at call time (the clarifying question naming two topics, a ticket's status) can be spoken
wholly from recordings.

The running hotline notices an edited prompts file (the console writes it, an operator may edit it by
hand): each play compares the file's size, mtime and inode with those last read and reloads the texts
when they differ; a key whose text changed is then rendered again (its source stamp holds the text's
digest). The templates are read by the call flow at start-up only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from core.errors import AudioError, ConfigError
from core.filestamp import file_stamp
from core.yamlfile import load_yaml, validate_doc
from ivr.flow import PROMPT_KEYS, Texts
from ivr.take_notes import TakeNotes
from ivr.template_units import template_units
from ivr.topic_units import topic_labels, topic_units
from ivr.word_bank import WordBank, bank_commune_units, bank_letter_units, composer_units, load_word_bank
from voice.audio import TELEPHONE_RATE, AudioChunk, read_audio, resample, to_mono, write_wav
from voice.audio_stream import AudioFileStream
from voice.compose import Composer, Pauses
from voice.tts.cache import mark_used, voice_signature
from voice.tts.pieces import abbreviations_for, prepare

if TYPE_CHECKING:
    from intents.catalog import Catalog
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

TONE_KEYS = {"beep"}  # generated tones unless a recording exists
RATE_16K_SUFFIX = ".wav16"  # Asterisk's extension for 16 kHz signed linear WAV


class _PromptFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prompts: dict[str, str]
    templates: dict[str, str] = {}


@dataclass(frozen=True)
class PromptTexts:
    """The validated prompt file."""

    prompts: dict[str, str]
    templates: Texts = field(default_factory=Texts)


def load_prompt_texts(path: Path) -> PromptTexts:
    """Read config/prompts.yaml; every problem names file, line and key."""
    doc = load_yaml(path)
    parsed = validate_doc(_PromptFile, doc, heading="invalid prompts file", data=doc.data or {})
    problems = []
    for key in PROMPT_KEYS:
        if key not in parsed.prompts:
            problems.append(f"{doc.where(('prompts',))}: prompts.{key}: required prompt is missing")
        elif not parsed.prompts[key].strip() and key not in TONE_KEYS:
            problems.append(f"{doc.where(('prompts', key))}: prompts.{key}: empty text")
    known = set(Texts.__dataclass_fields__)
    for key, template in parsed.templates.items():
        if key not in known:
            problems.append(
                f"{doc.where(('templates', key))}: templates.{key}: unknown template "
                f"(known: {', '.join(sorted(known))})"
            )
            continue
        try:
            template.format(
                a="a", b="b", digit="1", title="t", digits="1", status="s", updated="u", note="n", commune="c"
            )
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"{doc.where(('templates', key))}: templates.{key}: bad placeholder {exc}")
    if problems:
        raise ConfigError("invalid prompts file:\n  " + "\n  ".join(problems))
    prompts = {k: v.strip() for k, v in parsed.prompts.items()}
    return PromptTexts(prompts, Texts.from_mapping(parsed.templates))


def beep(rate: int = TELEPHONE_RATE, seconds: float = 0.35, freq: float = 1000.0) -> AudioChunk:
    """A short sine tone with soft edges (no click)."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    env = np.minimum(1.0, np.minimum(t, seconds - t) / 0.01)
    return AudioChunk.from_array(0.3 * np.sin(2 * np.pi * freq * t) * env, rate)


TEXTS_DIR = "texts"  # under the render dir: dynamic sentences (answers, ticket numbers, replies read out)


def prompt_render_dir(settings: IvrConfig) -> Path:
    """Where prompts are rendered for calls; `<it>/texts` holds the dynamic sentences."""
    return settings.cache_dir / "ivr" / "prompts"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:20]


class Prompts:
    """Prompt audio for calls: fixed prompts rendered once, dynamic texts synthesized and cached."""

    def __init__(
        self,
        settings: IvrConfig,
        synth: Any | None,
        texts: PromptTexts | None = None,
        *,
        memory_items: int = 256,
        commune_names: Iterable[str] = (),
    ) -> None:
        self.settings = settings
        self.synth = synth
        self.texts_file = settings.path(settings.ivr.prompts_file)
        self._texts_sig = file_stamp(self.texts_file)  # the file as it was when the texts were read
        self.texts = texts or load_prompt_texts(self.texts_file)
        self.recordings_dir = settings.path(settings.ivr.prompts_dir)
        self.render_dir = prompt_render_dir(settings)
        self._fixed: dict[str, AudioChunk] = {}
        self._stamps: dict[str, str] = {}  # source of each rendered fixed prompt
        self._dynamic: OrderedDict[str, AudioChunk] = OrderedDict()
        self._memory_items = memory_items
        self._locks: dict[str, asyncio.Lock] = {}
        self._voice = voice_signature(settings)  # the settings are frozen: computed once
        self.bank = self._load_bank()
        # Commune names are units too; the service that assembles the product knows them.
        # So are the letter names a code is spelled with.
        self._bank_extra = (
            (*bank_commune_units(self.bank, commune_names), *bank_letter_units(self.bank, settings))
            if self.bank
            else ()
        )
        self._composer: Composer | None = None
        self._composer_texts: dict[str, str] | None = None  # the prompt texts it was built from
        self._bank_state: tuple[object, bool] | None = None  # (recordings dir stamp, anything recorded)
        self._shares: OrderedDict[str, float] = OrderedDict()  # text -> human share of its audio
        self._labels: dict[str, str] = {}  # known dynamic texts -> what they are (coverage figures)
        self._patterns: tuple[Texts, list[tuple[str, re.Pattern[str]]]] | None = None
        self._catalog: object | None = None  # the catalog the topic units were read from
        self._topics: dict[str, str] = {}  # topic unit key -> text (answers, follow-ups, menu lines)
        self._topic_labels: dict[str, str] = {}  # their texts -> coverage labels
        self._composer_topics: dict[str, str] | None = None
        self._fragments: dict[str, str] = {}  # template fragment key -> words (set with the composer)
        self._notes = TakeNotes(self.recordings_dir)

    # --- the word bank ------------------------------------------------------------------------

    def _load_bank(self) -> WordBank | None:
        cfg = self.settings.ivr.word_bank
        if cfg.use == "off":
            return None
        try:
            return load_word_bank(self.settings.path(cfg.file), self.texts.prompts)
        except (ConfigError, OSError) as exc:  # the message names file, line and key; calls go on synthesized
            logger.error("word bank unavailable, dynamic sentences are synthesized: %s", exc)
            return None

    def use_catalog(self, catalog: Catalog | None, menus: dict[str, str] | None = None) -> None:
        """Speak this catalog's answers, follow-ups and menu lines from their recordings when there are
        some; `menus` (keypad prefix -> spoken menu) names the menus in the coverage figures. One identity
        check when the catalog is the one in use (every call's flow is built with it)."""
        if catalog is self._catalog:
            return
        units = topic_units(catalog)
        self._catalog = catalog
        self._topics = {u.key: u.text for u in units}
        self._topic_labels = topic_labels(units)
        self._topic_labels.update(
            {text: f"menu:{prefix or 'main'}" for prefix, text in (menus or {}).items()}
        )

    def _recording_current(self, key: str, text: str) -> bool:
        """A topic's or a template fragment's recording is played only when read from its present text;
        other units always."""
        strict = key in self._topics or key in self._fragments
        return not strict or self._notes.current(key, text)

    def composer(self) -> Composer | None:
        """The composer over the bank, the recorded prompts and the catalog's sentences (rebuilt when the
        prompt texts or the catalog change)."""
        cfg = self.settings.ivr.word_bank
        if cfg.use == "off":
            return None
        if self._notes.recordings_dir != self.recordings_dir:
            self._notes = TakeNotes(self.recordings_dir)
        if (
            self._composer is None
            or self._composer_texts is not self.texts.prompts
            or self._composer_topics is not self._topics
            or self._composer.recordings_dir != self.recordings_dir
        ):
            self._composer_texts = self.texts.prompts
            self._composer_topics = self._topics
            # A broken bank file leaves the recorded prompts and the catalog's sentences.
            bank = self.bank or WordBank({}, ())
            units = composer_units(bank, self.texts.prompts, self._bank_extra)
            self._fragments = {u.key: u.text for u in template_units(self.texts.templates, units.values())}
            self._composer = Composer(
                {**self._topics, **self._fragments, **units},
                self.recordings_dir,
                normalize=self._normalize,
                synthesize=self._synthesize,
                rate=TELEPHONE_RATE,
                pauses=Pauses(
                    cfg.word_pause_ms / 1000, cfg.clause_pause_ms / 1000, cfg.sentence_pause_ms / 1000
                ),
                target_lufs=cfg.target_lufs,
                min_share=cfg.min_share,
                current=self._recording_current,
            )
        return self._composer

    def _normalize(self, text: str) -> str:
        """The words the synthesizer would say for `text` (blocking: the table may be read from disk)."""
        return prepare(
            text, max_chars=self.settings.voice.tts.max_chars, abbreviations=abbreviations_for(self.settings)
        )

    def _bank_generation(self) -> tuple[object, bool]:
        """(stamp of the recordings directory, whether the composer should run): one stat() when unchanged."""
        stamp = file_stamp(self.recordings_dir) if self.recordings_dir.is_dir() else None
        if self._bank_state is None or self._bank_state[0] != stamp:
            composer = self.composer()
            use = self.settings.ivr.word_bank.use
            # Any recording turns composing on (on the event loop: a listing, no staleness check here).
            on = composer is not None and (use == "on" or bool(composer.recorded(check=False)))
            self._bank_state = (stamp, on)
        return self._bank_state

    def name_texts(self, labels: dict[str, str]) -> None:
        """Name known dynamic texts for the coverage figures (an answer text -> "answer:<intent id>")."""
        self._labels.update(labels)

    def label_of(self, text: str) -> str:
        """What a played dynamic text is, without its personal content: an intent's answer, the template
        it was filled from ("template:ticket_number"), or "text"."""
        label = self._topic_labels.get(text) or self._labels.get(text)
        if label is not None:
            return label
        for name, pattern in self._template_patterns():
            if pattern.fullmatch(text):
                return f"template:{name}"
        return "text"

    def _template_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        if self._patterns is None or self._patterns[0] is not self.texts.templates:
            found = []
            for name in self.texts.templates.__dataclass_fields__:
                template = getattr(self.texts.templates, name)
                if isinstance(template, str) and template:
                    parts = re.split(r"\{\w+\}", template)
                    found.append((name, re.compile(".+?".join(re.escape(p) for p in parts), re.S)))
            self._patterns = (self.texts.templates, found)
        return self._patterns[1]

    def human_share(self, *, key: str | None = None, text: str | None = None) -> float:
        """Share (0..1) of a played prompt's speech that is a human voice."""
        if key is not None:
            return 1.0 if (self.recordings_dir / f"{key}.wav").is_file() else 0.0
        return self._shares.get(text or "", 0.0)

    # --- paths Asterisk can play ----------------------------------------------------------------

    def path(self, key: str) -> Path:
        return self.render_dir / f"{key}.wav"

    def sound_uri(self, key: str) -> str:
        """`sound:` URI for ARI playback: absolute path without extension (Asterisk picks .wav)."""
        return "sound:" + str(self.path(key).with_suffix(""))

    def text_path(self, text: str) -> Path:
        return self.render_dir / TEXTS_DIR / f"{_digest(self._voice_id(), text)}.wav"

    # --- rendering ------------------------------------------------------------------------------

    def _voice_id(self) -> str:
        return self._voice

    def _source_stamp(self, key: str) -> str:
        human = self.recordings_dir / f"{key}.wav"
        stamp = file_stamp(human) if human.is_file() else None
        if stamp is not None:
            return f"file:{stamp.size}:{stamp.mtime_ns}"  # the format kept in rendered .src files
        if key in TONE_KEYS:
            return "tone:1"
        return "tts:" + _digest(self._voice_id(), self.texts.prompts.get(key, ""))

    def rendered_is_current(self, key: str) -> bool:
        """Whether the rendered file of `key` was made from its present source (recording, tone or text)."""
        target = self.path(key)
        stamp_file = target.with_suffix(".src")
        try:
            return target.is_file() and stamp_file.read_text() == self._source_stamp(key)
        except OSError:
            return False

    async def _synthesize(self, text: str) -> AudioChunk:
        if self.synth is None:
            raise RuntimeError("no synthesizer configured")
        chunk = await self.synth.synthesize(text, sample_rate=TELEPHONE_RATE)
        return resample(to_mono(chunk), TELEPHONE_RATE)

    async def _render_fixed(self, key: str) -> AudioChunk:
        target = self.path(key)
        stamp_file = target.with_suffix(".src")
        stamp = self._source_stamp(key)
        if target.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
            return await asyncio.to_thread(read_audio, target)
        human = self.recordings_dir / f"{key}.wav"
        if human.is_file():
            chunk = resample(to_mono(await asyncio.to_thread(read_audio, human)), TELEPHONE_RATE)
        elif key in TONE_KEYS:
            chunk = beep()
        else:
            chunk = await self._synthesize(self.texts.prompts[key])
        await asyncio.to_thread(write_wav, target, chunk)
        await asyncio.to_thread(write_wav, target.with_suffix(RATE_16K_SUFFIX), resample(chunk, 16000))
        stamp_file.write_text(stamp)
        return chunk

    async def prepare(self, extra_texts: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
        """Render every fixed prompt (and e.g. the keypad menus) now; returns key -> 'ok' or the error."""
        report: dict[str, str] = {}
        for key in self.texts.prompts:
            try:
                self._stamps[key] = self._source_stamp(key)
                self._fixed[key] = await self._render_fixed(key)
                report[key] = "ok"
            except Exception as exc:  # one broken prompt must not stop the service
                logger.error("prompt %s could not be rendered: %s", key, exc)
                report[key] = f"error: {exc}"
        composer = self.composer()
        if composer is not None:
            try:
                loaded = await asyncio.to_thread(composer.warm)
                logger.info("word bank ready: %d recorded units", loaded)
            except Exception as exc:  # dynamic sentences are synthesized instead
                logger.error("word bank could not be loaded: %s", exc)
        for text in extra_texts:
            try:
                await self.text_audio(text)
            except Exception as exc:
                logger.error("text prompt could not be rendered: %s", exc)
                report[f"text:{text[:30]}"] = f"error: {exc}"
        return report

    async def prerender_texts(self, texts: list[str]) -> int:
        """Render texts known in advance (intent answers) into the file cache; returns how many failed."""
        failed = 0
        for text in texts:
            if not text or self.text_path(text).is_file():
                continue
            try:
                chunk = await self._synthesize(text)
                await asyncio.to_thread(write_wav, self.text_path(text), chunk)
            except Exception as exc:
                failed += 1
                logger.warning("could not pre-render an answer: %s", exc)
        return failed

    async def reload_texts(self) -> bool:
        """Read the prompts file again when it changed since last read; True when the texts were replaced.

        One stat() when nothing changed. A file that no longer validates is logged and the texts in use
        are kept (calls go on), until the file changes again.
        """
        sig = file_stamp(self.texts_file)
        if sig == self._texts_sig:
            return False
        self._texts_sig = sig
        try:
            texts = await asyncio.to_thread(load_prompt_texts, self.texts_file)
        except (ConfigError, OSError) as exc:
            logger.error("prompts file changed but is invalid, keeping the texts in use: %s", exc)
            return False
        changed = sorted(k for k, v in texts.prompts.items() if self.texts.prompts.get(k) != v)
        self.texts = texts
        if changed:
            logger.info("prompts file reloaded; new text for %s", ", ".join(changed))
        return True

    async def audio(self, key: str) -> AudioChunk:
        """Audio of a fixed prompt; a recording added or replaced meanwhile (console, phone) and a text
        edited in the prompts file are picked up."""
        await self.reload_texts()
        if key not in self.texts.prompts:
            raise KeyError(f"unknown prompt key {key!r}")
        stamp = self._source_stamp(key)  # one stat(): cheap enough for every play
        chunk = self._fixed.get(key)
        if chunk is None or self._stamps.get(key) != stamp:
            chunk = self._fixed[key] = await self._render_fixed(key)
            self._stamps[key] = stamp
        return chunk

    def forget(self, key: str) -> None:
        """Drop a fixed prompt from memory (its source changed: it is rendered again on next use)."""
        self._fixed.pop(key, None)
        self._stamps.pop(key, None)

    def cached_text(self, text: str) -> AudioChunk | None:
        generation, bank_on = self._bank_state or (None, False)
        return self._dynamic.get(f"{generation}\x00{text}" if bank_on else text)

    async def text_audio(self, text: str) -> AudioChunk:
        """Audio of a dynamic text: memory, then the word bank (when it has recordings), then the
        rendered file, then synthesis (in the TTS pool)."""
        generation, bank_on = self._bank_generation()
        memo = f"{generation}\x00{text}" if bank_on else text  # a new recording makes new audio
        hit = self._dynamic.get(memo)
        if hit is not None:
            self._dynamic.move_to_end(memo)
            return hit
        lock = self._locks.setdefault(memo, asyncio.Lock())
        async with lock:
            hit = self._dynamic.get(memo)
            if hit is not None:
                return hit
            chunk = await self._composed(text) if bank_on else None
            if chunk is None:
                self._share(text, 0.0)
                path = self.text_path(text)
                chunk = await asyncio.to_thread(self._read_text_render, path)
                if chunk is None:
                    chunk = await self._synthesize(text)
                    await asyncio.to_thread(write_wav, path, chunk)
            self._remember(memo, chunk)
        self._locks.pop(memo, None)
        return chunk

    async def _composed(self, text: str) -> AudioChunk | None:
        """The text from recorded words, the missing ones synthesized; None: nothing (enough) recorded."""
        composer = self.composer()
        if composer is None:
            return None
        try:
            made = await composer.compose(text)
        except Exception as exc:  # a bad recording or a failed piece: the whole sentence synthesized
            logger.warning("word bank could not compose a sentence, synthesizing it: %s", exc)
            return None
        if made is None:
            return None
        self._share(text, made.human_share)
        return made.audio

    def _share(self, text: str, share: float) -> None:
        self._shares[text] = share
        self._shares.move_to_end(text)
        while len(self._shares) > self._memory_items:
            self._shares.popitem(last=False)

    @staticmethod
    def _read_text_render(path: Path) -> AudioChunk | None:
        """A text rendered before, its use recorded (the retention purge removes unused ones); None
        when absent or removed by that purge meanwhile."""
        try:
            chunk = read_audio(path)
        except AudioError:
            return None
        mark_used(path)
        return chunk

    def _remember(self, text: str, chunk: AudioChunk) -> None:
        self._dynamic[text] = chunk
        while len(self._dynamic) > self._memory_items:
            self._dynamic.popitem(last=False)

    async def file_stream(self, path: str) -> AsyncIterator[AudioChunk]:
        """Any audio file (radio segments, prompt drafts) at 8 kHz, block by block as it plays.

        The next block is decoded (in a thread) while the current one plays, so a 20-minute segment
        costs a few blocks of memory per call instead of the whole decoded file.
        """
        stream = await asyncio.to_thread(AudioFileStream, path, TELEPHONE_RATE)
        ahead: asyncio.Future[AudioChunk | None] | None = None
        try:
            ahead = asyncio.ensure_future(asyncio.to_thread(stream.read))
            while (chunk := await ahead) is not None:
                ahead = asyncio.ensure_future(asyncio.to_thread(stream.read))
                yield chunk
        finally:
            # A read may still run in its thread: `close` stops the decoder and waits for it.
            await asyncio.shield(asyncio.to_thread(stream.close))
            if ahead is not None and not ahead.done():
                ahead.cancel()
