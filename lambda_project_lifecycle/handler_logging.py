"""The logger of a handler module: at INFO, since the Lambda runtime leaves the root logger
at WARNING and a handler says what it did with each event."""

from __future__ import annotations

import logging


def handler_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    return logger
