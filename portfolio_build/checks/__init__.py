"""Checks over the built artifacts; each returns findings, never raises on a bad template."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    artifact: str
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.artifact}: [{self.check}] {self.message}"
