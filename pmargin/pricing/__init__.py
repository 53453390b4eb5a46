"""Pricing kernels: pure numpy Black-76 price, greeks and implied vol."""
