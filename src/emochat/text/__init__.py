"""Text emotion: one multilingual model (English, Chinese, ...) over the basic labels.

>>> from emochat.text import TextEmotionModel
>>> model = TextEmotionModel.load()
>>> model.predict(["I am so happy today", "我今天非常开心"])[0].label
'happy'
"""

from emochat.core.labels import BASIC_LABELS
from emochat.text.model import TextEmotion, TextEmotionModel

__all__ = ["BASIC_LABELS", "TextEmotion", "TextEmotionModel"]
