"""`emochat predict {face,speech,text}`: one modality's model on single inputs, JSON lines out."""

from __future__ import annotations

import argparse
import sys
from collections import deque
from collections.abc import Iterator
from itertools import islice

from emochat.cli.output import print_jsonl
from emochat.core.errors import EmochatError
from emochat.models import registry
from emochat.voice.predict import NoSpeech, predict_speech_files
from emochat.voice.speech_emotion import SpeechEmotion

PREDICT_SLOTS = {"face": "face_expression", "speech": "speech_emotion", "text": "text_emotion"}
"""The model slot each ``emochat predict`` modality runs (``--model SLOT=...``)."""


TEXT_BATCH = 32
"""Lines classified per model call: each result is printed as soon as its batch is done,
so ``predict text -`` reads stdin as it comes, in memory bounded by one batch."""


def _text_inputs(inputs: list[str]) -> Iterator[str]:
    """The inputs one by one, ``-`` replaced by stdin's lines as they are read (an empty
    line stays an input, so output line n answers input line n)."""
    for item in inputs:
        if item == "-":
            yield from (line.rstrip("\r\n") for line in sys.stdin)
        else:
            yield item


def _predict_text(args: argparse.Namespace, model: registry.ModelChoice | None) -> int:
    """One JSON line per input, printed batch by batch; ``--context`` gives each line the
    lines before it (as many as the model reads)."""
    text_model = registry.load(model or "text_emotion")
    previous: deque[str] = deque(maxlen=max(text_model.context_turns, 1))
    inputs = _text_inputs(args.inputs)
    while batch := list(islice(inputs, TEXT_BATCH)):
        context = None
        if args.context:
            context = []
            for text in batch:
                context.append(list(previous))
                previous.append(text)
        preds = text_model.predict(
            batch,
            context=context,
            domain=args.domain,
            top_k=5 if args.details else 0,
            lexicon=args.details,
        )
        print_jsonl(_text_record(pred, args.details) for pred in preds)
    return 0


def _text_record(pred, details: bool) -> dict:
    """``input``, ``label``, ``probs`` (6 decimals), ``valence``, ``arousal``; with
    ``details`` also ``open_vocab`` and ``lexicon``."""
    record = pred.to_dict()
    record["probs"] = {k: round(v, 6) for k, v in pred.probs.items()}
    if not details:
        del record["open_vocab"], record["lexicon"]
    return record


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
        return _predict_text(args, model)
    if args.modality == "face":
        from emochat.face.predict import predict_face_images

        return _each(predict_face_images(args.inputs, crops=args.crops, model=model))
    paths = list(args.inputs)
    return _each(
        (path, r if isinstance(r, EmochatError) else _speech_record(r))
        for path, r in zip(paths, predict_speech_files(paths, model), strict=True)
    )


def _speech_record(result: SpeechEmotion | NoSpeech) -> dict:
    """The emotion, or ``label`` None with ``status`` "no_speech" when the VAD heard none;
    ``out_of_domain`` when the voice is unlike the speech model's training data."""
    if isinstance(result, NoSpeech):
        return {**result.to_dict(), "status": "no_speech"}
    return {**result.to_dict(), "status": "speech", "out_of_domain": result.out_of_domain}


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
