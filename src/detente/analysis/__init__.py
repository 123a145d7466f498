"""Analyses on top of the model: tipping points (more in later releases)."""
