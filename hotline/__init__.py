"""Core of the Nghe An public-service hotline: settings, CLI, database and web app."""

__version__ = "0.1.0"
