"""`emochat predict {face,speech,text}`: one modality's model on single inputs, JSON lines out."""

from __future__ import annotations

import argparse
import sys

from emochat.cli.output import print_jsonl
from emochat.errors import EmochatError


def _text_inputs(inputs: list[str]) -> list[str]:
    if inputs == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    return inputs


def run_predict(args: argparse.Namespace) -> int:
    if args.modality == "text":
        from emochat.text import TextEmotionModel

        texts = _text_inputs(args.inputs)
        model = TextEmotionModel.load()
        print_jsonl(
            {
                "input": text,
                "label": pred.label,
                "probs": pred.probs,
                "valence": pred.valence,
                "arousal": pred.arousal,
            }
            for text, pred in zip(texts, model.predict(texts), strict=True)
        )
        return 0
    if args.modality == "face":
        from emochat.face.predict import predict_face_images

        return _each(predict_face_images(args.inputs, crops=args.crops))
    from emochat.audio.predict import predict_speech_files

    paths = list(args.inputs)
    return _each(
        (path, r if isinstance(r, EmochatError) else r.to_dict())
        for path, r in zip(paths, predict_speech_files(paths), strict=True)
    )


def _each(results) -> int:
    """Print each (input, result) as a JSON line; a bad input prints an error line and the
    rest go on."""
    failed = 0
    for path, result in results:
        if isinstance(result, EmochatError):
            print(f"emochat: error: {result}", file=sys.stderr)
            failed += 1
        else:
            print_jsonl([{"input": path, **result}])
    return 1 if failed else 0
