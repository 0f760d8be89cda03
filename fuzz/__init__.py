"""Differential fuzzing of euler against its reference interpreter (see issue 4)."""
