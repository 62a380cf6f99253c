"""The Correlation Aggregator's run-time side shared with its recipe (``emochat.train``).

The model class and its shipped weights are still :mod:`emochat.fusion.aggregator`.
"""
