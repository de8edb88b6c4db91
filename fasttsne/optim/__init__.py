"""Optimisation: phases and schedules, the objectives, gradient descent, point renumbering.

``phase`` (what to run) -> ``descent`` (how: the step loop, callbacks, Ctrl-C) over an
``objective`` (KL of a map, or of new points against a fixed reference); ``locality`` renumbers
the points of large fits along a space-filling curve while they optimise; ``run`` runs a
schedule on a model object's own (read-only) positions.
"""
from .convergence import KLHistory
from .divergence import DivergenceError
from .descent import MIN_GAIN, OptimizationInterrupt, OptimizerState, gradient_descent, run_phases
from .objective import FitObjective, PartialObjective, kl_divergence
from .phase import AUTO, Phase, annealed, auto_learning_rate, fit_schedule, transform_schedule
from .run import run_on, run_stoppable

__all__ = ["Phase", "fit_schedule", "transform_schedule", "auto_learning_rate", "annealed", "FitObjective",
           "PartialObjective", "kl_divergence", "OptimizationInterrupt", "DivergenceError", "OptimizerState",
           "gradient_descent", "run_phases", "MIN_GAIN", "KLHistory", "AUTO", "run_on", "run_stoppable"]
