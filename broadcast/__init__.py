"""Commune radio segments: bulletins to broadcast-ready audio, published for download."""
