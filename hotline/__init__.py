"""The `hotline` command and service: settings assembled from every area, migrations, start-up."""

from core import __version__

__all__ = ["__version__"]
