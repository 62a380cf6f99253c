"""The data emochat trains and is evaluated on: corpora, their label maps, user manifests.

Modules: :mod:`~emochat.data.registry` (the corpora, their splits and held-out split;
light), :mod:`~emochat.data.labels` (each corpus's labels and its map into the basic
space), :mod:`~emochat.data.corpora` (one reader per corpus), :mod:`~emochat.data.text_corpus`
(text-model training lists), :mod:`~emochat.data.manifest` (a user's clip list) and
:mod:`~emochat.data.csvio` (delimited files read with line numbers). Stands beside the top
floor with ``eval`` and ``train``: nothing that runs an analysis imports it. Importing
this package imports nothing heavy.
"""
