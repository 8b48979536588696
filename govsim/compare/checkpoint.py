"""Finished runs of a comparison, kept on disk until its report is written.

An interrupted ``govsim compare`` (Ctrl-C, a kill, a crash, a full disk) loses none of its
finished runs: each is written as one Arrow file, as soon as it arrives, to a folder
beside the report's (``.<name>.unfinished``). The same command run again reads them back
and runs only the rest; the folder goes once the report is in place.

A file is named by a hash of exactly what decides the run's numbers: the scenario as run
(with its posterior draw, if any), its seed and the model's code. So a kept run is reused
only where running it again would give the same numbers, whatever the command line around
it; the runs of an edited scenario, or of a changed model, are simply run again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pyarrow import feather

from govsim import folders
from govsim.naming import fingerprint
from govsim.output import atomic_path
from govsim.provenance import model_code_fingerprint
from govsim.scenario import Scenario

SUFFIX = "unfinished"
KEY_CHARS = 32  # a kept run must never be taken for another: 128 bits, not a folder's 32


class Checkpoint:
    """The finished runs of a comparison that will be written to ``target``.

    Args:
        target: the comparison's output folder; the runs are kept beside it.
    """

    def __init__(self, target: Path):
        target = Path(target)
        self.folder = target.parent / f".{target.name}.{SUFFIX}"
        self._model = model_code_fingerprint()

    def load(self, scenario: Scenario, seed: int) -> pd.DataFrame | None:
        """The kept time series of this run, or ``None`` if it has not finished before."""
        path = self._path(scenario, seed)
        try:
            return feather.read_table(path).to_pandas()
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a damaged file (a full disk): run it again
            path.unlink(missing_ok=True)
            return None

    def save(self, scenario: Scenario, seed: int, timeseries: pd.DataFrame) -> None:
        """Keep one finished run (written whole or not at all)."""
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            folders.write_marker(self.folder, "compare")
        # Arrow's own file format, built from the columns' arrays: a fifth of the time of
        # pandas' Parquet writer (pandas metadata, compression), and this runs in the
        # process that also dispatches the runs. The monthly series has a plain 0..n index.
        table = pa.table({column: timeseries[column].to_numpy() for column in timeseries})
        with atomic_path(self._path(scenario, seed)) as tmp:
            feather.write_feather(table, tmp, compression="uncompressed")

    def count(self) -> int:
        """How many finished runs are kept (of any comparison written to this target)."""
        return len(list(self.folder.glob("run-*.arrow"))) if self.folder.is_dir() else 0

    def remove(self) -> None:
        """Drop the kept runs (once the report is written); only a folder govsim marked."""
        if self.folder.is_dir() and folders.read_marker(self.folder) is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, scenario: Scenario, seed: int) -> Path:
        key = fingerprint({"scenario": scenario.model_dump(exclude={"description"}),
                           "seed": int(seed), "model": self._model}, chars=KEY_CHARS)
        return self.folder / f"run-{key}.arrow"
