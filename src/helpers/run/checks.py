"""`workbook check`: will this run start? Everything a run reads before its first result.

:func:`check_run` loads the parameter file (YAML pitfalls, types, unknown keys, mapping keys
that are not canonical names) and then, collecting every problem instead of stopping at the
first one:

* opens every input file the parameters name (account list or the deals / subscriptions it is
  built from, previous account list, enrichment sources, tickets, usage, prospects,
  worksheet, industry map) and checks that the mapped and
  required columns and the join keys exist and that the exclusion rules leave enough accounts;
* loads the hypothesis register (unique ids, measure columns some input provides,
  ``positive_category`` values present in the data);
* checks the parameters that name a column or a hypothesis variable (forced tree root,
  regression split, survey columns to cluster, money columns);
* checks the runs named for the comparisons (``previous_run``,
  ``quarterly.previous_quarter_run``): they exist, are complete and of the same lineage.

Each problem is a :class:`Finding`: an error (the run would stop) or a warning (the run
starts; the report will say it).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from helpers.collect.labels import as_labels, positive_category_of, resolve_category
from helpers.core.errors import WorkbookError
from helpers.core.params import Params, mapping_problems
from helpers.core.params import load as load_params

JOIN_KEY = {"account_id": ("account_id",), "domain": ("domain",),
            "name": ("account_name", "company_name", "name")}
#: columns the ticket and usage summaries add to the analysis table
SUMMARY_COLUMNS = {"tickets": ("tickets", "ticket_minutes"),
                   "usage": ("months_active", "avg_active_users", "avg_sessions",
                             "avg_feature_adoption", "usage_trend")}


@dataclass(frozen=True)
class Finding:
    """One problem found by the check: ``level`` error (the run would stop) or warning."""

    level: Literal["error", "warning"]
    where: str
    message: str


def positive_category_problems(register: pd.DataFrame,
                               values: Mapping[str, Iterable[object]]) -> list[tuple[str, str]]:
    """The hypotheses whose ``positive_category`` matches no value of their measure column.

    A category matches a value as the analysis matches it, by the one definition of
    :func:`helpers.collect.labels.resolve_category` on the labels
    :func:`~helpers.collect.labels.as_labels` reads (any yes/no word for a boolean: Y/N, 1/0,
    TRUE/FALSE; surrounding spaces and, for a single label, case ignored for a category), so
    ``workbook check`` and Step 3 (:func:`helpers.collect.hypotheses.check_positive_categories`)
    agree.

    Parameters
    ----------
    register
        The hypothesis register (``id``, ``kind``, ``positive_category``, ``measure_type``,
        ``measure``).
    values
        Column -> the values the inputs hold. Columns absent from it, or without a readable
        value, are not judged (Step 3 skips them too).

    Returns
    -------
    list of (str, str)
        ``(hypothesis id, message)`` per categorical / boolean hypothesis whose category
        matches no value, with the closest value and the values found.
    """
    out = []
    for r in register.itertuples(index=False):
        cat, kind = positive_category_of(r), str(r.kind)
        if kind not in ("categorical", "boolean") or cat is None \
                or r.measure_type != "column" or r.measure not in values:
            continue
        labels = as_labels(pd.Series(list(values[r.measure]), dtype=object), kind)
        found = sorted(map(str, labels.dropna().unique()))
        if not found or resolve_category(cat, kind, found) is not None:
            continue
        by_key = {label.casefold(): label for label in found}
        close = difflib.get_close_matches(cat.casefold(), list(by_key), n=1, cutoff=0.6)
        shown = ", ".join(found[:8]) + (" ..." if len(found) > 8 else "")
        out.append((str(r.id), f"positive_category '{cat}' is not a value of column "
                    f"'{r.measure}'" + (f" (did you mean '{by_key[close[0]]}'?)" if close else "")
                    + f"; values: {shown}"))
    return out


def _measure_problems(register: pd.DataFrame, available: set[str]) -> list[Finding]:
    """Measure expressions that do not parse (error) and measure columns no input provides: a
    close name is a typo (error); otherwise the hypothesis will be sent back to Step 2
    (warning) unless a worksheet fills it."""
    from helpers.collect import hypotheses

    out, parts = [], []
    for i in range(len(register)):  # an expression that does not parse stops Step 3
        entry = register.iloc[[i]]
        try:
            parts.append(hypotheses.measure_columns(entry))
        except WorkbookError as exc:
            out.append(Finding("error", f"hypotheses {entry['id'].iloc[0]}", str(exc)))
    cols = (pd.concat(parts, ignore_index=True) if parts
            else hypotheses.measure_columns(register.head(0)))
    cols = cols.merge(register[["id", "collection"]], on="id")
    derived = set(register["variable"].astype(str))
    for r in cols.itertuples(index=False):
        col = str(r.source_column)
        if col in available or col in derived or r.collection == "none" or \
                hypotheses.resolve_column(col, available) is not None:  # an export's own name
            continue
        close = difflib.get_close_matches(col, sorted(available), n=1, cutoff=0.8)
        where = f"hypotheses {r.id} ({r.variable})"
        if close:
            out.append(Finding("error", where, f"column '{col}' is in no input (did you mean "
                                               f"'{close[0]}'?)"))
        else:
            out.append(Finding("warning", where, f"column '{col}' is in no input: the "
                               "hypothesis will be sent back to Step 2 unless the collection "
                               "worksheet fills it"))
    return out


def _valid_entries(path: Path) -> pd.DataFrame | None:
    """The register table of the entries of ``path`` that are valid on their own (one per
    id), for the data checks when the register as a whole is not; None if there is none."""
    import yaml

    from helpers.collect import hypotheses

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    entries = data.get("hypotheses") if isinstance(data, dict) else data
    frames = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            frames.append(hypotheses.validate_register([entry]))
        except WorkbookError:
            continue
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True).drop_duplicates("id").drop_duplicates(
        "variable").reset_index(drop=True)


def _named_columns(params: Params, register: pd.DataFrame | None, available: set[str],
                   survey_columns: set[str] | None) -> list[Finding]:
    """Parameters that name a column or a hypothesis variable where one is expected: the
    forced tree root and the regression split (a register variable; a misspelt split would be
    skipped silently, a forced root stops Step 4), the survey columns to cluster (they stop
    Step 4 when absent) and the money columns (text money parsed in Step 3)."""
    variables = set(register["variable"].astype(str)) if register is not None else set()
    out = []

    def judge(key: str, name: str, known: Iterable[str], what: str,
              level: Literal["error", "warning"] = "error") -> None:
        known = sorted(known)
        if name in known:
            return
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        out.append(Finding(level, key, f"'{name}' is not {what}"
                           + (f" (did you mean '{close[0]}'?)" if close else "")))

    a = params.analysis
    if register is not None and a.tree.forced_root:
        judge("analysis.tree.forced_root", a.tree.forced_root, variables,
              "a hypothesis variable")
    if register is not None and a.regression.split_by and \
            "split_by" in a.regression.model_fields_set:
        judge("analysis.regression.split_by", a.regression.split_by, variables,
              "a hypothesis variable")
    if survey_columns is not None:
        for name in params.segments.needs_columns:
            judge("segments.needs_columns", name, survey_columns, "a column of the survey")
    if "money_columns" in params.collection.model_fields_set:
        for name in params.collection.money_columns:
            judge("collection.money_columns", name, available, "a column of the inputs",
                  "warning")
    return out


def _attempt(findings: list[Finding], where: str, fn: Callable[[], Any]) -> Any:
    """``fn()``, or None with an error finding when it raises a workbook error."""
    try:
        return fn()
    except WorkbookError as exc:
        findings.append(Finding("error", where, str(exc)))
        return None


def _lineage(params: Params) -> str:
    return params.lineage or params.charter.project


def _check_named_runs(params: Params, run_id: str | None, findings: list[Finding],
                      account_ids: pd.Series | None) -> None:
    from helpers.analyse import quarterly
    from helpers.run.runs import list_runs

    named = {"previous_run": params.previous_run,
             "quarterly.previous_quarter_run": params.quarterly.previous_quarter_run}
    if not any(named.values()):
        return
    runs = list_runs()
    _attempt(findings, "previous runs", lambda: quarterly.resolve_comparisons(
        run_id or "(this run)", params.as_of.isoformat(), runs, previous=params.previous_run,
        previous_quarter=params.quarterly.previous_quarter_run))
    lineage = _lineage(params)
    for key, name in named.items():
        row = runs.loc[runs["run_id"].astype(str) == str(name)] if name and len(runs) else []
        if not len(row):
            continue
        if str(row["lineage"].iloc[0]) != lineage:
            findings.append(Finding("warning", key, f"run '{name}' belongs to lineage "
                                    f"'{row['lineage'].iloc[0]}', this run to '{lineage}'"))
        if account_ids is not None and not quarterly.shares_accounts(str(name), account_ids):
            findings.append(Finding("warning", key, f"run '{name}' has no account id in common "
                                    "with this export: its comparison would describe two "
                                    "different account lists"))


@dataclass
class _Seen:
    """What the inputs opened so far hold: their columns, the text values of each column
    (for the ``positive_category`` check) and the survey's columns (None: no survey)."""

    available: set[str] = field(default_factory=set)
    values: dict[str, list[object]] = field(default_factory=dict)
    survey_columns: set[str] | None = None

    def take(self, df: pd.DataFrame | None) -> None:
        """Note the columns and text values of ``df`` (None: nothing was read)."""
        if df is None:
            return
        self.available.update(map(str, df.columns))
        for col in df.columns:
            if not pd.api.types.is_numeric_dtype(df[col]):
                self.values.setdefault(str(col), []).extend(pd.unique(df[col].dropna()))


