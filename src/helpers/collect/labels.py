"""Category labels that look like typos of a known one (``technolgy`` for Technology,
``Sofware`` for Software), suggested with the line that fixes them.

Industry labels the industry map does not know are compared with the map's labels and
canonical industries; the labels of every other categorical hypothesis field are compared with
that field's more frequent labels. A match needs ``collection.typo_similarity``
(difflib ratio, case ignored). Nothing is changed: the suggestions go to Step 3's
``label_suggestions`` table, the quality report, the run's warnings and the report's
data-gaps section, and the analyst adds the line to the industry map (or fixes the export).

How the analysis reads category labels is also defined here: boolean-ish columns as "yes" /
"no", other categories as stripped text (``as_labels``), and the category a hypothesis names
(``positive_category``) matched to the labels found (``resolve_category``). pandas only, so
Steps 2-3 can use it without loading Step 4's statistics libraries.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

import pandas as pd

COLUMNS = ["field", "label", "rows", "suggestion", "fix"]


def _yaml_key(label: str) -> str:
    return f'"{label}"' if any(ch in label for ch in ":#{}[],&*?|<>=!%@`'\"") else label


def industry_suggestions(unmapped: pd.DataFrame, industry_map: Mapping[str, str],
                         similarity: float, map_path: str | None = None) -> pd.DataFrame:
    """Unmapped industry labels close to a label or canonical industry of the map.

    Parameters
    ----------
    unmapped : pd.DataFrame
        The unmapped industry labels (label, rows).
    industry_map : Mapping[str, str]
        Raw label -> canonical industry.
    similarity : float
        The least similarity (0-1) of a suggestion.
    map_path : str or None
        The map file, named in the fix.

    Returns
    -------
    pd.DataFrame
        One row per suggestion.
    """
    known: dict[str, str] = {}
    for raw, canon in industry_map.items():
        known.setdefault(str(raw).casefold(), str(canon))
        known.setdefault(str(canon).casefold(), str(canon))
    rows = []
    if len(unmapped) and known:
        # the map ignores case: one line fixes every spelling that differs only in case
        um = unmapped.assign(key=unmapped["label"].astype(str).str.casefold())
        per = um.groupby("key", sort=True).agg(label=("label", "first"), n=("rows", "sum"))
        for label, n in zip(per["label"], per["n"], strict=True):
            hit = difflib.get_close_matches(str(label).casefold(), list(known), n=1,
                                            cutoff=similarity)
            if hit:
                canon = known[hit[0]]
                where = f" of {map_path}" if map_path else " of the industry map"
                rows.append({"field": "industry", "label": str(label), "rows": int(n),
                             "suggestion": canon,
                             "fix": f"add the line `{_yaml_key(str(label))}: {canon}` to the "
                                    f"industry map (inputs.industry_map{where})"})
    return pd.DataFrame(rows, columns=COLUMNS)


def field_suggestions(table: pd.DataFrame, fields: list[str], similarity: float
                      ) -> pd.DataFrame:
    """Labels of categorical ``fields`` close to a more frequent label of the same field.

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table.
    fields : list[str]
        The categorical fields.
    similarity : float
        The least similarity (0-1).

    Returns
    -------
    pd.DataFrame
        One row per suggestion.
    """
    rows = []
    for field in fields:
        if field not in table.columns:
            continue
        counts = table[field].dropna().astype(str).str.strip().value_counts()
        counts = counts[counts.index != ""]
        labels = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for i, (label, n) in enumerate(labels):
            bigger = {other.casefold(): other for other, m in labels[:i] if m > n}
            bigger.pop(label.casefold(), None)
            hit = difflib.get_close_matches(label.casefold(), list(bigger), n=1,
                                            cutoff=similarity)
            if hit:
                rows.append({"field": field, "label": label, "rows": int(n),
                             "suggestion": bigger[hit[0]],
                             "fix": f"correct '{label}' to '{bigger[hit[0]]}' in the source "
                                    f"of {field}"})
    return pd.DataFrame(rows, columns=COLUMNS)


def suggestions(table: pd.DataFrame, register: pd.DataFrame, unmapped: pd.DataFrame,
                industry_map: Mapping[str, str], similarity: float,
                map_path: str | None = None) -> pd.DataFrame:
    """Every suggestion of the run (the ``label_suggestions`` table).

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table.
    register : pd.DataFrame
        The register rows.
    unmapped : pd.DataFrame
        The unmapped industry labels.
    industry_map : Mapping[str, str]
        Raw label -> canonical industry.
    similarity : float
        The least similarity (0-1).
    map_path : str or None
        The map file, named in the fix.

    Returns
    -------
    pd.DataFrame
        The ``label_suggestions`` table.
    """
    from helpers.collect.hypotheses import measure_columns

    cols = measure_columns(register).merge(register[["id", "kind"]], on="id")
    mapped = cols["source_column"].eq("industry") if industry_map else False
    cat = cols[cols["kind"].eq("categorical") & ~mapped]
    fields = list(dict.fromkeys(cat["variable"]))
    return pd.concat([industry_suggestions(unmapped, industry_map, similarity, map_path),
                      field_suggestions(table, fields, similarity)], ignore_index=True)


def annotate_quality(quality: pd.DataFrame, found: pd.DataFrame, register: pd.DataFrame
                     ) -> pd.DataFrame:
    """The quality report with a ``label_typos`` column: the suggestions for the fields each
    hypothesis reads (empty where none).

    Parameters
    ----------
    quality : pd.DataFrame
        The quality report.
    found : pd.DataFrame
        The suggestions.
    register : pd.DataFrame
        The register rows.

    Returns
    -------
    pd.DataFrame
        The quality report with ``label_typos``.
    """
    from helpers.collect.hypotheses import measure_columns

    out = quality.copy()
    cols = measure_columns(register)
    text = {f: "; ".join(f"'{r.label}' -> '{r.suggestion}' ({r.rows} rows)"
                         for r in g.itertuples()) for f, g in found.groupby("field")}
    per_id: dict[str, list[str]] = {}
    for r in cols.itertuples():
        for f in (r.source_column, r.variable):
            if f in text and text[f] not in per_id.setdefault(r.id, []):
                per_id[r.id].append(text[f])
    if "id" in out.columns:
        out["label_typos"] = out["id"].map(lambda i: "; ".join(per_id.get(i, []))).astype(str)
    return out


# --------------------------------------------------------------------------- reading labels
BOOL_TRUE = frozenset({"true", "yes", "y", "1", "1.0", "t"})
BOOL_FALSE = frozenset({"false", "no", "n", "0", "0.0", "f"})


def as_bool(values: pd.Series) -> pd.Series:
    """A boolean-ish column as a nullable boolean (True/False/1/0/yes/no); others -> NA.

    Parameters
    ----------
    values : pd.Series
        The column.

    Returns
    -------
    pd.Series
        Nullable booleans, same index.
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    if pd.api.types.is_numeric_dtype(values):
        v = pd.to_numeric(values, errors="coerce")
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[v == 1] = True
        out[v == 0] = False
        return out
    low = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[low.isin(BOOL_TRUE).fillna(False).astype(bool)] = True
    out[low.isin(BOOL_FALSE).fillna(False).astype(bool)] = False
    return out


