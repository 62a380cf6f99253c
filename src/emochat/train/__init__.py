"""Training recipes: one package per shipped model, named as the model it rebuilds.

Each package runs as ``python -m emochat.train.<model> [STEP] [args]`` or
``emochat train <model> [STEP] [args]`` (``emochat train`` lists them with their steps).
Recipes import run-time code; nothing that runs an analysis imports them.
"""
