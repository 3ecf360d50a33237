"""`python -m spotify_assets.cli`."""

import sys

from spotify_assets.cli import main

sys.exit(main())
