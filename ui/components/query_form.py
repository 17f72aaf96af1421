"""Any method's query form, built from the fields it declares (``capabilities.query``): pickers over the
loaded model's own names for entity/relation-like fields (type to filter; a text filter first on large lists),
sliders for counts. The loaded model says what a field can take: ``model.choices(name, query_so_far)`` ->
[(value, text, known answers backing it)], so a later field can depend on an earlier one (a relation on its head).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from backend.core.method import Method, QueryField

#: above this many choices a picker is a text filter plus a list of the first matches
LARGE_LIST = 5000
MAX_MATCHES = 200
#: slider bounds of count fields: (low, high, step) by field name, else these
COUNT_BOUNDS = {"top": (5, 50, 5)}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-")[:40] or "x"


def choice_picker(field: QueryField, choices: Sequence[tuple], key: str, default: int = 0):
    """A value of ``choices`` (value, text, ...): a searchable selectbox; above LARGE_LIST a text filter first
    (exact names first, then names starting with the text, then the rest)."""
    texts = {c[0]: c[1] for c in choices}
    values = [c[0] for c in choices]
    help_text = (field.help + ". " if field.help else "") + "Type part of a name to search."
    if len(values) <= LARGE_LIST:
        index = values.index(default) if default in texts else 0
        return st.selectbox(field.label, options=values, index=index, key=key, format_func=texts.get, help=help_text)
    query = st.text_input(f"Search {len(values):,} names for {field.label.lower()}", key=f"{key}-filter",
                          placeholder="part of a name or id",
                          help=f"Lists the first {MAX_MATCHES} whose name or id contains the text.")
    needle = query.strip().lower()
    if needle:
        hits = [(texts[v].lower(), v) for v in values if needle in texts[v].lower()]
        hits.sort(key=lambda h: (h[0] != needle and not h[0].startswith(needle + " ·"), not h[0].startswith(needle)))
        matches = [v for _, v in hits[:MAX_MATCHES]]
        if not matches:
            st.warning(f"Nothing contains {query.strip()!r}; showing the example.")
            matches = [default]
    else:
        matches = [default] + [v for v in values[:MAX_MATCHES] if v != default]
    return st.selectbox(field.label, options=matches, index=0, key=f"{key}-{_slug(needle)}", format_func=texts.get)


def query_form(method: Method, model, key: str, names: Sequence[str], defaults: dict | None = None) -> dict:
    """The fields ``names`` of the method's query, side by side; returns {name: value}. A picker keeps its last
    value when the next choices hold it with known answers behind it (else their first)."""
    fields = {f.name: f for f in method.capabilities.query}
    defaults = defaults or {}
    query: dict = {}
    columns = st.columns([3 if fields[n].kind in ("entity", "relation", "text") else 2 for n in names])
    for column, name in zip(columns, names):
        field = fields[name]
        with column:
            if field.kind in ("entity", "relation"):
                choices = model.choices(name, query)
                last_key = f"{key}-{name}-last"
                wanted = st.session_state.get(last_key, defaults.get(name))
                backed = [c[0] for c in choices if len(c) < 3 or c[2]]
                start = wanted if (wanted in backed or not backed) else choices[0][0]
                # a dependent field (a relation after its head) gets a fresh widget per earlier choice
                scope = "-".join(_slug(query[n]) for n in query)
                query[name] = choice_picker(field, choices, f"{key}-{name}" + (f"-{scope}" if scope else ""), start)
                st.session_state[last_key] = query[name]
            elif field.kind == "int":
                low, high, step = COUNT_BOUNDS.get(name, (1, 100, 1))
                query[name] = st.slider(field.label, min_value=low, max_value=high, step=step,
                                        value=int(defaults.get(name, field.default or low)), key=f"{key}-{name}",
                                        help=field.help or None)
            elif field.kind == "float":
                query[name] = st.number_input(field.label, value=float(defaults.get(name, field.default or 0.0)),
                                              key=f"{key}-{name}", help=field.help or None)
            else:
                query[name] = st.text_input(field.label, value=str(defaults.get(name, field.default or "")),
                                            key=f"{key}-{name}", help=field.help or None)
    return query
