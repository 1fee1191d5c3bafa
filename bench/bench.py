#!/usr/bin/env python3
"""slime benchmark harness (python3 stdlib only). Entry point: bench/run. See bench/README.md.

The harness is the package bench/slimebench/ (its __init__ lists the modules); this file only starts it.
"""
import sys

from slimebench.main import main

if __name__ == "__main__":
    sys.exit(main())
