"""Learning aids: self-check questions for the pages, checkers for the code exercises."""

from . import check
from .self_check import self_check

__all__ = ["check", "self_check"]
