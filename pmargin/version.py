"""pmargin's version: the one place it is written (pyproject.toml reads it from here), so that
printing it costs no ``importlib.metadata`` lookup."""

VERSION = "0.1.0"
