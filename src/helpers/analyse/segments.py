"""Synthesis, prioritisation and customer-success coverage of segments (method Step 4).

A segment is a named rule set: an AND of conditions ``(variable, op, value)`` on observable
fields, e.g. "business model = B2B and employees >= 500 and not hospital". Segments are applied
in priority order; an account takes the first segment whose rules it meets, else
"Rest of base" (:func:`assign`). Definitions round-trip through JSON (:func:`to_json`,
:func:`from_json`).

:func:`synthesise` builds the segments from 2-3 core variables (a forced-order tree: categories
split by level, numbers at a rounded threshold chosen per branch, so interactions such as
"B2B needs 500+ employees, B2C 100+" are one rule each), then merges segments that are too
small or too alike. :func:`segment_table` measures them against the method's criteria;
:func:`prioritise` picks 2-3 targets within the 25-50 % coverage band; :func:`coverage_model`
turns segment value into a success-coverage plan; :func:`composite_scheme` ranks accounts by
segment for the gains chart.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyse.lift import Scheme, top_label
from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.params import Coverage
from helpers.core.params import Segments as SegmentsParams

REST = "Rest of base"
OPS = ("==", "!=", ">=", ">", "<=", "<", "in", "not in")
_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}


# --------------------------------------------------------------------------- rules
def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(sorted((_py(v) for v in value), key=lambda v: (str(type(v)), v)))
    return _py(value)


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Condition:
    """One observable condition: ``variable op value``."""

    variable: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise InputDataError(f"unknown rule operator '{self.op}'", column=self.variable,
                                 hint=f"use one of {OPS}")
        object.__setattr__(self, "value", _hashable(self.value))

    def to_dict(self) -> dict:
        v = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"variable": self.variable, "op": self.op, "value": v}


@dataclass(frozen=True)
class Segment:
    """A named rule set (conditions are ANDed)."""

    id: str
    conditions: tuple[Condition, ...]
    name: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name or segment_name(self.conditions),
                "rule": rule_text(self.conditions),
                "conditions": [c.to_dict() for c in self.conditions]}

    @classmethod
    def from_dict(cls, d: Mapping) -> Segment:
        try:
            conds = tuple(Condition(c["variable"], c["op"], c["value"])
                          for c in d["conditions"])
            return cls(str(d["id"]), conds, d.get("name", ""))
        except KeyError as exc:
            raise InputDataError(f"segment definition lacks key {exc}",
                                 hint="each segment needs id and conditions "
                                      "[{variable, op, value}]") from None


def as_segments(defs: Sequence[Segment | Mapping]) -> list[Segment]:
    """Normalise segment definitions (Segment objects or dicts)."""
    out = [d if isinstance(d, Segment) else Segment.from_dict(d) for d in defs]
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids) or REST in ids:
        raise InputDataError(f"segment ids must be unique and not '{REST}': {ids}")
    return out


def to_json(defs: Sequence[Segment | Mapping]) -> str:
    """Segment definitions as JSON text (priority order kept)."""
    return json.dumps([s.to_dict() for s in as_segments(defs)], indent=2, ensure_ascii=False)


def from_json(text: str) -> list[Segment]:
    """Segment definitions from :func:`to_json` text."""
    return as_segments(json.loads(text))


def _label(variable: str) -> str:
    v = variable[3:] if variable.startswith("is_") else variable
    return v.replace("_", " ")


def _fmt(v: Any) -> str:
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
        return str(v)
    v = float(v)
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.3g}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:,.3g}k"
    return f"{v:,.0f}" if v == int(v) else f"{v:,.3g}"


def _is_bool_value(v: Any) -> bool:
    return isinstance(v, bool | np.bool_)


def condition_text(c: Condition) -> str:
    """Readable text of one condition ("employees ≥ 500", "not hospital")."""
    lab = _label(c.variable)
    if _is_bool_value(c.value) and c.op in ("==", "!="):
        positive = bool(c.value) == (c.op == "==")
        if c.variable.startswith("is_"):
            return lab if positive else f"not {lab}"
        return f"{lab}: {'yes' if positive else 'no'}"
    if c.op in ("in", "not in"):
        vals = ", ".join(_fmt(v) for v in c.value)
        return f"{lab} {'in' if c.op == 'in' else 'not in'} {{{vals}}}"
    return f"{lab} {_SYMBOL[c.op]} {_fmt(c.value)}"


def rule_text(conditions: Sequence[Condition]) -> str:
    """Readable rule ("business model = B2B and employees ≥ 500"); empty = all accounts."""
    return " and ".join(condition_text(c) for c in conditions) or "all accounts"


#: a generated segment name has at most this many words (more only to tell segments apart)
NAME_WORDS = 5
#: in a name, a category list longer than this shows its first values and "+n"
NAME_VALUES = 2


def _short_label(variable: str) -> str:
    """The variable's label for a name: a trailing "score" is dropped ("tech stack score" ->
    "tech stack")."""
    lab = _label(variable)
    short = lab[:-len(" score")] if lab.endswith(" score") else lab
    return short or lab


def _values_text(values: Sequence[Any]) -> str:
    vals = [_fmt(v) for v in values]
    extra = len(vals) - NAME_VALUES
    return "/".join(vals[:NAME_VALUES]) + (f" +{extra}" if extra > 0 else "")


def _name_token(c: Condition) -> str:
    """One condition in a name; a category value always comes with its variable
    ("industry: Retail", "uses competitor: No", "tech stack 7+", "non-hospital")."""
    lab = _short_label(c.variable)
    if _is_bool_value(c.value) and c.op in ("==", "!="):
        positive = bool(c.value) == (c.op == "==")
        if c.variable.startswith("is_"):
            return lab if positive else f"non-{lab}"
        return f"{lab}: {'yes' if positive else 'no'}"
    if c.op == "==":
        return f"{lab}: {_fmt(c.value)}"
    if c.op == "!=":
        return f"{lab}: not {_fmt(c.value)}"
    if c.op in (">=", ">"):
        return f"{lab} {_fmt(c.value)}+"
    if c.op in ("<", "<="):
        return f"{lab} {_SYMBOL[c.op]}{_fmt(c.value)}"
    if c.op == "in":
        return f"{lab}: {_values_text(c.value)}"
    return f"{lab}: not {_values_text(c.value)}"


def segment_name(conditions: Sequence[Condition]) -> str:
    """A generated name naming every condition ("business model: B2B, employees 500+,
    non-hospital"); :func:`short_names` picks the few conditions that tell segments apart."""
    return ", ".join(_name_token(c) for c in conditions) or "All accounts"


def _values(c: Condition) -> set | None:
    """The values a categorical condition allows (None: not a finite set)."""
    if c.op == "==":
        return {c.value}
    if c.op == "in":
        return set(c.value)
    return None


def _interval(c: Condition) -> tuple[float, bool, float, bool] | None:
    """(low, low included, high, high included) of a numeric condition; None otherwise."""
    v = c.value
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
        return None
    v = float(v)
    return {">=": (v, True, math.inf, False), ">": (v, False, math.inf, False),
            "<=": (-math.inf, False, v, True), "<": (-math.inf, False, v, False),
            "==": (v, True, v, True)}.get(c.op)


def _contradict(a: Condition, b: Condition) -> bool:
    """True when no value can meet both conditions (same variable only)."""
    if a.variable != b.variable:
        return False
    ia, ib = _interval(a), _interval(b)
    if ia is not None and ib is not None:
        lo, lo_in = max((ia[0], ia[1]), (ib[0], ib[1]), key=lambda t: (t[0], not t[1]))
        hi, hi_in = min((ia[2], ia[3]), (ib[2], ib[3]), key=lambda t: (t[0], t[1]))
        return lo > hi or (lo == hi and not (lo_in and hi_in))
    va, vb = _values(a), _values(b)
    if va is not None and vb is not None:
        return not va & vb
    for x, y in ((a, b), (b, a)):
        vx = _values(x)
        if vx is not None and y.op in ("!=", "not in"):
            banned = {y.value} if y.op == "!=" else set(y.value)
            if vx <= banned:
                return True
    return False


def _excludes(named: Sequence[Condition], other: Sequence[Condition]) -> bool:
    """True when the named conditions rule out every account of the other segment."""
    return any(_contradict(a, b) for a in named for b in other)


def _words(text: str) -> int:
    return len(text.replace("/", " ").split())


def short_names(segment_defs: Sequence[Segment | Mapping]) -> dict[str, str]:
    """Segment id -> a short readable default name (at most :data:`NAME_WORDS` words).

    Each segment is named by its most distinctive conditions (those fewest other segments
    share), in rule order, until they exclude every other segment (an account meeting the
    named conditions cannot belong to another segment: "employees 500+, non-multinational"
    is not a name when B2C companies of 500+ employees form a segment of their own); further
    conditions are added while the name stays within :data:`NAME_WORDS` words. Categorical
    values always come with their variable. Names that would still coincide get the segment
    id appended.
    """
    segs = as_segments(segment_defs)
    shared = Counter(c for s in segs for c in set(s.conditions))
    out: dict[str, str] = {}
    for s in segs:
        conds = s.conditions
        order = sorted(range(len(conds)), key=lambda i: (shared[conds[i]], i))
        chosen: list[int] = []
        for i in order:
            picked = [conds[j] for j in chosen]
            unique = bool(chosen) and all(_excludes(picked, o.conditions)
                                          for o in segs if o.id != s.id)
            trial = segment_name([conds[j] for j in sorted([*chosen, i])])
            if unique and _words(trial) > NAME_WORDS:
                break
            chosen.append(i)
        out[s.id] = segment_name([conds[j] for j in sorted(chosen)])
    seen = Counter(out.values())
    return {k: (f"{v} ({k})" if seen[v] > 1 else v) for k, v in out.items()}


# --------------------------------------------------------------------------- assignment
def _as_bool(s: pd.Series, variable: str) -> pd.Series:
    try:
        return s.astype("boolean")
    except (TypeError, ValueError):
        low = s.astype("string").str.strip().str.lower()
        mapped = low.map({"true": True, "yes": True, "y": True, "1": True,
                          "false": False, "no": False, "n": False, "0": False})
        bad = low.notna() & mapped.isna()
        if bad.any():
            raise InputDataError(f"'{variable}' is used as yes/no but has other values",
                                 column=variable, rows=list(s.index[bad][:20]),
                                 hint="standardise it to true/false") from None
        return mapped.astype("boolean")


def condition_mask(table: pd.DataFrame, c: Condition) -> np.ndarray:
    """Boolean mask of rows meeting ``c``; a missing value never meets a condition."""
    if c.variable not in table.columns:
        raise InputDataError(f"segment rule uses column '{c.variable}' which is missing",
                             column=c.variable,
                             hint="add the field (same canonical name) or change the rules")
    s = table[c.variable]
    present = s.notna().to_numpy()
    if c.op in (">=", ">", "<=", "<"):
        num = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & num.isna()
        if bad.any():
            raise InputDataError(f"'{c.variable}' must be numeric for rule '{condition_text(c)}'",
                                 column=c.variable, rows=list(s.index[bad][:20]))
        arr = num.to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            res = {">=": arr >= c.value, ">": arr > c.value,
                   "<=": arr <= c.value, "<": arr < c.value}[c.op]
        return res & present
    values = c.value if c.op in ("in", "not in") else (c.value,)
    if values and all(_is_bool_value(v) for v in values):
        hit = _as_bool(s, c.variable).isin(list(values)).fillna(False).to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(s) and all(
            isinstance(v, int | float) and not _is_bool_value(v) for v in values):
        hit = s.isin(list(values)).to_numpy(dtype=bool)
    else:
        hit = s.astype("string").isin([str(v) for v in values]).fillna(False).to_numpy(bool)
    if c.op in ("!=", "not in"):
        hit = ~hit
    return hit & present


def rule_mask(table: pd.DataFrame, conditions: Sequence[Condition],
              seen: dict[Any, np.ndarray] | None = None) -> np.ndarray:
    """Rows meeting every condition. ``seen``: masks of conditions already evaluated on this
    table (filled here), for rules that share conditions."""
    mask = np.ones(len(table), dtype=bool)
    for c in conditions:
        if seen is None:
            mask &= condition_mask(table, c)
            continue
        key = (c.variable, c.op, repr(_hashable(c.value)))
        if key not in seen:
            seen[key] = condition_mask(table, c)
        mask &= seen[key]
    return mask


def assign(table: pd.DataFrame, segment_defs: Sequence[Segment | Mapping],
           rest_label: str = REST) -> pd.Series:
    """Segment id of every row: first segment (priority order) whose rules it meets,
    else ``rest_label``. Same index as ``table``."""
    codes, labels = assign_codes(table, segment_defs, rest_label)
    return pd.Series(np.asarray(labels, dtype=object)[codes], index=table.index,
                     name="segment", dtype="str")


def assign_codes(table: pd.DataFrame, segment_defs: Sequence[Segment | Mapping],
                 rest_label: str = REST) -> tuple[np.ndarray, list[str]]:
    """:func:`assign` as integer codes: ``(codes, labels)`` with ``labels[codes[i]]`` the
    segment of row i (the segments in priority order, then ``rest_label``)."""
    defs = as_segments(segment_defs)
    codes = np.full(len(table), len(defs), dtype=np.intp)
    taken = np.zeros(len(table), dtype=bool)
    seen: dict[Any, np.ndarray] = {}  # a condition shared by several segments: one mask
    for k, seg in enumerate(defs):
        m = rule_mask(table, seg.conditions, seen) & ~taken
        codes[m] = k
        taken |= m
    return codes, [seg.id for seg in defs] + [rest_label]


def segment_names(segment_defs: Sequence[Segment | Mapping],
                  overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Segment id -> display name (override > given name > generated); includes Rest."""
    segs = as_segments(segment_defs)
    short = short_names(segs)
    names = {s.id: (s.name or short[s.id]) for s in segs}
    by_rule = {rule_text(s.conditions): s.id for s in segs}
    for key, value in (overrides or {}).items():
        sid = key if key in names else by_rule.get(key)
        if sid is not None and str(value).strip():
            names[sid] = str(value).strip()
    names[REST] = REST
    return names


# --------------------------------------------------------------------------- synthesis
def nice_number(v: float) -> float:
    """Round to a 'nice' threshold: 1, 1.5, 2, 2.5 ... x 10^k (487 -> 500, 137 -> 150)."""
    if v == 0 or not np.isfinite(v):
        return 0.0
    mag = 10 ** math.floor(math.log10(abs(v)))
    return float(round(v / mag * 2) / 2 * mag)


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    nonnull = s.dropna()
    if pd.api.types.is_numeric_dtype(s):
        x = nonnull.to_numpy(dtype=float)  # 0/1 only (numpy: no hashing of 1M values)
        return "bool" if len(x) and bool(((x == 0) | (x == 1)).all()) else "numeric"
    if isinstance(s.dtype, pd.StringDtype):  # text values are never booleans
        return "category"
    if len(nonnull) and pd.api.types.infer_dtype(nonnull, skipna=True) == "boolean":
        return "bool"
    return "category"


@dataclass
class _Leaf:
    conditions: tuple[Condition, ...]
    mask: np.ndarray


def _split_numeric(values: np.ndarray, top: np.ndarray, mask: np.ndarray, min_n: float,
                   quantiles: Sequence[float]) -> float | None:
    v = values[mask]
    t = top[mask]
    ok = np.isfinite(v)
    v, t = v[ok], t[ok]
    if len(v) < 2 * min_n:
        return None
    cands = sorted({nice_number(q) for q in np.quantile(v, quantiles)})
    best, best_gain = None, 0.0
    n = len(v)
    tb = t.astype(bool)  # top is 0/1: a side's mean is its count of tops / its size (exact)
    n_top = int(np.count_nonzero(tb))
    for thr in cands:  # a handful of candidate thresholds, each vectorised over accounts
        hi = v >= thr
        n_hi = int(np.count_nonzero(hi))
        if n_hi < min_n or n - n_hi < min_n:
            continue
        top_hi = int(np.count_nonzero(hi & tb))
        gain = n_hi * (n - n_hi) / n * (np.float64(top_hi) / n_hi
                                        - np.float64(n_top - top_hi) / (n - n_hi)) ** 2
        if gain > best_gain + 1e-12:
            best, best_gain = thr, gain
    return best


def _children(table: pd.DataFrame, leaf: _Leaf, var: str, kind: str, top: np.ndarray,
              min_n: float, quantiles: Sequence[float]) -> list[_Leaf]:
    s = table[var]
    if kind == "bool":
        b = _as_bool(s, var)
        out = []
        for val in (True, False):
            m = leaf.mask & (b == val).fillna(False).to_numpy(dtype=bool)
            if m.any():
                out.append(_Leaf((*leaf.conditions, Condition(var, "==", val)), m))
        return out
    if kind == "numeric":
        arr = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        thr = _split_numeric(arr, top, leaf.mask, min_n, quantiles)
        if thr is None:
            return [leaf]
        with np.errstate(invalid="ignore"):
            return [_Leaf((*leaf.conditions, Condition(var, ">=", thr)), leaf.mask & (arr >= thr)),
                    _Leaf((*leaf.conditions, Condition(var, "<", thr)), leaf.mask & (arr < thr))]
    vals = s.astype("string")
    counts = vals[leaf.mask].value_counts()
    frequent = sorted(counts.index[counts >= min_n])
    rare = sorted(counts.index[counts < min_n])
    out = [_Leaf((*leaf.conditions, Condition(var, "==", lvl)),
                 leaf.mask & (vals == lvl).fillna(False).to_numpy(dtype=bool))
           for lvl in frequent]
    if rare:
        cond = Condition(var, "in", rare) if len(rare) > 1 else Condition(var, "==", rare[0])
        out.append(_Leaf((*leaf.conditions, cond),
                         leaf.mask & vals.isin(rare).fillna(False).to_numpy(dtype=bool)))
    return out if len(out) > 1 else [leaf]


def _merge_conditions(a: Condition, b: Condition) -> Condition:
    va = a.value if a.op == "in" else (a.value,)
    vb = b.value if b.op == "in" else (b.value,)
    return Condition(a.variable, "in", (*va, *vb))


def _merge_step(leaves: list[_Leaf], top: np.ndarray, pi: float, min_n: float,
                alike_lift: float, max_segments: int | None) -> list[_Leaf] | None:
    """One merge (or None when nothing to merge). Siblings share every condition but the last."""
    stats = []
    for lf in leaves:
        n = int(lf.mask.sum())
        stats.append((n, (top[lf.mask].mean() / pi) if n else 0.0))
    pairs = []
    for i in range(len(leaves)):
        for j in range(i + 1, len(leaves)):
            a, b = leaves[i].conditions, leaves[j].conditions
            if a and b and len(a) == len(b) and a[:-1] == b[:-1] and \
                    a[-1].variable == b[-1].variable:
                pairs.append((abs(stats[i][1] - stats[j][1]), i, j))
    pairs.sort(key=lambda p: (p[0], rule_text(leaves[p[1]].conditions),
                              rule_text(leaves[p[2]].conditions)))
    small = [i for i, (n, _) in enumerate(stats) if n < min_n]
    target: tuple[int, int] | None = None
    if small:
        i = min(small, key=lambda k: (stats[k][0], rule_text(leaves[k].conditions)))
        own = [p for p in pairs if i in p[1:]]
        if not own:
            return [lf for k, lf in enumerate(leaves) if k != i]  # goes to Rest of base
        target = own[0][1:]
    elif pairs and pairs[0][0] < alike_lift or pairs and max_segments and \
            len(leaves) > max_segments:
        target = pairs[0][1:]
    if target is None:
        return None
    i, j = target
    a, b = leaves[i], leaves[j]
    prefix = a.conditions[:-1]
    siblings = {lf.conditions[len(prefix)] for lf in leaves
                if len(lf.conditions) > len(prefix) and lf.conditions[:len(prefix)] == prefix}
    if len(siblings) <= 2:
        merged = _Leaf(prefix, a.mask | b.mask)
        # deeper leaves under the same prefix cannot exist here: siblings are leaves
    else:
        merged = _Leaf((*prefix, _merge_conditions(a.conditions[-1], b.conditions[-1])),
                       a.mask | b.mask)
    return [lf for k, lf in enumerate(leaves) if k not in (i, j)] + [merged]


def synthesise(table: pd.DataFrame, rules_source: Sequence[str] | Sequence[Segment | Mapping],
               top_share: float = 0.25, min_share: float = 0.05,
               max_segments: int | None = 6, alike_lift: float = 0.1,
               quantiles: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
               score_col: str = "score", id_col: str = "account_id") -> list[Segment]:
    """Composite segments, in priority order (best share-of-top lift first), ids S1, S2 ...

    ``rules_source`` is either 2-3 core variable names (order = split order: the first shapes
    the rest) or candidate segment definitions (e.g. tree leaves rendered as rules).
    From variables: every branch is split by the next variable (yes/no, category level with
    levels under ``min_share`` pooled, or a rounded numeric threshold chosen within the branch
    to best separate top accounts, both sides >= ``min_share``). Then segments under
    ``min_share`` of accounts, sibling segments whose lift differs by < ``alike_lift``, and
    (while more than ``max_segments``) the most alike siblings are merged. Accounts with a
    missing core value, or in an unmergeable tiny segment, fall to "Rest of base".
    """
    if score_col not in table.columns:
        raise InputDataError(f"analysis table has no '{score_col}' column", column=score_col)
    n = len(table)
    if n == 0:
        raise AnalysisError("no accounts to segment")
    ids = table[id_col] if id_col in table.columns else table.index
    top = top_label(table[score_col].set_axis(ids), top_share).to_numpy().astype(float)
    pi = top.mean()
    min_n = min_share * n
    source = list(rules_source)
    if source and all(isinstance(v, str) for v in source):
        missing = [v for v in source if v not in table.columns]
        if missing:
            raise InputDataError(f"core variables not in the analysis table: {missing}",
                                 column=missing[0])
        leaves = [_Leaf((), np.ones(n, dtype=bool))]
        for var in source:
            kind = _kind(table[var])
            leaves = [c for lf in leaves
                      for c in _children(table, lf, var, kind, top, min_n, quantiles)]
        while (nxt := _merge_step(leaves, top, pi, min_n, alike_lift, max_segments)) is not None:
            leaves = nxt
        cands = [(lf.conditions, lf.mask) for lf in leaves if lf.conditions]
    else:
        defs = as_segments(source)
        lab = assign(table, defs).to_numpy()
        cands = [(s.conditions, lab == s.id) for s in defs]
        cands = [(c, m) for c, m in cands if m.sum() >= min_n]
    score = pd.to_numeric(table[score_col], errors="coerce").to_numpy(dtype=float)
    ranked = sorted(cands, key=lambda cm: (-top[cm[1]].mean() if cm[1].any() else 0.0,
                                           -score[cm[1]].mean() if cm[1].any() else 0.0,
                                           rule_text(cm[0])))
    segs = [Segment(f"S{k + 1}", conds) for k, (conds, _m) in enumerate(ranked)]
    short = short_names(segs)
    return [Segment(s.id, s.conditions, short[s.id]) for s in segs]


# --------------------------------------------------------------------------- profile
def _bands(score: pd.Series) -> np.ndarray:
    return np.quantile(score.to_numpy(dtype=float), [0.25, 0.5, 0.75])


def score_band(value: float, edges: np.ndarray) -> str:
    """Quartile letter (A best .. D worst) of a score value against the base's quartile edges."""
    if not np.isfinite(value):
        return ""
    return "DCBA"[int(np.searchsorted(edges, value, side="right"))]


def _segment_groups(table: pd.DataFrame, assignment: pd.Series, top_share: float,
                    score_col: str, id_col: str) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """(per-account frame [segment, score, top], top mask, numeric score) shared by
    :func:`segment_table` and :func:`segment_lift`."""
    if len(assignment) != len(table):
        raise InputDataError("assignment and analysis table differ in length",
                             hint="assign segments on the same table")
    ids = table[id_col] if id_col in table.columns else pd.Series(table.index, index=table.index)
    score = pd.to_numeric(table[score_col], errors="coerce")
    top = top_label(score.set_axis(ids), top_share).to_numpy()
    if isinstance(assignment, pd.Series) and assignment.dtype == "str":
        seg = assignment.array  # text already (as assign returns): no object round trip
    else:
        seg = pd.Series(np.asarray(assignment, dtype=object)).astype("str").array
    df = pd.DataFrame({"segment": seg, "score": score.to_numpy(), "top": top.astype(float)})
    return df, top, score


def _lift_columns(g: Any, top: np.ndarray) -> pd.DataFrame:
    """accounts, score_mean, top_accounts, share_top, lift per segment of groupby ``g``."""
    out = pd.DataFrame({"accounts": g.size(), "score_mean": g["score"].mean(),
                        "top_accounts": g["top"].sum().astype(int)})
    n, n_top = len(top), top.sum()
    out["share_top"] = out["top_accounts"] / out["accounts"]
    out["lift"] = out["share_top"] / (n_top / n)
    return out


def segment_lift(table: pd.DataFrame, assignment: pd.Series, top_share: float = 0.25,
                 score_col: str = "score", id_col: str = "account_id") -> pd.DataFrame:
    """segment, accounts, score_mean, top_accounts, share_top, lift: the columns of
    :func:`segment_table` a scheme needs to rank its segments (same numbers), without the
    per-segment tests and revenue measures (every cross-validation fold fits one)."""
    df, top, _ = _segment_groups(table, assignment, top_share, score_col, id_col)
    return _lift_columns(df.groupby("segment", sort=True), top).rename_axis(
        "segment").reset_index()


SEGMENT_COLUMNS = ["segment", "name", "rule", "accounts", "share_of_base", "score_mean",
                   "score_sd", "score_min", "score_max", "score_band", "top_accounts",
                   "share_top", "top_capture", "lift", "revenue", "revenue_share", "mean_acv",
                   "value_concentration", "growth", "base_growth", "p_value", "meaningful",
                   "observable", "addressable", "substantial", "durable", "is_rest"]


def _with_values(df: pd.DataFrame, table: pd.DataFrame, value_col: str,
                 prev_col: str) -> tuple[pd.DataFrame, bool]:
    """``df`` plus ``value`` (12 x mrr, 0 without ``value_col``) and, when ``prev_col`` is
    there, ``g_cur`` / ``g_prev`` (mrr now and before on rows where both are known); and
    whether growth can be measured."""
    df = df.copy()
    has_value = value_col in table.columns
    df["value"] = 12 * pd.to_numeric(table[value_col], errors="coerce").fillna(0).to_numpy() \
        if has_value else 0.0
    has_prev = has_value and prev_col in table.columns
    if has_prev:
        prev = pd.to_numeric(table[prev_col], errors="coerce").to_numpy()
        both = np.isfinite(prev) & np.isfinite(df["value"].to_numpy())
        df["g_cur"] = np.where(both, df["value"] / 12, 0.0)
        df["g_prev"] = np.where(both, prev, 0.0)
    return df, has_prev


def _value_concentration(df: pd.DataFrame, accounts: pd.Series, revenue: pd.Series,
                         top_share: float) -> pd.Series:
    """Per segment, the revenue share held by its largest ``top_share`` of accounts."""
    ranked = df.sort_values(["segment", "value"], ascending=[True, False], kind="stable")
    pos = ranked.groupby("segment").cumcount()
    k = np.ceil(top_share * ranked["segment"].map(accounts))
    big = ranked[pos.to_numpy() < k.to_numpy()].groupby("segment")["value"].sum()
    return (big / revenue).where(revenue > 0)


def _growth(df: pd.DataFrame, g: Any, has_prev: bool) -> tuple[pd.Series | float, float]:
    """Per-segment growth (sum mrr / sum mrr_prev - 1) and the base's; NaN without prev."""
    if not has_prev:
        return np.nan, np.nan
    gp = g["g_prev"].sum()
    growth = (g["g_cur"].sum() / gp - 1).where(gp > 0)
    base_growth = df["g_cur"].sum() / df["g_prev"].sum() - 1 if df["g_prev"].sum() > 0 \
        else np.nan
    return growth, base_growth


def _mann_whitney_p(df: pd.DataFrame, segment_ids: pd.Index) -> pd.Series:
    """Per segment, the Mann-Whitney p-value of its scores vs the rest (NaN if all or none)."""
    from scipy.stats import mannwhitneyu

    pvals = {}
    codes = df["segment"].to_numpy()
    for s_id in segment_ids:  # one test per segment (few segments)
        inside = codes == s_id
        if inside.all() or not inside.any():
            pvals[s_id] = np.nan
            continue
        pvals[s_id] = float(mannwhitneyu(df["score"][inside], df["score"][~inside]).pvalue)
    return pd.Series(pvals)


def _observable(index: pd.Index, by_id: Mapping[str, Segment],
                prospect_fields: Sequence[str] | None) -> pd.Series:
    """Whether each segment's rule uses only ``prospect_fields`` (NA when not given / no rule)."""
    if prospect_fields is None:
        return pd.Series(pd.NA, index=index, dtype="boolean")
    fields = set(prospect_fields)
    return pd.Series([all(c.variable in fields for c in by_id[s].conditions)
                      if s in by_id else pd.NA for s in index], index=index, dtype="boolean")


def _add_criteria(out: pd.DataFrame, by_id: Mapping[str, Segment],
                  prospect_fields: Sequence[str] | None, addressable: Mapping[str, bool] | None,
                  alpha: float, min_share: float, base_growth: float) -> pd.DataFrame:
    """``out`` plus the criteria columns meaningful, observable, addressable, substantial,
    durable and base_growth (rules in :func:`segment_table`)."""
    out = out.copy()
    out["meaningful"] = (out["p_value"] < alpha).astype("boolean")
    out.loc[out["p_value"].isna(), "meaningful"] = pd.NA
    obs = _observable(out.index, by_id, prospect_fields)
    out["observable"] = obs
    addr = obs.copy()
    for s_id, flag in (addressable or {}).items():
        if s_id in addr.index:
            addr[s_id] = bool(flag)
    out["addressable"] = addr
    out["substantial"] = out["share_of_base"] >= min_share
    out["durable"] = (out["growth"] >= base_growth).astype("boolean")
    out.loc[out["growth"].isna() | (not np.isfinite(base_growth)), "durable"] = pd.NA
    out["base_growth"] = base_growth
    return out


def _segment_order(index: pd.Index, defs: Sequence[Segment]) -> list[str]:
    """Defined segments in their order, then the others sorted, Rest of base last."""
    order = [s.id for s in defs if s.id in index]
    order += sorted(s for s in index if s not in order and s != REST)
    order += [REST] if REST in index else []
    return order


def segment_table(table: pd.DataFrame, assignment: pd.Series, top_share: float = 0.25,
                  segment_defs: Sequence[Segment | Mapping] | None = None,
                  prospect_fields: Sequence[str] | None = None, min_share: float = 0.05,
                  alpha: float = 0.05, addressable: Mapping[str, bool] | None = None,
                  concentration_top_share: float = 0.2, score_col: str = "score",
                  id_col: str = "account_id", value_col: str = "mrr",
                  prev_col: str = "mrr_prev") -> pd.DataFrame:
    """One row per segment (Rest of base last) with quality, size, growth and criteria.

    Columns: segment, name, rule, accounts, share_of_base, score_mean, score_sd, score_min,
    score_max, score_band (quartile letter of the mean), top_accounts, share_top (share of
    the segment in the top), top_capture (share of all top accounts), lift (share_top / base
    top share), revenue (12 x mrr), revenue_share, mean_acv, value_concentration (revenue
    share of the largest ``concentration_top_share`` of its accounts), growth (sum mrr /
    sum mrr_prev - 1), p_value (Mann-Whitney vs the rest), and criteria: meaningful
    (p < alpha), observable (rules use only ``prospect_fields``; NA when not given),
    addressable (stakeholder judgement via ``addressable``; defaults to observable),
    substantial (share >= min_share), durable (growth >= base growth; NA without mrr_prev).
    """
    df, top, score = _segment_groups(table, assignment, top_share, score_col, id_col)
    df, has_prev = _with_values(df, table, value_col, prev_col)
    g = df.groupby("segment", sort=True)
    out = _lift_columns(g, top)
    out["score_sd"], out["score_min"] = g["score"].std(ddof=1), g["score"].min()
    out["score_max"], out["revenue"] = g["score"].max(), g["value"].sum()
    out["share_of_base"] = out["accounts"] / len(df)
    out["top_capture"] = out["top_accounts"] / top.sum()
    total_rev = df["value"].sum()
    out["revenue_share"] = out["revenue"] / total_rev if total_rev > 0 else np.nan
    out["mean_acv"] = out["revenue"] / out["accounts"]
    out["value_concentration"] = _value_concentration(df, out["accounts"], out["revenue"],
                                                      concentration_top_share)
    out["growth"], base_growth = _growth(df, g, has_prev)
    edges = _bands(score)
    out["score_band"] = [score_band(v, edges) for v in out["score_mean"]]
    out["p_value"] = _mann_whitney_p(df, out.index)
    defs = as_segments(segment_defs) if segment_defs is not None else []
    by_id = {s.id: s for s in defs}
    names = segment_names(defs) if defs else {}
    out["name"] = [names.get(s, s) for s in out.index]
    out["rule"] = [rule_text(by_id[s].conditions) if s in by_id else
                   ("no segment rule matched" if s == REST else "") for s in out.index]
    out = _add_criteria(out, by_id, prospect_fields, addressable, alpha, min_share, base_growth)
    out = out.loc[_segment_order(out.index, defs)].rename_axis("segment").reset_index()
    out["is_rest"] = out["segment"] == REST
    return out[SEGMENT_COLUMNS]


def representative_accounts(table: pd.DataFrame, assignment: pd.Series, n: int = 5,
                            score_col: str = "score", id_col: str = "account_id",
                            name_col: str = "account_name") -> pd.DataFrame:
    """Up to ``n`` typical accounts per segment: closest to the segment's median score
    (ties by account_id). Columns: segment, example_rank, account_id, [account_name], score."""
    df = pd.DataFrame({"segment": np.asarray(assignment, dtype=object),
                       "account_id": table[id_col].astype("str").to_numpy(),
                       "score": pd.to_numeric(table[score_col], errors="coerce").to_numpy()})
    if name_col in table.columns:
        df["account_name"] = table[name_col].to_numpy()
    df["segment"] = df["segment"].astype("str")
    df["_d"] = (df["score"] - df.groupby("segment")["score"].transform("median")).abs()
    df = df.sort_values(["segment", "_d", "account_id"], kind="stable")
    df = df.groupby("segment", sort=False).head(n).copy()
    df["example_rank"] = df.groupby("segment").cumcount() + 1
    cols = ["segment", "example_rank", "account_id"] + \
        (["account_name"] if name_col in table.columns else []) + ["score"]
    return df[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- prioritise
@dataclass
class Prioritisation:
    """Ranked segments, the recommended targets and a plain-language verdict."""

    table: pd.DataFrame
    recommended: list[str]
    coverage: float
    top_capture: float
    feasible: bool
    message: str
    rule: str = field(default="rank by lift in share of top accounts, then mean score; "
                      "recommend in that order while coverage stays within the band")


def prioritise(segment_table: pd.DataFrame, params: SegmentsParams | None = None,
               examples: pd.DataFrame | None = None) -> Prioritisation:
    """Rank segments and recommend up to ``n_recommended`` targets within the coverage band.

    Transparent rule: eligible = not Rest of base, lift > 1, substantial; ranked by lift
    (share-of-top vs base) then mean score then id. Walk the ranking, adding a segment when
    the combined share of accounts stays <= coverage_max, until n_recommended. Feasible when
    the result lies in [coverage_min, coverage_max]; otherwise the message says why.
    """
    p = params or SegmentsParams()
    t = segment_table.copy()
    rest = t["is_rest"] if "is_rest" in t.columns else t["segment"] == REST
    ranked = t[~rest].sort_values(["lift", "score_mean", "segment"],
                                  ascending=[False, False, True], kind="stable")
    t["priority"] = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index)
    t["priority"] = t["priority"].astype("Int64")
    eligible = ranked[(ranked["lift"] > 1) & (ranked["share_of_base"] >= p.min_share)]
    chosen, cov, cap = [], 0.0, 0.0
    for _, row in eligible.iterrows():  # few segments
        if len(chosen) >= p.n_recommended:
            break
        if cov + row["share_of_base"] <= p.coverage_max + 1e-12:
            chosen.append(row["segment"])
            cov += row["share_of_base"]
            cap += row["top_capture"]
    t["recommended"] = t["segment"].isin(chosen)
    names = {**dict(zip(t["segment"], t["name"], strict=True)), **p.names}
    t["display_name"] = t["segment"].map(names).fillna(t["name"])
    order = {s: i for i, s in enumerate(chosen)}
    t["cumulative_coverage"] = np.nan
    t["cumulative_top_capture"] = np.nan
    if chosen:
        sub = t.set_index("segment").loc[chosen]
        t.loc[t["segment"].isin(chosen), "cumulative_coverage"] = \
            t["segment"].map(dict(zip(chosen, sub["share_of_base"].cumsum(), strict=True)))
        t.loc[t["segment"].isin(chosen), "cumulative_top_capture"] = \
            t["segment"].map(dict(zip(chosen, sub["top_capture"].cumsum(), strict=True)))
    if examples is not None and len(examples):
        label = examples["account_name"] if "account_name" in examples.columns \
            else examples["account_id"]
        ex = examples.assign(_l=label.astype("str")).groupby("segment")["_l"] \
            .agg(lambda s: ", ".join(s))
        t["examples"] = t["segment"].map(ex).fillna("")
    t = t.sort_values(["priority"], kind="stable", na_position="last").reset_index(drop=True)
    feasible = bool(chosen) and p.coverage_min - 1e-12 <= cov <= p.coverage_max + 1e-12
    share = segment_table.set_index("segment")["share_of_base"]
    shown = ", ".join(f"{names[s]} ({share.loc[s]:.0%})"
                      for s in sorted(chosen, key=order.get))
    if feasible:
        msg = (f"Recommend {len(chosen)} segment(s): {shown}; together {cov:.0%} of accounts "
               f"holding {cap:.0%} of the top accounts.")
        if len(chosen) < min(2, p.n_recommended):
            msg += " Only one segment qualifies; the method suggests two or three."
    elif not len(eligible):
        msg = ("No recommendation possible: no substantial segment has more than its share of "
               "top accounts (lift > 1). Revisit the core variables.")
    elif cov < p.coverage_min:
        msg = (f"Coverage band not reachable: the best segments ({shown or 'none'}) cover "
               f"{cov:.0%} of accounts, below the {p.coverage_min:.0%} minimum (max "
               f"{p.n_recommended} segments, {p.coverage_max:.0%} cap). Consider broader "
               "segments or more of them.")
    else:
        msg = (f"Coverage band not reachable: {cov:.0%} of accounts is outside "
               f"{p.coverage_min:.0%}-{p.coverage_max:.0%}.")
    return Prioritisation(t, [s for s in chosen], cov, cap, feasible, msg)


# --------------------------------------------------------------------------- scheme
def composite_scheme(name: str, rules_source: Sequence[str] | Sequence[Segment | Mapping],
                     **synth_kwargs: Any) -> Scheme:
    """A gains-chart scheme: segments learned on the training frame (:func:`synthesise`),
    ranked by training lift then mean score; an account scores its segment's step
    (best segment highest, Rest of base ranked by its own lift)."""
    top_share = synth_kwargs.get("top_share", 0.25)
    score_col = synth_kwargs.get("score_col", "score")

    def fit(train: pd.DataFrame):
        defs = synthesise(train, rules_source, **synth_kwargs)
        lab = assign(train, defs)
        tab = segment_lift(train, lab, top_share=top_share, score_col=score_col,
                           id_col=synth_kwargs.get("id_col", "account_id"))
        ranked = tab.sort_values(["lift", "score_mean", "segment"],
                                 ascending=[False, False, True], kind="stable")["segment"]
        steps = {s: float(len(ranked) - i) for i, s in enumerate(ranked)}
        floor = 0.0  # a segment unseen in training (impossible for Rest) scores lowest

        def scorer(df: pd.DataFrame) -> pd.Series:
            codes, labels = assign_codes(df, defs)
            step = np.array([steps.get(lab, floor) for lab in labels], dtype=float)
            return pd.Series(step[codes], index=df.index, dtype=float)

        return scorer

    return Scheme(name, fit, "composite segments from " + ", ".join(
        v if isinstance(v, str) else "rules" for v in rules_source))


# --------------------------------------------------------------------------- coverage
def accounts_per_manager(mean_acv: np.ndarray | float, params: Coverage | None = None
                         ) -> np.ndarray:
    """Dedicated-manager load: accounts_per_manager_max at dedicated_min_value falling linearly
    to accounts_per_manager_min at dedicated_max_value (rounded to whole accounts)."""
    p = params or Coverage()
    acv = np.asarray(mean_acv, dtype=float)
    span = max(p.dedicated_max_value - p.dedicated_min_value, 1e-9)
    frac = np.clip((acv - p.dedicated_min_value) / span, 0.0, 1.0)
    load = p.accounts_per_manager_max - frac * (p.accounts_per_manager_max
                                                - p.accounts_per_manager_min)
    return np.rint(load)


def coverage_model(segment_table: pd.DataFrame, params: Coverage | None = None) -> pd.DataFrame:
    """Success-coverage plan per segment plus a Total row.

    model: dedicated (mean ACV >= dedicated_min_value; 10-100 accounts per manager by value),
    pooled (one manager per pooled_accounts_per_manager accounts, tech-touch flows beside),
    tech-touch (mean ACV < tech_touch_max_value: automated flows, no named manager).
    managers = ceil(accounts / accounts_per_manager). touch: high-touch for dedicated.
    churn_kpi: by dollars (revenue churn) when the largest accounts hold at least
    dollar_kpi_concentration of the segment's revenue, else by volume (logo churn).
    """
    p = params or Coverage()
    t = segment_table
    acv = t["mean_acv"].to_numpy(dtype=float)
    dedicated = acv >= p.dedicated_min_value
    tech = ~dedicated & (acv < p.tech_touch_max_value)
    model = np.where(dedicated, "dedicated", np.where(tech, "tech-touch", "pooled"))
    apm = np.where(dedicated, accounts_per_manager(acv, p),
                   np.where(tech, np.nan, p.pooled_accounts_per_manager))
    accounts = t["accounts"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        managers = np.where(np.isnan(apm), 0, np.ceil(accounts / apm))
    conc = t["value_concentration"].to_numpy(dtype=float) if "value_concentration" in t \
        else np.full(len(t), np.nan)
    by_dollars = conc >= p.dollar_kpi_concentration
    out = pd.DataFrame({
        "segment": t["segment"].to_numpy(),
        "name": (t["display_name"] if "display_name" in t else t["name"]).to_numpy(),
        "accounts": accounts.astype(int), "mean_acv": acv,
        "revenue": t["revenue"].to_numpy(dtype=float),
        "model": model, "accounts_per_manager": apm, "managers": managers.astype(int),
        "touch": np.where(dedicated, "high-touch", "tech-touch"),
        "value_concentration": conc,
        "churn_kpi": np.where(by_dollars, "revenue churn (by dollars)",
                              "logo churn (by volume)"),
    })
    out["reason"] = [
        (f"mean ACV {a:,.0f} >= {p.dedicated_min_value:,.0f}: dedicated manager for "
         f"{int(m_):d} accounts" if d else
         f"mean ACV {a:,.0f} < {p.tech_touch_max_value:,.0f}: automated flows only" if te else
         f"mean ACV {a:,.0f}: pooled, one manager per {p.pooled_accounts_per_manager:,d}")
        for a, d, te, m_ in zip(acv, dedicated, tech, np.nan_to_num(apm), strict=True)]
    n = accounts.sum()
    total = {"segment": "Total", "name": "All segments", "accounts": int(n),
             "mean_acv": out["revenue"].sum() / n if n else np.nan,
             "revenue": out["revenue"].sum(), "model": "mix",
             "accounts_per_manager": np.nan, "managers": int(out["managers"].sum()),
             "touch": f"high-touch {accounts[dedicated].sum() / n:.0%} of accounts" if n else "",
             "value_concentration": np.nan, "churn_kpi": "", "reason": ""}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out["high_touch_share_of_accounts"] = np.where(out["segment"] == "Total",
                                                   accounts[dedicated].sum() / n if n else np.nan,
                                                   np.nan)
    return out


def segment_output(priorities: Any, names: Mapping[str, str]) -> pd.DataFrame:
    """The prioritised segment table with display names (overrides from the parameters).

    Parameters
    ----------
    priorities
        The prioritisation (:func:`prioritise`).
    names
        Segment id -> display name.

    Returns
    -------
    pandas.DataFrame
        The ``segments`` table.
    """
    out = priorities.table.copy()
    out["name"] = out["segment"].map(dict(names)).fillna(out.get("name", out["segment"]))
    return out


def assignment_table(table: pd.DataFrame, assignment: pd.Series,
                     names: Mapping[str, str]) -> pd.DataFrame:
    """account_id, segment, segment_name, quartile, score for every analysed account.

    Parameters
    ----------
    table
        The analysis table (``account_id``, ``quartile``, ``score``).
    assignment
        The segment of each account (:func:`assign`), in ``table``'s row order.
    names
        Segment id -> display name.

    Returns
    -------
    pandas.DataFrame
        The ``segment_assignments`` table.
    """
    seg = pd.Series(np.asarray(assignment, dtype=object), index=table.index)
    return pd.DataFrame({"account_id": table["account_id"], "segment": seg,
                         "segment_name": seg.map(dict(names)),
                         "quartile": table["quartile"].astype(str), "score": table["score"]})


def segmenter(core: Sequence[str], top_share: float, min_share: float
              ) -> Callable[[pd.DataFrame], pd.Series]:
    """The segmentation as a function of a frame (for bootstrap stability).

    Parameters
    ----------
    core
        The core variables.
    top_share, min_share
        As for :func:`synthesise`.

    Returns
    -------
    callable
        frame -> the segment of each of its accounts (synthesised on that frame).
    """
    def run(frame: pd.DataFrame) -> pd.Series:
        return assign(frame, synthesise(frame, list(core), top_share=top_share,
                                        min_share=min_share))

    return run