def _check_account_list(params: Params, findings: list[Finding], seen: _Seen
                        ) -> tuple[pd.DataFrame, list[str]] | None:
    """Build the account list (from the export, or the deals / subscriptions) and check that
    the exclusion rules leave enough accounts; returns (accounts, warnings) or None."""
    from helpers.setup import customers

    inp = params.inputs
    where, load = "inputs.accounts", lambda: customers.prepare_accounts(
        customers.read_account_export(inp.accounts), inp.accounts, params.exclusions,
        params.currency, params.as_of)
    if inp.deals is not None or inp.subscriptions is not None:
        from helpers.setup import deals

        where = "inputs.deals" if inp.deals is not None else "inputs.subscriptions"

        def load() -> tuple[pd.DataFrame, list[str]]:
            built = deals.build_account_list(deals.read_account_records(inp),
                                             params.exclusions, params.currency, params.as_of)
            return built.accounts, built.warnings

    accounts = _attempt(findings, where, load)
    if accounts is not None:
        seen.take(accounts[0])
        findings += [Finding("warning", where, w) for w in accounts[1]]
        _attempt(findings, "exclusions", lambda: customers.check_enough_accounts(
            customers.apply_exclusions(accounts[0], params.exclusions, params.as_of), params))
    return accounts


def _check_join_sources(params: Params, findings: list[Finding], seen: _Seen) -> None:
    """Open the previous account list and the enrichment sources (firmographics, survey):
    each must have the column it joins on."""
    from helpers.core.io import read_table

    inp = params.inputs
    if inp.previous_accounts is not None:
        _attempt(findings, "inputs.previous_accounts", lambda: read_table(
            inp.previous_accounts, what="previous_accounts", required=("account_id",)))
    for role in ("firmographics", "survey"):
        src = getattr(inp, role)
        if src is None:
            continue
        df = _attempt(findings, f"inputs.{role}", lambda src=src, role=role: read_table(
            src, what=role))
        if df is None:
            continue
        seen.take(df)
        if role == "survey":
            seen.survey_columns = set(map(str, df.columns))
        keys = JOIN_KEY[src.join_on]
        if not set(keys) & set(df.columns):
            findings.append(Finding("error", f"inputs.{role}", f"no '{keys[0]}' column to join "
                                    f"on (join_on: {src.join_on}); map one: inputs.{role}."
                                    f"mapping.{keys[0]}: '<column>' (columns: "
                                    f"{', '.join(map(str, list(df.columns)[:20]))})"))


