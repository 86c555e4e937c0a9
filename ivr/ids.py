"""Names our application gives to what it creates in Asterisk and on disk."""

PREFIX_MEDIA = "hl-media-"
PREFIX_BRIDGE = "hl-bridge-"
PREFIX_OPERATOR = "hl-op-"
OUR_PREFIXES = (PREFIX_MEDIA, PREFIX_OPERATOR)  # channels of ours that enter Stasis: never callers
SPOOL_DIR = ".incoming"  # under the recordings directory: recordings in progress (crash recovery)
