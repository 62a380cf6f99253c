"""emochat: multimodal emotion analysis of video, offline on CPU.

``emochat.analyze(path)`` runs the default pipeline and returns a
:class:`~emochat.report.model.Report`; ``emochat.load_model("text_emotion")`` gives
a registered model (:mod:`emochat.models.registry`). Importing the package is cheap:
heavy stages load their models on first use.
"""

from emochat._version import __version__

__all__ = ["Report", "__version__", "analyze", "load_model"]


def __getattr__(name: str):
    # Lazy so `import emochat` (and the CLI's --help) does not import mediapipe.
    if name == "analyze":
        from emochat.api import analyze

        return analyze
    if name == "load_model":
        from emochat.models.registry import load

        return load
    if name == "Report":
        from emochat.report.model import Report

        return Report
    raise AttributeError(f"module 'emochat' has no attribute {name!r}")
