"""pmargin's version as installed (``0.0.0+source`` when run from a source tree)."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("pmargin")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0.0.0+source"
