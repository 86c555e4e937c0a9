"""The call flow's vocabulary: states, outcomes, turn kinds, timers and continuations.

Kept apart from the flow itself so that the store, the console and migrations can import it without
the state machine. Values are stored in the database (`calls.outcome`, `call_turns.kind`) and travel
as timer names between the flow and the ARI adapter: never change a value, only add members.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a call stands (`ivr.flow.CallFlow.state`)."""

    INTRO = "intro"  # recording notice, greeting, "speak or press a key"
    MAIN = "main"  # listening for speech or keys
    MENU = "menu"  # keypad menu (after failed attempts or when speech recognition is down)
    CLARIFY = "clarify"  # "did you mean A or B?"
    COLLECT = "collect"  # keying (or saying) a code: dossier, ticket, commune
    RECORDING = "recording"  # complaint / message being recorded
    WAITING = "waiting"  # lookup, ticket creation or transfer in progress
    BRIDGED = "bridged"  # talking to an operator
    RATING = "rating"  # 1-5 satisfaction
    ENDING = "ending"  # goodbye playing, hang-up follows
    ENDED = "ended"
    EMERGENCY = "emergency"  # a current emergency notice plays after the greeting (# skips it)


class AdminState(StrEnum):
    """Where a prompt re-recording call stands (`ivr.prompt_admin.PromptAdminFlow.state`)."""

    PIN = "pin"  # keying the PIN (the call starts here)
    CHECKING = "checking"  # the PIN is being checked (and counted, ivr.attempts)
    CHOOSE = "choose"  # keying a prompt number
    MENU = "menu"  # heard the prompt: 1 records, 2 chooses another
    PRE_RECORD = "pre_record"  # instructions and beep playing; recording starts when they end
    RECORDING = "recording"
    SAVING = "saving"  # the take is being written as a draft
    REVIEW = "review"  # draft played back: 1 keeps, 2 records again, 3 discards
    KEEPING = "keeping"  # the draft is being installed as the prompt
    ENDING = "ending"  # a refusal plays (PIN locked, not a seat...), then the call hangs up
    ENDED = "ended"


