"""File helpers: atomic output (a reader, or a crash, never sees half a file), content
hashes, and which file names are media."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
"""Still images: read as a photo (one frame) by the face stage and ``predict face``."""
MEDIA_SUFFIXES = IMAGE_SUFFIXES | frozenset(
    ".mp4 .mov .m4v .mkv .webm .avi .mpg .mpeg .ts .mts .flv .wmv .3gp .gif "
    ".wav .mp3 .flac .m4a .aac .ogg .opus .wma".split()
)
"""What a folder is searched for (``emochat batch``, a folder manifest) and the service
takes: every command's one list, so a JAFFE .tiff is media to all of them."""


def files_under(root: str | Path, suffixes: frozenset[str]) -> list[Path]:
    """The regular files under ``root`` (at any depth) whose suffix, in any case, is one of
    ``suffixes``, sorted by path; hidden files and folders (macOS ``._x.png``, ``.cache/``)
    are skipped."""
    root = Path(root)
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.is_file()
    )


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def input_file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an input file, in a few words, or None when it can.

    One place names the file system's oddities the same way for every input (media,
    transcripts, manifests): an empty path is not the current folder, a symlink loop is not
    a missing file, a FIFO is not an empty file (reading one would block forever).
    """
    if str(path) == "":
        return "empty path"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "broken symbolic link" if os.path.islink(path) else "file not found"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.EACCES:
            return "permission denied"
        return exc.strerror or str(exc)
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a FIFO, socket or device)"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return None


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks (model files are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def remove_stale_temps(path: str | Path) -> int:
    """Delete the temporaries :func:`atomic_path` left for ``path`` when a writer was killed.

    Call it only where ``path`` has one writer at a time (a job's or a clip's folder):
    another live writer's temporary would go too. Returns how many were removed.
    """
    path = Path(path)
    stale = list(path.parent.glob(f".{path.name}.*.tmp")) if path.parent.is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return len(stale)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is synced and renamed onto it.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs should read like any file
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_json(path: str | Path, value: object) -> Path:
    """Write ``value`` as JSON (indent 2, UTF-8 as is) to ``path`` atomically, streamed to
    the file piece by piece: the same bytes as ``json.dumps(value, indent=2,
    ensure_ascii=False)`` without that whole string in memory (a long media's report)."""
    import json

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(value, fh, indent=2, ensure_ascii=False)
    return Path(path)
