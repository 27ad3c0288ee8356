"""``python -m tether.cli``: the same as the ``tether`` command."""

from .main import main

main()
