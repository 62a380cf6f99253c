"""The package version, apart from ``emochat/__init__`` so that modules the root imports
lazily (the runner, via ``emochat.api``) can read it without an import cycle."""

__version__ = "0.1.0"
