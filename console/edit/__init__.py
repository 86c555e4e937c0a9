"""Operator-edited files (intents, prompt texts, prompt recordings): one edit path (path.EditPath:
validate -> write atomically -> keep history -> audit -> reload) with the history and restore of each file."""
