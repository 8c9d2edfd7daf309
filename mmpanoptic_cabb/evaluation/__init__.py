"""Evaluation metrics; importing registers them in mmdet's METRICS."""
from . import functional, metrics  # noqa: F401
