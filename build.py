#!/usr/bin/env python3
"""Build the mlops-portfolio: ``python build.py --help``."""

import sys

from portfolio_build.cli import main

if __name__ == "__main__":
    sys.exit(main())
