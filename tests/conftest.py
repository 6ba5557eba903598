"""Shared fixtures. trio_mode comes from pyproject.toml; autojump_clock from pytest-trio."""
