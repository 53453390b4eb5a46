"""``python -m pmargin``."""

from .cli import main

main()
