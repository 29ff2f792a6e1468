"""``python -m soapkit.cli``: the same as the ``soapkit`` command."""

import sys

from soapkit.cli import main

sys.exit(main())
