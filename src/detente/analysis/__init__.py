"""Analyses on top of the model: sensitivity, sweeps, tipping points, the effect of pressure."""

from detente.analysis.pressure import PressureEffect, pressure_effect

__all__ = ["PressureEffect", "pressure_effect"]
