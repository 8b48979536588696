"""Output folders: which ones govsim may write, clear or resume, and how it writes them.

Every folder govsim writes carries a small marker file, :data:`MARKER`, saying which command
wrote it. That marker is the only thing that lets govsim clear, replace or resume a folder:

* :func:`claim` is called before any work. It refuses an output that is a file, is not
  writable or lies under ``/proc``, ``/sys`` or ``/dev``, and a non-empty folder govsim did
  not write (even with ``--force``: ``--force`` only lets one govsim folder replace another
  of a different kind, or a sweep start again). For a result written whole (``run``,
  ``compare``) it also refuses a folder holding a result of other content (a hash of what
  decides the numbers, recorded in the marker), unless ``--force``, and a folder that cannot
  be swapped in (the current folder, a mount point). It also tidies what a killed run left
  beside the folder.
* :func:`staged` is how a command that writes a whole folder at once (``run``, ``compare``,
  ``analyze``) writes it: into a temporary folder beside the target, swapped in at the end,
  so a kill or a full disk leaves the previous output as it was and no temporary files.
* :func:`locked` holds a folder's lock for a command that writes in place (``sweep``) and
  removes the lock file on every exit path (a refused folder never gets one).

Example:
    >>> from govsim import folders
    >>> target = folders.claim("out/my_report", "compare")          # doctest: +SKIP
    >>> with folders.staged(target, "compare") as tmp:              # doctest: +SKIP
    ...     (tmp / "report.md").write_text("...")
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from govsim.scenario import ScenarioError

#: The marker file: ``{"govsim": "output folder", "kind": ..., "created": ...}``.
MARKER = ".govsim-folder.json"
LOCK = ".lock"
KINDS = ("run", "compare", "sweep", "analysis", "calibrate", "optimise")
_SYSTEM = (Path("/proc"), Path("/sys"), Path("/dev"))
_STAGING, _OLD = "staging", "old"


class FolderError(ScenarioError):
    """An output folder govsim must not or cannot write (one line, exit status 2)."""


@dataclass(frozen=True)
class Claim:
    """A folder govsim may write.

    Attributes:
        path: the folder.
        kind: what will be written (one of :data:`KINDS`).
        previous: the kind of govsim folder already there, or None for a new or empty one.
        content: what will be written, as a hash of what decides it (see ``claim``).
        found: the content of the folder there at the claim (None: none, or empty).
    """

    path: Path
    kind: str
    previous: str | None
    content: str | None = None
    found: str | None = None

    def __fspath__(self) -> str:
        return str(self.path)


def claim(folder: str | Path, kind: str, force: bool | None = None, flag: str = "--out",
          in_place: bool = False, legacy: Callable[[Path], bool] | None = None,
          content: str | None = None) -> Claim:
    """Check, before any work, that govsim may write ``folder``.

    Args:
        folder: the output folder.
        kind: what will be written there (one of :data:`KINDS`).
        force: allow replacing a govsim folder of another kind; None for a command that
            has no ``--force`` (its message does not offer one).
        flag: what to call the folder in messages.
        in_place: the command writes inside the folder (a sweep) rather than swapping a
            whole new folder in; then the folder itself must be writable.
        legacy: recognises a govsim folder written before markers existed (e.g. a sweep
            folder with its ``manifest.json``); it is treated as ours and marked.
        content: for a folder written whole (``run``, ``compare``), a hash of what decides
            its numbers (:func:`govsim.naming.content_id`). A folder holding a result of
            other content is refused unless ``force``: a new result never silently replaces
            a different one. The same content may be replaced: it is the same result.

    Raises:
        FolderError: the folder cannot or must not be written.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown folder kind {kind!r}")
    path = Path(folder)
    if path.is_symlink():  # write where the link points: swapping would replace the link
        path = path.resolve()
    check_writable(path, flag, in_place)
    if not in_place:
        check_swappable(path, flag)
    tidy_leftovers(path)
    if not path.exists() or not _entries(path):
        return Claim(path, kind, None, content)
    marker = read_marker(path)
    if marker is None and legacy is not None and legacy(path):
        marker = write_marker(path, kind)
    if marker is None:
        shown = ", ".join(sorted(_entries(path))[:5])
        raise FolderError(f"{flag} {path}: this folder was not written by govsim and is not "
                          f"empty (it holds {shown}); govsim never replaces or deletes files "
                          "it did not write, even with --force: choose another folder")
    previous = marker["kind"]
    hint = "" if force is None else ", or add --force to replace it"
    if previous != kind and not force:
        raise FolderError(f"{flag} {path}: this folder holds a govsim {previous}, not a {kind}; "
                          f"choose another folder{hint}")
    if content is not None and marker.get("content") != content and not force:
        raise FolderError(_other_content(flag, path, kind, hint))
    return Claim(path, kind, previous, content, marker.get("content"))