def _check_other_inputs(params: Params, findings: list[Finding], seen: _Seen) -> None:
    """Scan the tickets and usage, open the prospects, the worksheet and the industry map."""
    from helpers.collect import read, sources
    from helpers.core.io import read_source_frame, read_table

    inp = params.inputs
    if inp.tickets is not None and _attempt(findings, "inputs.tickets", lambda: (
            sources.ticket_counts(inp.tickets, params.as_of,
                                  params.collection.ticket_window_days))) is not None:
        seen.available.update(SUMMARY_COLUMNS["tickets"])
    if inp.usage is not None and _attempt(findings, "inputs.usage", lambda: (
            sources.usage_summary(inp.usage, params.as_of,
                                  params.collection.usage_window_months))) is not None:
        seen.available.update(SUMMARY_COLUMNS["usage"])
    if inp.prospects is not None:
        _attempt(findings, "inputs.prospects", lambda: read_table(inp.prospects,
                                                                  what="prospects"))
    if inp.worksheet is not None:
        ws = _attempt(findings, "inputs.worksheet", lambda: read_source_frame(inp.worksheet))
        missing = [c for c in ("account_id", "field", "value") if ws is not None
                   and c not in ws.columns]
        if missing:
            findings.append(Finding("error", "inputs.worksheet", f"worksheet column(s) missing: "
                                    f"{missing}; use the file written by Step 3"))
    if inp.industry_map:
        imap = _attempt(findings, "inputs.industry_map",
                        lambda: read.read_industry_map(inp.industry_map))
        if imap:
            seen.values.setdefault("industry", []).extend(imap.values())


