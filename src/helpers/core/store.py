"""Results pass between notebooks as files: data/processed/<run_id>/ holds Parquet tables and
small JSON documents, listed in ``manifest.json`` (name, rows, SHA-256, the notebook that wrote
it, the function that produced it). Notebooks never hand results on through their outputs.

Every name is checked against the table catalog (:mod:`helpers.core.catalog`): writing or
reading a name that is not there, or a table as a document, is an error naming the catalog.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.core import catalog
from helpers.core.errors import RunError
from helpers.core.paths import processed_root, report_dir, run_dir

MANIFEST = "manifest.json"
#: what the store calls each kind of the catalog in its messages
_KIND_WORD = {"table": "a table (write / read)", "document": "a document (write_json / read_json)",
              "manifest": "the manifest (written by the store itself)"}
#: set by `workbook run` (helpers.run.chain) to the run id it builds
STAGING_ENV = "WORKBOOK_STAGING"
STAGING_DIR = ".staging"


def staging_dir(run_id: str) -> Path:
    """Where `workbook run` builds a run before moving it into place:
    data/processed/.staging/<run_id>/ with ``data/`` and ``reports/`` inside."""
    return processed_root() / STAGING_DIR / run_id


def staged(run_id: str) -> bool:
    """True while the chain builds ``run_id`` in its staging folder (this process or kernel)."""
    return os.environ.get(STAGING_ENV) == run_id


def run_path(run_id: str) -> Path:
    """The folder a run's tables are written to: data/processed/<run_id>/, or its staging
    ``data/`` folder while `workbook run` builds it (JupyterLab writes in place)."""
    return staging_dir(run_id) / "data" if staged(run_id) else run_dir(run_id)


def report_path(run_id: str) -> Path:
    """The folder a run's report is written to: reports/<run_id>/, or its staging
    ``reports/`` folder while `workbook run` builds it."""
    return staging_dir(run_id) / "reports" if staged(run_id) else report_dir(run_id)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj: Any) -> str:
    """Deterministic JSON (sorted keys, indented) used for every JSON the workbook writes."""
    return json.dumps(obj, indent=2, sort_keys=True, default=_json_default, ensure_ascii=False)


def _produced_by(name: str) -> str:
    """Which notebook and function write ``name`` (for a missing table's message)."""
    found = catalog.entry(name)
    when = f" It is written only when {found.only_when}." if found.optional else ""
    return (f"Run the notebook that produces it first: {found.notebook} "
            f"({found.producer}).{when}")


class RunStore:
    """Read and write the tables of one run.

    >>> store = RunStore("2026Q3")            # data/processed/2026Q3/
    >>> store.write("scored_accounts", df)    # -> scored_accounts.parquet, listed in manifest
    >>> store.read("scored_accounts")
    """

    def __init__(self, run_id: str, root: Path | None = None) -> None:
        self.run_id = run_id
        self.path = Path(root) if root is not None else run_path(run_id)

    # ------------------------------------------------------------------ manifest
    def manifest(self) -> dict[str, Any]:
        """The run's manifest.json (an empty one before anything is written).

        Returns
        -------
        dict
            ``run_id``, ``tables``, ``documents`` and the run record's fields.
        """
        p = self.path / MANIFEST
        if not p.exists():
            return {"run_id": self.run_id, "tables": {}, "documents": {}}
        return json.loads(p.read_text(encoding="utf-8"))

    def _record(self, kind: str, name: str, entry: dict[str, Any]) -> None:
        m = self.manifest()
        m.setdefault(kind, {})[name] = entry
        _atomic_write_bytes(self.path / MANIFEST, dumps(m).encode())

    def update_manifest(self, **fields: Any) -> None:
        """Set top-level manifest fields (run metadata, input hashes, status...)."""
        m = self.manifest()
        m.update(fields)
        _atomic_write_bytes(self.path / MANIFEST, dumps(m).encode())

    # ------------------------------------------------------------------ catalog
    @staticmethod
    def entry(name: str, kind: str) -> catalog.Entry:
        """The catalog entry of ``name``, which must be of ``kind``.

        Parameters
        ----------
        name
            A table or document name.
        kind
            ``table`` or ``document``: what the caller is about to write or read.

        Returns
        -------
        helpers.core.catalog.Entry
            Raises :class:`helpers.core.catalog.UnknownTableError` for a name not in the
            catalog and :class:`RunError` for a name of the other kind.
        """
        found = catalog.entry(name)
        if found.kind != kind:
            raise RunError(f"'{name}' is {_KIND_WORD[found.kind]} in the table catalog "
                           f"(helpers.core.catalog), not {_KIND_WORD[kind]}.")
        return found

    # ------------------------------------------------------------------ tables
    def table_path(self, name: str) -> Path:
        """Where the table ``name`` (a catalog name) is stored."""
        return self.path / self.entry(name, "table").file

    def write(self, name: str, df: pd.DataFrame, *, step: str | None = None,
              csv: bool = False) -> Path:
        """Write a table of the catalog as Parquet (and optionally CSV), atomically, and list
        it in the manifest with its producer.

        Parameters
        ----------
        name
            A table of the catalog (another name raises, naming the catalog).
        df
            The table.
        step
            The notebook writing it (recorded in the manifest).
        csv
            Also write ``<name>.csv`` (formula-injection safe).

        Returns
        -------
        Path
            The Parquet file.
        """
        path = self.table_path(name)
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"{name}: expected a DataFrame, got {type(df).__name__}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        if csv:
            from helpers.core.export import safe_csv  # local import: export depends on pandas only

            safe_csv(df, path.with_suffix(".csv"))
        self._record("tables", name, {"file": path.name, "rows": int(len(df)),
                                      "columns": [str(c) for c in df.columns],
                                      "sha256": sha256_file(path), "step": step,
                                      "producer": catalog.entry(name).producer})
        return path

    def read(self, name: str) -> pd.DataFrame:
        """A table of the run.

        Parameters
        ----------
        name
            A table of the catalog; a missing one raises, naming the notebook and
            function that write it.

        Returns
        -------
        DataFrame
        """
        path = self.table_path(name)
        if not path.exists():
            raise RunError(f"run '{self.run_id}' has no table '{name}' ({path}). "
                           f"{_produced_by(name)}")
        return pd.read_parquet(path)

    def has(self, name: str) -> bool:
        """True when the run holds the table or document ``name`` (a catalog name)."""
        return (self.path / catalog.entry(name).file).exists()

    # ------------------------------------------------------------------ documents
    def document_path(self, name: str) -> Path:
        """Where the document ``name`` (a catalog name) is stored."""
        return self.path / self.entry(name, "document").file

    def write_json(self, name: str, obj: Any, *, step: str | None = None) -> Path:
        """Write a document of the catalog as JSON, atomically, and list it in the manifest
        with its producer.

        Parameters
        ----------
        name
            A document of the catalog (another name raises, naming the catalog).
        obj
            Anything :func:`dumps` can write.
        step
            The notebook writing it (recorded in the manifest).

        Returns
        -------
        Path
            The JSON file.
        """
        path = self.document_path(name)
        _atomic_write_bytes(path, dumps(obj).encode())
        self._record("documents", name, {"file": path.name, "step": step,
                                         "producer": catalog.entry(name).producer})
        return path

    def read_json(self, name: str) -> Any:
        """A document of the run.

        Parameters
        ----------
        name
            A document of the catalog; a missing one raises, naming the notebook and
            function that write it.

        Returns
        -------
        Any
            The parsed JSON.
        """
        path = self.document_path(name)
        if not path.exists():
            raise RunError(f"run '{self.run_id}' has no document '{name}' ({path}). "
                           f"{_produced_by(name)}")
        return json.loads(path.read_text(encoding="utf-8"))
