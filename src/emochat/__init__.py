"""emochat: multimodal emotion analysis of video, offline on CPU.

``emochat.analyze(path)`` runs the default pipeline and returns a
:class:`~emochat.report.model.Report`; ``emochat.Analyzer(options)`` keeps the pipeline
and its models for many files (``.run(path).report``); ``emochat.load_model("text_emotion")``
gives a registered model (:mod:`emochat.models.registry`). Importing the package is cheap:
these names import their modules on first use, and stages load their models when they run.
Stages of your own: :mod:`emochat.pipeline`.
"""

from emochat._version import __version__

__all__ = ["AnalyzeOptions", "Analyzer", "Report", "__version__", "analyze", "load_model"]


def __getattr__(name: str):
    # Lazy so `import emochat` (and the CLI's --help) stays fast: emochat.api alone pulls
    # in PyAV and numpy (~1 s cold); the stages' runtimes load later still.
    if name in ("analyze", "Analyzer"):
        import emochat.api

        return getattr(emochat.api, name)
    if name == "AnalyzeOptions":
        from emochat.options import AnalyzeOptions

        return AnalyzeOptions
    if name == "load_model":
        from emochat.models.registry import load

        return load
    if name == "Report":
        from emochat.report.model import Report

        return Report
    raise AttributeError(f"module 'emochat' has no attribute {name!r}")