def _check_register(params: Params, findings: list[Finding], seen: _Seen,
                    with_data: bool) -> pd.DataFrame | None:
    """Load the hypothesis register (its valid entries when some are not) and, ``with_data``
    (an account list was read), check its measure columns and positive categories."""
    from helpers.collect.read import read_register
    from helpers.core.paths import resolve

    path = resolve(params.hypotheses.register_file)
    register = _attempt(findings, "hypotheses.register_file",
                        lambda: read_register(path))
    if register is None:  # still check the data against the entries that are valid
        register = _valid_entries(path)
    if register is not None and with_data:
        findings += _measure_problems(register, seen.available)
        findings += [Finding("error", f"hypotheses {hid}", msg)
                     for hid, msg in positive_category_problems(register, seen.values)]
    return register


def check_run(params_path: str | Path, run_id: str | None = None
              ) -> tuple[Params | None, list[Finding]]:
    """Every problem a run of ``params_path`` would meet before its first result (see the
    module docstring). Returns the parameters (None when the file itself is not valid) and
    the findings, errors first.

    Parameters
    ----------
    params_path
        The parameter file.
    run_id
        The run id it is checked for (a run is never its own previous run); None: a new run.

    Returns
    -------
    tuple of (Params or None, list of Finding)
        The parameters and the findings.
    """
    findings: list[Finding] = []
    params = _attempt(findings, "parameters",
                      lambda: load_params(params_path, check_mappings=False))
    if params is None:
        return None, findings
    findings += [Finding("error", "parameters", line.strip().removeprefix("- "))
                 for line in mapping_problems(params)]
    seen = _Seen()
    accounts = _check_account_list(params, findings, seen)
    _check_join_sources(params, findings, seen)
    _check_other_inputs(params, findings, seen)
    register = _check_register(params, findings, seen, with_data=accounts is not None)
    if accounts is not None:
        findings += _named_columns(params, register, seen.available, seen.survey_columns)
    _check_named_runs(params, run_id, findings,
                      accounts[0]["account_id"] if accounts is not None else None)
    findings.sort(key=lambda f: f.level != "error")  # stable: errors first, in check order
    return params, findings


def format_findings(params_path: str | Path, params: Params | None,
                    findings: list[Finding]) -> str:
    """The text ``workbook check`` prints: every finding, then the verdict.

    Parameters
    ----------
    params_path
        The parameter file, as given.
    params
        Its parameters (None when not valid).
    findings
        What :func:`check_run` found.

    Returns
    -------
    str
        One line per finding, then ``valid`` (with the parameters hash) or ``NOT valid``.
    """
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    lines = []
    for f in findings:
        body = f.message.replace("\n", "\n      ")
        lines.append(f"{f.level}: {f.where}: {body}")
    if errors:
        lines.append(f"{params_path}: NOT valid: {errors} error(s), {warnings} warning(s); "
                     "the run would stop")
    else:
        from helpers.core.params import params_hash

        assert params is not None
        lines.append(f"{params_path}: valid (as_of {params.as_of}, hash "
                     f"{params_hash(params)[:12]})"
                     + (f"; {warnings} warning(s)" if warnings else ""))
    return "\n".join(lines)
