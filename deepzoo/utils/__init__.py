"""Utilities: scikit-learn compatibility, validation, discovery."""

from .discovery import all_estimators

__all__ = ["all_estimators"]
