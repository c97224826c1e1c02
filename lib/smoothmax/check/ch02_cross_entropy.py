"""Checks for the exercises of chapter 0 (being written)."""

__all__ = []
