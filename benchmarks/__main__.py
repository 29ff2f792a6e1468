"""``python -m benchmarks``: the same as ``python benchmarks/run.py`` (run from the repository's root)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import main

sys.exit(main())
