"""Output folders named for what was run, and the record of what was run kept in them.

A folder's name is readable (the scenario names) and exact (a short hash of everything that
decides the numbers: every parameter of every scenario, the seed and, for a comparison, the
replicates, and the model's code), so two different what-ifs, or one what-if run by two
versions of the model, never share a folder while running the same one again finds its own
folder. Beside the results, :func:`record` writes the exact command
line; the scenarios themselves are written as TOML by each command.

:func:`output_folder` only names a folder; creating, locking and replacing it is the job of
whatever writes into it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govsim.output import write_text
from govsim.scenario import Scenario

ROOT = Path("out")
COMMAND_FILE = "command.txt"
HASH_CHARS = 8  # 16**8: two different what-ifs share a name once in four billion
MAX_LABEL = 60  # characters of scenario names before they are counted instead of listed


def fingerprint(payload: Any, chars: int = HASH_CHARS) -> str:
    """A short, stable hash of JSON-able ``payload`` (key order does not matter), ``chars``
    hexadecimal digits long."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:chars]


def what_was_run(scenarios: Sequence[Scenario], **settings: Any) -> dict[str, Any]:
    """Everything that decides the numbers: each scenario's parameters (not its description)
    and the settings (seed, replicates, ...)."""
    return {"scenarios": [s.model_dump(exclude={"description"}) for s in scenarios],
            **settings}


def content_id(scenarios: Sequence[Scenario], **settings: Any) -> str:
    """A short hash of everything that decides a result's numbers: :func:`what_was_run`
    and the model's code. Folders record it, so a new result never replaces a different
    one unnoticed (:func:`govsim.folders.claim`)."""
    from govsim.provenance import model_code_fingerprint

    return fingerprint({**what_was_run(scenarios, **settings),
                        "model": model_code_fingerprint()})


def output_folder(kind: str, scenarios: Sequence[Scenario], root: Path = ROOT,
                  content: str | None = None, **settings: Any) -> Path:
    """The default folder of a command's results: ``root/kind/<names>-<hash>``.

    Args:
        kind: the command, e.g. ``"run"`` or ``"compare"``.
        scenarios: what it runs (for a comparison, the baseline first).
        root: the folder all outputs go under.
        content: their :func:`content_id`, when the caller has it already.
        settings: everything else that decides the numbers, e.g. ``seed=0, replicates=20``.

    Example: ``out/run/baseline-3f9a01c2``, ``out/compare/baseline-vs-stronger_law-1b2c3d4e``.
    """
    names = [_safe(s.name) for s in scenarios]
    label = names[0] if len(names) == 1 else f"{names[0]}-vs-{'-'.join(names[1:])}"
    if len(label) > MAX_LABEL:
        label = f"{names[0]}-vs-{len(names) - 1}-scenarios"
    return root / kind / f"{label}-{content or content_id(scenarios, **settings)}"


def command_line(argv: Sequence[str]) -> str:
    """The command as a user would type it again, ``govsim ...`` with every argument."""
    return shlex.join(["govsim", *argv])


def record(out: Path, argv: Sequence[str]) -> Path:
    """Write the exact command line into ``out`` (``command.txt``)."""
    return write_text(Path(out) / COMMAND_FILE, command_line(argv) + "\n")


def _safe(name: str) -> str:
    # scenario names are identifiers already; this keeps a folder name safe whatever they are
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "scenario"
