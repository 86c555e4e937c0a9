"""Speech recognition: engines behind a small protocol and the `Recognizer` wrapper that runs them.

    recognizer = Recognizer.from_settings(settings)        # engine from voice.asr.engine
    stream = recognizer.open_stream(8000)                   # a call: 8 kHz, resampled at the edge
    partial = await stream.accept(ulaw_chunk(rtp_payload))  # AsrResult | None (None: text unchanged)
    final = await stream.finish()                           # AsrResult(text, is_final, confidence, words)

`AsrUnavailable` (pool saturated: `retryable` True; engine or model failure: False) tells the IVR to
fall back to the keypad.
"""

from voice.asr.base import AsrEngine, AsrError, AsrModelError, AsrResult, AsrStream, AsrUnavailable, Word
from voice.asr.recognizer import Recognizer, RecognizerStream
from voice.asr.telephone import slin_chunk, ulaw_chunk

__all__ = [
    "AsrEngine",
    "AsrError",
    "AsrModelError",
    "AsrResult",
    "AsrStream",
    "AsrUnavailable",
    "Recognizer",
    "RecognizerStream",
    "Word",
    "slin_chunk",
    "ulaw_chunk",
]
