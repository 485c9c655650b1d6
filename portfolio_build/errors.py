"""The one root exception of the build CLI: caught at the top, printed as one line."""

from __future__ import annotations


class BuildError(Exception):
    """Anything the user can fix: bad configuration, a failed check, a missing file."""


class ConfigError(BuildError):
    """A configuration value breaks the schema; the message names the source and key."""


class PublishError(BuildError):
    """Publishing cannot go on: bad input found before any change, or AWS refused a step.

    The message names the option, region or stack, and what to do."""
