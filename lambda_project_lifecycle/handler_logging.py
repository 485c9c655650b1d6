"""The logger of a handler module, with the whole package at INFO.

The Lambda runtime leaves the root logger at WARNING, and a handler says at INFO what it did
with each event, also why it ignored one. The reasons are logged by the modules the handler
calls (``deployments.outcomes``, ``deployments.convergence``, ...), so the package's logger is
raised, not only the handler module's: otherwise those lines never reach the function's log.
"""

from __future__ import annotations

import logging

PACKAGE = __name__.split(".")[0]


def handler_logger(name: str) -> logging.Logger:
    logging.getLogger(PACKAGE).setLevel(logging.INFO)
    return logging.getLogger(name)
