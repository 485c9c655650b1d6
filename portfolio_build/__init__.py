"""What ``python build.py`` does: render, package, validate and describe the portfolio.

Only this package (through ``build.py``) reads configuration and touches disk;
the generators in ``portfolio`` and ``products`` stay pure.
"""
