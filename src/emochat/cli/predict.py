"""`emochat predict {face,speech,text}`: one modality's model on single inputs, JSON lines out."""

from __future__ import annotations

import argparse
import sys

from emochat.cli.output import print_jsonl
from emochat.core.errors import EmochatError
from emochat.models import registry

PREDICT_SLOTS = {"face": "face_expression", "speech": "speech_emotion", "text": "text_emotion"}
"""The model slot each ``emochat predict`` modality runs (``--model SLOT=...``)."""


def _text_inputs(inputs: list[str]) -> list[str]:
    if inputs == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    return inputs


def _chosen_model(args: argparse.Namespace) -> registry.ModelChoice | None:
    """The --model choice for this modality's slot (None: the registered model)."""
    slot = PREDICT_SLOTS[args.modality]
    for other, _ in args.models:
        if other != slot and other in registry.SLOTS:  # an unknown slot: choices() says so
            raise EmochatError(
                None, f"--model {other}: emochat predict {args.modality} runs only {slot}"
            )
    return registry.choices(dict(args.models)).get(slot)


def run_predict(args: argparse.Namespace) -> int:
    model = _chosen_model(args)
    if args.modality == "text":
        texts = _text_inputs(args.inputs)
        text_model = registry.load(model or "text_emotion")
        print_jsonl(
            {
                "input": text,
                "label": pred.label,
                "probs": pred.probs,
                "valence": pred.valence,
                "arousal": pred.arousal,
            }
            for text, pred in zip(texts, text_model.predict(texts), strict=True)
        )
        return 0
    if args.modality == "face":
        from emochat.face.predict import predict_face_images

        return _each(predict_face_images(args.inputs, crops=args.crops, model=model))
    from emochat.voice.predict import predict_speech_files

    paths = list(args.inputs)
    return _each(
        (path, r if isinstance(r, EmochatError) else r.to_dict())
        for path, r in zip(paths, predict_speech_files(paths, model), strict=True)
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
