"""``python -m soapkit``: the same as the ``soapkit`` command."""

import sys

from soapkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
