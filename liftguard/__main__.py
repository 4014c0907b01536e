"""``python -m liftguard`` is the ``liftguard`` command."""

from __future__ import annotations

import sys

from liftguard.cli import main

sys.exit(main())
