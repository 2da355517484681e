"""Files written whole or not at all (models, run records, reports)."""

import contextlib
import os
import re
import secrets

__all__ = ["write_atomic"]

_TMP_SUFFIX = ".deepzoo-tmp"


def write_atomic(path, data):
    """Write the bytes ``data`` to ``path`` whole or not at all.

    A temporary neighbour (mode 0o666 filtered by the umask, as ``open``
    gives) is written and fsynced, renamed into place, and the folder is
    fsynced so the rename survives a power cut. On any error the temporary
    file is removed and an earlier file at ``path`` is intact. A save killed
    outright (SIGKILL) cannot clean up after itself, so each write first
    removes the temporaries of ``path`` left by processes that are gone.
    """
    directory, base = os.path.split(os.path.abspath(path))
    _remove_stale_temps(directory, base)
    # The pid lets a later save tell a killed save's leftover from a live one.
    tmp = os.path.join(
        directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}{_TMP_SUFFIX}"
    )
    # Mode 0o666 filtered by the umask, as open() does (mkstemp forces 0o600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if os.name == "posix":
        # The rename is durable only once the folder's entry is on disk.
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _remove_stale_temps(directory, base):
    if os.name != "posix":
        # Liveness is probed with kill(pid, 0), which on Windows would
        # terminate the process instead.
        return
    pattern = re.compile(
        rf"\.{re.escape(base)}\.(\d+)\.[0-9a-f]+{re.escape(_TMP_SUFFIX)}\Z"
    )
    for entry in os.scandir(directory):
        match = pattern.match(entry.name)
        if match and not _pid_alive(int(match[1])):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


