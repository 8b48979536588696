"""The optimisation folder: whose it is, who is writing to it, and writing it safely.

The folder holds the study (``study.db``, which a resume continues) and the results drawn
from it. It is never taken over silently:

- a folder holding other files, and no ``optimise.json`` of govsim's, is refused;
- a folder holding an optimisation of another problem, or of this one with other settings
  or another model version, is refused (choose another ``--out``);
- a folder holding this very optimisation is continued only with ``--resume``.

The folder rules, the marker and the lock that keeps two optimisations from writing to one
folder are those of every govsim output (:mod:`govsim.folders`). Every result file is
written to a temporary file and renamed into place; the folder of front scenarios is built
beside the old one and swapped in.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from govsim import folders
from govsim.optimise.problem import Prepared, ProblemError
from govsim.output import write_text
from govsim.provenance import model_code_fingerprint

MANIFEST = "optimise.json"
KIND = "govsim optimise"


def default_out(name: str) -> Path:
    return Path("out") / "optimise" / name


def claim(root: Path) -> None:
    """Refuse, before any work, a folder govsim may not write (a file, a system or read-only
    folder, a folder of someone else's files) by the rules of :mod:`govsim.folders`."""
    folders.claim(root, "optimise", in_place=True,
                  legacy=lambda path: (path / MANIFEST).is_file())


def fingerprint(prepared: Prepared) -> dict[str, str]:
    """What must match for a resume: the problem's settings, its base scenario's values and
    the model's code."""
    base = prepared.base.model_dump_json(exclude={"name", "description"}) \
        if prepared.base is not None else ""
    return {"problem": prepared.problem.settings_hash(),
            "scenario": hashlib.sha256(base.encode()).hexdigest()[:16],
            "model": model_code_fingerprint(prepared.model.function)}


def begin(root: Path, prepared: Prepared, resume: bool) -> bool:
    """Check the folder may hold this optimisation and claim it.

    Returns:
        True when an earlier session's study is continued.

    Raises:
        ProblemError: the folder holds something else, or this optimisation without
            ``--resume``.
    """
    problem = prepared.problem
    manifest_path = root / MANIFEST
    mine = fingerprint(prepared)
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        if manifest.get("kind") != KIND:
            raise ProblemError(f"{root}: {MANIFEST} is not govsim's; choose another --out")
        if manifest.get("problem") != problem.name or manifest.get("fingerprint") != mine:
            old = manifest.get("fingerprint", {})
            what = ("its problem file or settings differ from"
                    if manifest.get("problem") != problem.name
                    or old.get("problem") != mine["problem"] else
                    "its base scenario's values differ from"
                    if old.get("scenario") != mine["scenario"] else
                    "the model's code changed since")
            raise ProblemError(f"{root}: holds an optimisation of {manifest.get('problem')!r} "
                               f"and {what} this one; choose another --out (or delete that "
                               "folder to start again)")
        if not resume:
            raise ProblemError(f"{root}: already holds this optimisation; add --resume to "
                               "continue it (e.g. to more --trials), or choose another --out")
        return True
    foreign = [p.name for p in root.iterdir() if p.name not in (folders.LOCK, folders.MARKER)]
    if foreign:
        raise ProblemError(f"{root}: not empty and not a govsim optimisation folder (holds "
                           f"{', '.join(sorted(foreign)[:3])}); choose another --out")
    folders.write_marker(root, "optimise")
    write_text(root / "problem.toml", problem.text)
    write_text(manifest_path, json.dumps({
        "kind": KIND, "problem": problem.name, "source": problem.source,
        "fingerprint": mine, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["govsim", *sys.argv[1:]]) if sys.argv else "",
    }, indent=2) + "\n")
    return False


def replace_folder(path: Path, files: dict[str, str]) -> Path:
    """Make ``path`` a folder holding exactly ``files``: built beside it, then swapped in
    (:func:`govsim.folders.staged`; what a killed earlier swap left is tidied first)."""
    folders.tidy_leftovers(path)
    with folders.staged(path, "optimise") as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
    return path
