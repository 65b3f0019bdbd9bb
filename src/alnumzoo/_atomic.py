"""Atomic, durable writes of files and whole folders, shared by every writer in the package.

Temporary files and folders are siblings of their target named ``.<target>.<pid>.<random>``
with a ``.tmp`` / ``.partial`` / ``.old`` suffix. They are fsynced before the rename that
publishes them, and the parent folder after it, so a crash or power loss leaves either the old
or the new version. Leftovers of a process that died mid-write (its pid no longer running) are
removed by the next write to the same target.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "atomic_folder",
    "atomic_write",
    "fsync_dir",
    "link_tree",
    "remove_stale_temps",
    "set_default_mode",
]

_TEMP = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[^.]+\.(tmp|partial|old)$")
# Temps in the naming of older versions (no pid) count as stale after this long.
_LEGACY_STALE_S = 3600.0
_LEGACY = re.compile(r"^\.(?P<target>.+)\.[^.]+\.tmp$")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


_SWAP_ATTEMPTS = 5


def fsync_dir(path: Path) -> None:
    """Make a rename or creation inside ``path`` durable (no-op where folders can't be
    opened, e.g. on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(target: Path) -> list[Path]:
    """Delete temporary siblings of ``target`` left by writers that are no longer running;
    return what was removed."""
    removed: list[Path] = []
    parent = target.parent
    if not parent.is_dir():
        return removed
    now = time.time()
    for entry in parent.iterdir():
        match = _TEMP.match(entry.name)
        if match is not None:
            if match["target"] != target.name or _alive(int(match["pid"])):
                continue
        else:
            legacy = _LEGACY.match(entry.name)
            if legacy is None or legacy["target"] != target.name:
                continue
            if now - entry.stat().st_mtime < _LEGACY_STALE_S:
                continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it, then rename it into
    place, so a crash never leaves a half-written ``path``. Files are created with the
    permissions the umask allows (0644 under the usual umask), not mkstemp's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        set_default_mode(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def set_default_mode(path: Path) -> None:
    """Give a file (or folder) the permissions a plain ``open`` (``mkdir``) would have under
    the current umask: writers such as ``mkstemp`` and safetensors create 0600 files, which
    other users and tools then cannot read."""
    base = 0o777 if path.is_dir() else 0o666
    os.chmod(path, base & ~_umask())


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's ``renameat2(RENAME_EXCHANGE)``; ``False`` where
    that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def link_tree(source: Path, destination: Path) -> None:
    """Recreate ``source`` (a file, link or folder tree) at ``destination`` with hard links, so
    both names share the data until one is deleted: copying a ``.git`` folder into a new
    version of a folder costs metadata only, and nothing is lost if the swap never happens."""
    if source.is_symlink():
        os.symlink(os.readlink(source), destination)
    elif source.is_dir():
        destination.mkdir()
        for child in source.iterdir():
            link_tree(child, destination / child.name)
    else:
        try:
            os.link(source, destination)
        except OSError:  # another file system, or links not allowed: copy instead
            shutil.copy2(source, destination)


def _swap_in(staging: Path, target: Path) -> None:
    # Another process may create or replace ``target`` between any two of these calls (two
    # saves to one folder): a rename that finds a folder in its way tries again.
    for attempt in range(_SWAP_ATTEMPTS):
        try:
            if target.exists() and _exchange(staging, target):
                fsync_dir(target.parent)
                shutil.rmtree(staging, ignore_errors=True)  # now holds the old folder
                return
            if target.exists():
                old = Path(
                    tempfile.mkdtemp(dir=target.parent, prefix=_temp_prefix(target), suffix=".old")
                )
                os.rename(target, old / "folder")
                os.rename(staging, target)
                fsync_dir(target.parent)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(staging, target)
                fsync_dir(target.parent)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                raise
            if attempt == _SWAP_ATTEMPTS - 1:
                raise OSError(
                    exc.errno, f"could not put the new {target} in place", str(target)
                ) from exc


def atomic_folder(target: Path, fill: Callable[[Path], object]) -> Path:
    """Write a whole folder atomically: ``fill(staging)`` writes the files into a fresh
    sibling folder, which is fsynced and then put in place of ``target``.

    An existing ``target`` is swapped out in one atomic exchange where the OS offers one
    (Linux), so readers always see the complete old or the complete new folder. Elsewhere the
    old folder is renamed aside and the new one renamed in; a crash between the two leaves no
    ``target`` at all, never a mixed one. Either way the old folder is then deleted.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    staging = Path(
        tempfile.mkdtemp(dir=target.parent, prefix=_temp_prefix(target), suffix=".partial")
    )
    try:
        set_default_mode(staging)
        fill(staging)
        for file in staging.rglob("*"):
            if file.is_file():
                _fsync_file(file)
        fsync_dir(staging)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
