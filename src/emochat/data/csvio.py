"""Reading delimited text with line numbers, so a bad row is reported as ``file: line N: ...``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from emochat.core.errors import DataError


def read_rows(
    path: str | Path,
    required: Iterable[str] = (),
    *,
    delimiter: str = ",",
    header: list[str] | None = None,
    quoting: int = csv.QUOTE_MINIMAL,
) -> list[tuple[int, dict[str, str]]]:
    """(line number where the record starts, row) pairs of a UTF-8 delimited file.

    The first line is the header unless ``header`` gives the column names. Blank lines
    are skipped; a row with the wrong number of fields, a missing required column, a
    missing file or non-UTF-8 bytes raise :class:`DataError` naming file and line.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter, quoting=quoting)
            if header is None:
                first = next(reader, None)
                if first is None:
                    raise DataError(path, "empty file")
                header = [h.strip() for h in first]
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(path, f"line 1: missing column(s) {', '.join(missing)}")
            rows = []
            start = reader.line_num + 1
            for cells in reader:
                if cells and any(c.strip() for c in cells):
                    if len(cells) != len(header):
                        raise DataError(
                            path, f"line {start}: {len(cells)} fields, expected {len(header)}"
                        )
                    rows.append((start, dict(zip(header, cells, strict=True))))
                start = reader.line_num + 1
            return rows
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "is a folder, expected a file") from None
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise DataError(path, f"malformed: {exc}") from None
