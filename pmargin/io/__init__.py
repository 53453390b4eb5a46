"""Loaders for portfolio, market, scenario and model files (YAML via ``yaml.safe_load`` only)."""