def _other_content(flag: str, path: Path, kind: str, hint: str) -> str:
    return (f"{flag} {path}: this folder holds an earlier govsim {kind} of something else "
            f"(other scenarios, seed, settings or model code), and a new {kind} never "
            f"replaces another: choose another folder{hint}")


def check_swappable(folder: Path, flag: str = "--out") -> None:
    """Refuse, before any work, a folder that cannot be swapped in at the end: the current
    folder, a mount point, or a name too long for the temporary folder beside it.

    Raises:
        FolderError: naming the folder and what to give instead.
    """
    resolved = folder.resolve()
    here = resolved == Path.cwd().resolve()
    if here or os.path.ismount(resolved):
        what = "the current folder" if here else "a mount point"
        raise FolderError(f"{flag} {folder}: {what} cannot be replaced by the new results; "
                          f"give a folder inside it, e.g. {folder / 'results'}")
    longest = len(_beside_name(resolved, _STAGING, "0" * 10))
    limit = _name_max(resolved.parent)
    if longest > limit:
        raise FolderError(f"{flag} {folder}: the name is {len(resolved.name)} characters, too "
                          f"long for the temporary folder beside it (at most "
                          f"{len(resolved.name) - (longest - limit)}); choose a shorter name")


def _name_max(folder: Path) -> int:
    for parent in (folder, *folder.parents):
        if parent.exists():
            try:
                return os.pathconf(parent, "PC_NAME_MAX")
            except (OSError, ValueError, AttributeError):  # no pathconf (Windows)
                return 255
    return 255


def check_writable(folder: Path, flag: str = "--out", in_place: bool = False) -> None:
    """Refuse, before any work, an output folder that cannot be written.

    Raises:
        FolderError: a file in the way, a read-only or system folder.
    """
    folder = Path(folder)
    if "\x00" in str(folder):
        raise FolderError(f"{flag} {str(folder)!r}: a path cannot hold a NUL character")
    resolved = folder.resolve()
    for system in _SYSTEM:
        if resolved == system or system in resolved.parents:
            raise FolderError(f"{flag} {folder}: {system} is a system folder, not a place for "
                              "results; choose a folder of your own")
    if folder.exists() and not folder.is_dir():
        raise FolderError(f"{flag} {folder}: this is a file, not a folder")
    start = folder if in_place else folder.parent
    for parent in (start, *start.parents):
        if parent.exists():
            if not parent.is_dir():
                raise FolderError(f"{flag} {folder}: {parent} is a file, not a folder")
            if not _can_write(parent):
                raise FolderError(f"{flag} {folder}: {parent} is not writable (read-only "
                                  "folder or file system); choose another folder")
            return


def _can_write(folder: Path) -> bool:
    # A real probe: os.access is blind to read-only file systems and always true for root.
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        probe = folder / f".govsim-probe-{os.getpid()}-{secrets.token_hex(4)}"
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return False
    return True


