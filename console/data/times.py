"""Times as stored (naive UTC) and as operators read them: the configured zone (`locale.time_zone`).

The console passes its zone (`Console.tz`) to every function here and to the figures built on them: there
is no default zone, so a page cannot silently count days in another zone than the one it shows.
"""

from __future__ import annotations

from core.clock import local_day_bounds, today_local, utcnow

__all__ = ["local_day_bounds", "today_local", "utcnow"]
