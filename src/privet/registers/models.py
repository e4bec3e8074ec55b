"""Tables of this area (filled in by the registers work)."""

from __future__ import annotations
