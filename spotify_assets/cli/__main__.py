"""`python -m spotify_assets.cli`."""

import sys

from spotify_assets.cli import main

if __name__ == "__main__":  # not when a spawned worker imports it (cli/library.py)
    sys.exit(main())
