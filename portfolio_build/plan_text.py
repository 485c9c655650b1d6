"""How ``publish`` writes: whole lines prefixed by region, and a stack's plan as rows
(``+`` add, ``~`` modify, ``!`` replace, ``-`` remove)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from portfolio_build.stacks import StackPlan

SYMBOLS = {"Add": "+", "Remove": "-", "Modify": "~"}


class Output:
    """Lines prefixed by region, whole lines only, from every thread."""

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self._write = write
        self._lock = threading.Lock()

    def region(self, region: str) -> Callable[[str], None]:
        def log(line: str) -> None:
            with self._lock:
                self._write(f"[{region}] {line}")

        return log


def summary(plan: StackPlan) -> str:
    if not plan.changes:
        return "no change"
    counts = {a: sum(c.action == a for c in plan.changes) for a in ("Add", "Modify", "Remove")}
    replaced = sum(c.replaces for c in plan.changes)
    verb = "create" if plan.creates else "update"
    text = (
        f"{verb}: {counts['Add']} to add, {counts['Modify']} to modify ({replaced} replaced), "
        f"{counts['Remove']} to remove"
    )
    return text + (" (estimated from the templates)" if plan.estimated else "")


def plan_lines(plan: StackPlan) -> list[str]:
    lines = []
    for change in plan.changes:
        symbol = "!" if change.replaces else SYMBOLS.get(change.action, "?")
        note = ""
        if change.replaces:
            note = "  REPLACEMENT: a new resource, the old one deleted"
        elif change.action == "Remove":
            note = "  REMOVED"
        properties = f" [{', '.join(change.properties)}]" if change.properties else ""
        lines.append(
            f"  {symbol} {change.action:<6} {change.resource_type:<45} "
            f"{change.logical_id}{properties}{note}"
        )
    return lines
