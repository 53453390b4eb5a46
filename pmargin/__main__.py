"""``python -m pmargin`` and the ``pmargin`` console script.

Ctrl-C while the command line is still being imported exits 130 without a traceback, as it
does once a command runs (:func:`pmargin.cli.main`).
"""

import sys


def main() -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
