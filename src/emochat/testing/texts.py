"""Real sentences, English and Chinese, that the text-encoder tests compare engines on."""

ENGLISH = [
    "I am so happy today",
    "Oh my god, really?",
    "I can't believe you did that to me, I'm furious.",
    "Okay, see you tomorrow then.",
    "When my grandmother died I felt a deep and lasting sadness.",
    "Ugh, that smell is disgusting.",
]
CHINESE = [
    "我今天非常开心",
    "我很难过，一直在哭",
    "你们太过分了！我非常生气",
    "疫情期间大家都要加油！！希望早日康复",
    "听到这个消息我很害怕",
]
