"""A job's files: its own copy of the media, opened without ever following a symlink.

Every job keeps what it reads and serves in its folder ``DATA_DIR/jobs/ID``: an upload
is written there, and a server-side file is taken in at submission (hard-linked when the
link provably names the file that was checked, copied from the open file otherwise), so
no later access goes back to a path under ``--allowed-root`` that someone could swap.
Each access opens the folder and the file with ``O_NOFOLLOW``: a file replaced by a
symlink is refused, never followed.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from starlette.responses import Response, StreamingResponse

CHUNK_BYTES = 256 * 1024
_READ_NO_SYMLINK = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # a FIFO must not block
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RefusedFile(Exception):
    """The file is a symlink, not a regular file, or changed while it was opened."""


def _open_nofollow(name: str | Path, dir_fd: int | None = None, *, directory: bool = False) -> int:
    flags = _READ_NO_SYMLINK | (os.O_DIRECTORY if directory else 0)
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise RefusedFile(f"{name}: a symlink or not a folder") from None
        raise


def _regular_file(fd: int, name: str) -> os.stat_result:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise RefusedFile(f"{name}: not a regular file")
    return info


def open_job_file(job_dir: Path, name: str) -> tuple[BinaryIO, os.stat_result]:
    """``job_dir/name`` open for reading, refusing a symlink in either place.

    Raises :class:`FileNotFoundError` when it is missing and :class:`RefusedFile` when it
    is a symlink or not a regular file.
    """
    if "/" in name or name in ("", ".", ".."):
        raise RefusedFile(f"{name!r}: not a file name")
    dir_fd = _open_nofollow(job_dir, directory=True)
    try:
        fd = _open_nofollow(name, dir_fd)
    finally:
        os.close(dir_fd)
    return os.fdopen(fd, "rb"), _regular_file(fd, name)


def take_in_server_file(root: Path, relative: Path, target: Path) -> int:
    """Make ``target`` (in a job folder) the file ``root/relative``; its size in bytes.

    ``relative`` must be free of symlinks (resolved by the caller): each folder on the way
    is opened with ``O_NOFOLLOW`` from the root, so a folder or file swapped for a symlink
    after the caller's check is refused rather than followed outside the root. The file
    is then hard-linked if the new link names the very file that was opened (same device
    and inode), else copied from the open file.
    """
    fd = _open_nofollow(root, directory=True)
    try:
        for part in relative.parts[:-1]:
            next_fd = _open_nofollow(part, fd, directory=True)
            os.close(fd)
            fd = next_fd
        dir_fd, fd = fd, _open_nofollow(relative.name, fd)
        os.close(dir_fd)
    except BaseException:
        os.close(fd)
        raise
    info = _regular_file(fd, relative.name)
    with os.fdopen(fd, "rb") as src:
        try:
            os.link(root / relative, target, follow_symlinks=False)
            linked = os.lstat(target)
            if (linked.st_dev, linked.st_ino) == (info.st_dev, info.st_ino):
                return info.st_size
            target.unlink()  # swapped between the open and the link: use what was opened
        except OSError:  # another file system, or links not allowed: copy
            target.unlink(missing_ok=True)
        with open(target, "xb") as out:
            shutil.copyfileobj(src, out, CHUNK_BYTES)
    return info.st_size


def remove_job_dir(job_dir: Path) -> None:
    """Delete a job's folder and everything in it (a symlink in its place: the link only)."""
    if job_dir.is_symlink():
        job_dir.unlink()
    else:
        shutil.rmtree(job_dir, ignore_errors=True)


def folder_bytes(root: Path) -> int:
    """Bytes the files under ``root`` take, except those hard-linked from elsewhere (a
    server-side file taken in costs no space of its own)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:  # deleted meanwhile
                continue
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                total += info.st_size
    return total


def file_response(
    fh: BinaryIO, info: os.stat_result, name: str, range_header: str | None
) -> Response:
    """Stream an open file, honouring one ``Range: bytes=A-B`` (the video player seeks)."""
    size = info.st_size
    start, end, status = 0, size - 1, 200
    match = _RANGE.fullmatch(range_header.strip()) if range_header else None
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # the last N bytes
            start = max(size - int(match[2]), 0)
        if start >= size or start > end:
            fh.close()
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"

    def chunks() -> Iterator[bytes]:
        with fh:
            fh.seek(start)
            left = end - start + 1
            while left > 0 and (block := fh.read(min(CHUNK_BYTES, left))):
                left -= len(block)
                yield block

    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return StreamingResponse(chunks(), status, headers, media_type=media_type)
