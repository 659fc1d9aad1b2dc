"""Put a finished folder in place without ever losing what stood there before.

A report is written into a hidden sibling of its destination (``.NAME.shallownet-new-PID-XXXX``)
and moved in with one rename at the end:

* without ``force`` the rename refuses an existing destination (Linux ``renameat2`` with
  ``RENAME_NOREPLACE``), so nothing the run did not create is ever removed, even when the
  destination appears while the report is being drawn;
* with ``force`` the new folder and the old one are swapped in one step (``RENAME_EXCHANGE``),
  then the old one (now under the hidden name) is deleted. A kill at any moment leaves the
  complete old report or the complete new one at the destination.

Where ``renameat2`` is missing (other systems, some file systems) the same steps are made of
plain renames: a check then a rename without ``force`` (a file system that replaces an empty
folder on rename, as POSIX allows, could then replace an *empty* folder created in the instant
between the two), and old-aside, new-in, delete-old with ``force`` (a kill between the two
renames leaves the old report under ``.NAME.shallownet-old-PID-XXXX``; the next run puts it
back). Hidden folders left by a killed run are found by :func:`recover` on the next run:
leftovers of a dead process are deleted (or, for an old report set aside, put back) and
named in the returned notes; those of a live process are left alone.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
from pathlib import Path

_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP}


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """``renameat2(src, dst, flags)``; False where the system or file system lacks it."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(src), None, str(dst))


def _pattern(folder: Path) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(folder.name)}\.shallownet-(new|old)-(\d+)-[0-9a-f]+$")


def sibling(folder: Path, kind: str) -> Path:
    """Create and return an empty hidden sibling of ``folder`` (``kind``: "new" or "old").

    Created with :func:`os.mkdir`, so it gets the user's umask (not the 0700 of mkdtemp).
    """
    while True:
        path = folder.parent / f".{folder.name}.shallownet-{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def recover(folder: Path) -> list[str]:
    """Deal with the hidden folders that killed runs left beside ``folder``; notes on each."""
    notes = []
    if not folder.parent.is_dir():
        return notes
    pattern = _pattern(folder)
    for entry in sorted(folder.parent.iterdir()):
        match = pattern.match(entry.name)
        if not match or not entry.is_dir() or entry.is_symlink():
            continue
        kind, pid = match.group(1), int(match.group(2))
        if _alive(pid):
            notes.append(f"{entry} belongs to a running shallownet process (pid {pid}); left alone.")
        elif kind == "old" and not os.path.lexists(folder):
            os.rename(entry, folder)
            notes.append(f"Put back the previous report {folder}, which an interrupted run had moved "
                         f"aside to {entry}.")
        else:
            shutil.rmtree(entry, ignore_errors=True)
            notes.append(f"Removed {entry}, left over from an interrupted run (pid {pid}).")
    return notes


def publish(tmp: Path, folder: Path, force: bool) -> None:
    """Move the finished folder ``tmp`` to ``folder`` (see the module docstring).

    Raises FileExistsError, leaving ``tmp`` in place, when ``folder`` exists and not ``force``.
    """
    if not force or not os.path.lexists(folder):
        try:
            if _renameat2(tmp, folder, _RENAME_NOREPLACE):
                return
        except FileExistsError:
            if not force:
                raise FileExistsError(f"{folder} exists") from None
        else:
            if os.path.lexists(folder):
                if not force:
                    raise FileExistsError(f"{folder} exists")
            else:
                os.rename(tmp, folder)
                return
    if folder.is_symlink() or not folder.is_dir():
        raise FileExistsError(f"{folder} exists and is not a folder; it is not replaced")
    if _renameat2(tmp, folder, _RENAME_EXCHANGE):
        shutil.rmtree(tmp)  # holds the old report now
        return
    old = sibling(folder, "old")
    os.rmdir(old)
    os.rename(folder, old)
    os.rename(tmp, folder)
    shutil.rmtree(old)
