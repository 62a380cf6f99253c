"""JSON-lines output, in a module of its own so sub-commands need not import ``emochat.cli``."""

from __future__ import annotations

import json


def print_jsonl(records) -> None:
    for record in records:
        print(json.dumps(record, ensure_ascii=False), flush=True)
