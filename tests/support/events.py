"""Real event payloads stored under ``tests/events/``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """A stored event from ``tests/events/``, with top-level keys replaced."""
    event = json.loads((EVENTS_DIR / name).read_text())
    event = copy.deepcopy(event)
    event.update(overrides)
    return event
