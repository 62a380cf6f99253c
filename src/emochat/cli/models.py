"""`emochat models [NAME] [--json]`: the registered models, their files, sha256, cards, recipes."""

from __future__ import annotations

import argparse
import json

from emochat.models import registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        help="one model: its card, every file with its full sha256, and its recipe",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    if args.name is None:
        models = [registry.describe(name) for name in registry.REGISTRY]
        print(json.dumps(models, indent=2) if args.json else table(models))
        return 0
    model = registry.describe(args.name)
    card = registry.card_path(args.name)
    card_text = card.read_text(encoding="utf-8") if card is not None and card.is_file() else None
    if args.json:
        print(json.dumps({**model, "card_text": card_text}, indent=2))
    else:
        print(details(model, card_text))
    return 0


def _size(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "-"
    return f"{n_bytes / 2**20:.1f} MB" if n_bytes >= 2**20 else f"{n_bytes / 2**10:.0f} KB"


def _total(files: list[dict]) -> int | None:
    """All files' bytes; None when any is missing (its package not installed)."""
    sizes = [f["bytes"] for f in files]
    return None if None in sizes else sum(sizes)


def _absent(model: dict) -> str:
    """Why a file has no sha256: a dependency not installed, or a shipped file missing."""
    return "not installed" if model["kind"] == registry.PYPI else "missing"


def table(models: list[dict]) -> str:
    """One line per model: name, version, kind, size, the first file's sha256 (12 hex
    digits) and the card (or where the files come from)."""
    rows = [("NAME", "VERSION", "KIND", "SIZE", "SHA256", "CARD / SOURCE")]
    for m in models:
        first = m["files"][0]["sha256"]
        rows.append(
            (
                m["name"],
                m["version"],
                m["kind"],
                _size(_total(m["files"])),
                first[:12] if first else _absent(m),
                m["card"] or m["source"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    )


def details(model: dict, card_text: str | None) -> str:
    lines = [
        f"{model['name']} {model['version']} ({model['kind']}): {model['description']}",
        f"source: {model['source']}",
        f"recipe: {model['recipe'] or '- (not trained by emochat)'}",
        f"loader: {model['loader'] or '-'}"
        + ("  (--model " + model["name"] + "=NAME|PATH)" if model["slot"] else ""),
        "files:",
    ]
    for f in model["files"]:
        lines.append(f"  {f['file']}  {_size(f['bytes'])}  {f['sha256'] or _absent(model)}")
    if card_text is not None:
        lines += ["", card_text.rstrip()]
    return "\n".join(lines)
