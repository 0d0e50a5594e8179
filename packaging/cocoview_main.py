"""The PyInstaller bundle's entry point: the same ``main`` as the ``cocoview`` command.

It also handles the hidden helper flags (``--chunk-worker``, ``--index-worker``,
``--eval-worker``, ``--validate-worker``):
in a bundle there is no ``python -c``, so the loader starts the program itself.
"""

from __future__ import annotations

import sys

from cocoview.cli import main

if __name__ == "__main__":
    sys.exit(main())
