"""The trained models the pipeline loads at run time, one folder each (ARCHITECTURE.md).

Their recipes live under :mod:`emochat.train`, which nothing here imports.
"""
