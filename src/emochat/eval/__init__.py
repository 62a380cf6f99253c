"""Evaluation kit: metrics, the OV-MER emotion-wheel score, ``emochat eval``.

Modules: :mod:`~emochat.eval.metrics`, :mod:`~emochat.eval.ovmer` (wheel metric, hit
rate), :mod:`~emochat.eval.registry` (model hooks, sub-commands),
:mod:`~emochat.eval.runner` (score a model, write JSON/markdown/PNG) and
:mod:`~emochat.eval.cli`. The corpora, their label maps and user manifests are
:mod:`emochat.data`. Importing this package imports nothing heavy.
"""
