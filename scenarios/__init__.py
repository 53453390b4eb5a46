"""Bundled scenario library (YAML files), installed as ``pmargin.scenario_library``."""
