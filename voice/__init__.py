"""Speech engines (ASR, TTS), audio helpers and Vietnamese text normalization."""
