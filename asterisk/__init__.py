"""Asterisk for the hotline: a Debian unstable root (or the host's Asterisk), our config, start/stop, ARI.

Import what you need from its modules (`asterisk.process`, `asterisk.handle`, ...): loading the settings
(`asterisk.settings`) must not load the rest.
"""