class PinVerdict(StrEnum):
    """What checking the prompt re-recording PIN found (`ivr.prompt_pin.PromptPin.check`)."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong PINs from this seat or from all seats: not even compared
    UNAVAILABLE = "unavailable"  # no PIN is set up (an external Asterisk without our secrets)


class Outcome(StrEnum):
    """How a call ended (`calls.outcome`); the console has a Vietnamese label for each.

    One call, one outcome: the best service the caller got, else how the call ended
    (`ivr.flow.outcome.OutcomeTracker` decides, in one place). Old rows keep the values of earlier
    versions (marked "old rows" below): they are labelled, never written any more.
    """

    IN_PROGRESS = "in_progress"  # written when the call starts
    ANSWERED_SPEECH = "answered_speech"  # an intent's answer was spoken to the end, asked by speech
    ANSWERED_KEYPAD = "answered_keypad"  # ... asked with the keypad
    TRANSFERRED = "transferred"  # an operator (or a commune's team) answered
    TRANSFER_MISSED = "transfer_missed"  # nobody answered and no message was left (a call-back ticket)
    MESSAGE_LEFT = "message_left"  # nobody answered (or no operators): a message was recorded
    TICKET = "ticket"  # a complaint was recorded and stored
    TICKET_STATUS = "ticket_status"  # a ticket's status was read
    DOSSIER = "dossier"  # a dossier's status was read
    RADIO = "radio"  # a commune radio segment was played
    NOT_UNDERSTOOD = "not_understood"  # let go after the failed-attempt ladder: not understood, bad keys
    NO_INPUT = "no_input"  # let go after the failed-attempt ladder: silence
    GOODBYE = "goodbye"  # the caller said goodbye before anything was answered
    HUNG_UP_BEFORE_ANSWER = "hung_up_before_answer"  # the caller hung up before any answer
    HUNG_UP_DURING_ANSWER = "hung_up_during_answer"  # the caller hung up while the answer was being said
    TOO_LONG = "too_long"  # the call reached the maximum duration
    FAILED = "failed"  # an error: the call could not be set up
    INTERRUPTED = "interrupted"  # left open by a crash, closed at the next start-up
    PROMPT_ADMIN = "prompt_admin"  # a prompt re-recording call (operators)
    ANSWERED = "answered"  # old rows: an answer was spoken (speech or keypad)
    ABANDONED = "abandoned"  # old rows: the caller hung up (served or not)
    CALLBACK = "callback"  # old rows: nobody answered, no message was left


class TurnKind(StrEnum):
    """What a logged turn was (`call_turns.kind`)."""

    SPEECH = "speech"
    DTMF = "dtmf"
    TIMEOUT = "timeout"
    ACTION = "action"
    SYSTEM = "system"


class Timer(StrEnum):
    """Named timers (`SetTimer` / `TimerFired`); one of each name is armed at a time."""

    MAX_CALL = "max_call"  # the call's maximum duration
    NO_INPUT = "no_input"  # silence after a prompt
    DIGIT = "digit"  # pause that ends a code entry
    MENU_DIGIT = "menu_digit"  # pause after a submenu key
    RECORDING = "recording"  # guard: the recorder should have reported by now
    RECORDING_STUCK = "recording_stuck"  # guard: the recorder never reported after being stopped
    LOOKUP = "lookup"  # a lookup or ticket creation is slow: say "please wait"
    TRANSFER = "transfer"  # guard: the transfer should have answered or failed by now
    IDLE = "idle"  # prompt re-recording: no key for too long
    THINKING = "thinking"  # no transcript yet after the caller stopped speaking: say "please wait"


class Continuation(StrEnum):
    """What runs when a sequence of prompts has finished playing."""

    LISTEN = "listen"  # wait for speech or keys
    MENU_WAIT = "menu_wait"  # wait for a menu key
    COLLECT_WAIT = "collect_wait"  # wait for the first key of a code
    RECORD = "record"  # the beep ended: start recording
    TRANSFER = "transfer"  # "please hold" ended: ring the operators
    HANGUP = "hangup"  # the goodbye ended: hang up
    RATING_WAIT = "rating_wait"  # wait for a 1-5 rating
    CLOSING = "closing"  # an action's result was said: offer more help
    SERVED = "served"  # a service's result was said to the end: count it, the rating once, more help
    EMERGENCY_DONE = "emergency_done"  # the emergency notice ended (or was skipped): the main question


class TurnAction(StrEnum):
    """What a logged turn did (`call_turns.action`), besides three families with values of their own:
    the catalog's intent actions (`intents.models.ACTIONS`), code entry (the code's purpose, `dossier`,
    `ticket`, `radio` or `team`, then `<purpose>_found` / `<purpose>_not_found`) and failures
    (`fail:<Failure>`)."""

    CLARIFY = "clarify"  # two intents too close: "did you mean A or B?"
    REPLAY = "replay"  # `*`: say it again
    TRANSFER = "transfer"  # `0`: an operator
    INVALID = "invalid"  # a key with no meaning here
    RATING = "rating"  # a 1-5 satisfaction key (or said)
    RATING_ASKED = "rating_asked"  # the rating question was played (once a call): rated / asked
    SUBMENU = "submenu"  # a key that opened a keypad submenu (the key pressed at each menu level)
    BARGE_IN = "barge_in"  # the caller spoke over a prompt
    TRANSFERRED = "transferred"  # an operator answered
    TRANSFER_NO_ANSWER = "transfer_no_answer"  # nobody answered
    RECORDING_EMPTY = "recording_empty"  # a complaint recording with nothing in it
    TICKET_CREATED = "ticket_created"
    TICKET_FAILED = "ticket_failed"
    CALLBACK_WITHHELD = "callback_withheld"  # no answer, no message, and a withheld number: no call-back
    TEAM_MISSING = "team_missing"  # the caller's commune has no digital technology team on the hotline
    EMERGENCY_PLAYED = "emergency_played"  # a current emergency notice was played after the greeting
    EMERGENCY_SKIPPED = "emergency_skipped"  # the caller skipped it with the key


class Failure(StrEnum):
    """Why an attempt or a stage failed: the `<reason>` of a `fail:<reason>` turn action."""

    NO_INPUT = "no_input"  # silence after a prompt
    NOT_UNDERSTOOD = "not_understood"  # no intent matched
    INVALID_KEY = "invalid_key"
    ASR = "asr"  # speech recognition failed
    TTS = "tts"  # speech synthesis failed
    POOL = "pool"  # recognition workers saturated
    MEDIA = "media"  # the call's audio path failed


def failed(reason: str) -> str:
    """The turn action of a failure: `fail:not_understood`."""
    return f"fail:{reason}"
