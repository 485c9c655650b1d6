"""The shared Lambda of the portfolio: one package, several handlers.

Handlers live in their own modules (``lifecycle.handler`` answers the
``Custom::ProjectLifecycle`` resource of every product template). Nothing here
creates an AWS client at import time.
"""

__version__ = "0.1.0"
