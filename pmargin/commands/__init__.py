"""CLI commands beyond compute and validate, one module each, registered on cli.app."""