def read_marker(folder: Path) -> dict | None:
    """The folder's marker, or None when it has none (or one govsim did not write)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("govsim") != "output folder" \
            or data.get("kind") not in KINDS:
        return None
    return data


def write_marker(folder: Path, kind: str, content: str | None = None) -> dict:
    """Mark ``folder`` as written by govsim (a ``kind`` folder, holding ``content``)."""
    from govsim import __version__

    data = {"govsim": "output folder", "kind": kind, "version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds")}
    if content is not None:
        data["content"] = content
    Path(folder).mkdir(parents=True, exist_ok=True)
    tmp = Path(folder) / f".{MARKER}.{secrets.token_hex(4)}.tmp"
    try:
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, Path(folder) / MARKER)
    finally:
        tmp.unlink(missing_ok=True)
    return data


@contextmanager
def staged(target: str | Path | Claim, kind: str | None = None) -> Iterator[Path]:
    """Write a whole folder beside ``target`` and swap it in only if the block succeeds.

    The block writes into the yielded temporary folder (marked as govsim's from the start).
    On success the previous ``target`` (if any) is replaced by it; on any error, Ctrl-C or
    a full disk, the temporary folder is removed and ``target`` is left as it was. A
    SIGKILL leaves a marked temporary folder that the next :func:`claim` removes.

    Args:
        target: the folder (or the :class:`Claim` for it).
        kind: what is written (default: the claim's kind).
    """
    content = found = None
    if isinstance(target, Claim):
        kind, content, found = kind or target.kind, target.content, target.found
        target = target.path
    target = Path(target)
    if kind is None:
        raise ValueError("staged() needs the folder's kind")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _beside(target, _STAGING)
    try:
        write_marker(tmp, kind, content)
        yield tmp
        # another command may have written the folder since the claim (two at once)
        with _lock(target.parent / f".{target.name}{LOCK}", target, wait=True):
            _check_unchanged(target, kind, content, found)
            swap_in(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _check_unchanged(target: Path, kind: str, content: str | None, found: str | None) -> None:
    """Refuse to swap over a result of other content that appeared after the claim
    (``found``: the content there at the claim, which the claim allowed to be replaced)."""
    if content is None or not target.exists():
        return
    marker = read_marker(target)
    now = None if marker is None else marker.get("content")
    if marker is not None and marker.get("kind") == kind and now not in (content, found):
        raise FolderError(_other_content("--out", target, kind, "")
                          + " (it was written while this one ran)")


def swap_in(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target``, the old ``target`` (if any) removed.

    Two renames: between them ``target`` is briefly absent and the old folder sits beside it
    under a temporary name, from which :func:`tidy_leftovers` restores it after a kill.
    """
    if target.exists():
        old = _beside(target, _OLD, create=False)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)


def tidy_leftovers(target: Path) -> None:
    """Remove temporary folders a killed command left beside ``target`` (only govsim's own),
    restoring the previous folder if the kill fell between the two renames of a swap."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    for leftover in sorted(target.parent.glob(f".{glob.escape(target.name)}.*-*")):
        role, _, rest = leftover.name[len(target.name) + 2:].partition("-")
        pid = rest.partition("-")[0]
        if role not in (_STAGING, _OLD) or read_marker(leftover) is None \
                or (pid.isdigit() and _alive(int(pid))):
            continue
        if role == _OLD and not target.exists():
            os.rename(leftover, target)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (its temporary folder is then in use)."""
    if pid == os.getpid():
        return False  # ours, from an earlier call that failed: not in use any more
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _beside(target: Path, role: str, create: bool = True) -> Path:
    path = target.parent / _beside_name(target, role, str(os.getpid()))
    if create:
        path.mkdir()
    return path


def _beside_name(target: Path, role: str, pid: str) -> str:
    return f".{target.name}.{role}-{pid}-{secrets.token_hex(4)}"


def _entries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


@contextmanager
def locked(folder: str | Path, what: str = "govsim command") -> Iterator[None]:
    """Hold ``folder``'s lock while writing in place; the lock file goes on every exit.

    Raises:
        FolderError: another govsim process holds the lock.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder / LOCK, folder, what):
        yield


@contextmanager
def _lock(path: Path, folder: Path, what: str = "govsim command",
          wait: bool = False) -> Iterator[None]:
    """Hold the lock file ``path`` (for ``folder``); the file goes on every exit.

    Args:
        wait: wait for another holder (for a moment's work such as a swap) instead of
            refusing.

    Raises:
        FolderError: another govsim process holds it (when not waiting).
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one command per folder, please
        yield
        return
    while True:
        handle = open(path, "a+")  # noqa: SIM115 (closed below, on every path)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            handle.close()
            raise FolderError(f"{folder}: another {what} is writing to this folder; wait for "
                              "it, or choose another --out") from None
        # the holder before us may have removed the file between our open and our lock
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
