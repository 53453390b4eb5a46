"""CLI commands beyond compute and validate, one module each; each registers on `pmargin.cli.app`."""