def as_labels(values: pd.Series, kind: str) -> pd.Series:
    """Categorical / boolean values as string labels ("yes"/"no" for booleans), NA kept.

    Parameters
    ----------
    values : pd.Series
        The column.
    kind : str
        The hypothesis kind (``boolean`` or ``categorical``).

    Returns
    -------
    pd.Series
        String labels, same index.
    """
    if kind == "boolean":
        b = as_bool(values)
        out = pd.Series(pd.NA, index=values.index, dtype="string")
        out[b.fillna(False).astype(bool)] = "yes"
        out[(~b).fillna(False).astype(bool)] = "no"
        return out
    out = values.astype("string").str.strip()
    return out.mask(out == "")


def resolve_category(positive: object, kind: str, labels: Iterable[str]) -> str | None:
    """The label among ``labels`` (as :func:`as_labels` gives them) that ``positive`` names,
    else None: for a boolean any yes/no word ("Yes", "TRUE", "1", "n"...) -> "yes" / "no";
    for a category the label written the same after trimming, else the one label equal to it
    ignoring case.

    Parameters
    ----------
    positive : object
        The ``positive_category`` as written.
    kind : str
        The hypothesis kind.
    labels : Iterable[str]
        The labels present.

    Returns
    -------
    str | None
        The label, or None.
    """
    found = [str(c) for c in labels]
    text = str(positive).strip()
    if kind == "boolean":
        low = text.lower()
        want = "yes" if low in BOOL_TRUE else "no" if low in BOOL_FALSE else None
        return want if want in found else None
    if text in found:
        return text
    same = [c for c in found if c.casefold() == text.casefold()]
    return same[0] if len(same) == 1 else None


def positive_category_of(hypothesis: object) -> str | None:
    """The ``positive_category`` of one register / hypotheses row (a Series, dict or named
    tuple); None when not given (blank or NA).

    Parameters
    ----------
    hypothesis : object
        One register row.

    Returns
    -------
    str | None
        The category, or None.
    """
    get = (hypothesis.get if hasattr(hypothesis, "get")
           else lambda k, d=None: getattr(hypothesis, k, d))
    value = get("positive_category", None)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None
