"""Names our application gives to what it creates in Asterisk and on disk."""

from core.callerid import WITHHELD_LABEL

PREFIX_MEDIA = "hl-media-"
PREFIX_BRIDGE = "hl-bridge-"
PREFIX_OPERATOR = "hl-op-"
OUR_PREFIXES = (PREFIX_MEDIA, PREFIX_OPERATOR)  # channels of ours that enter Stasis: never callers
SPOOL_DIR = ".incoming"  # under the recordings directory: recordings in progress (crash recovery)
# Caller id ("name" <number>) of the operator legs of a withheld caller: the operator's phone shows the
# Vietnamese label rather than the default user Asterisk would present without a caller id.
WITHHELD_CALLER_ID = f'"{WITHHELD_LABEL}" <>'
