"""Checkpoints for any method's page: find them (shipped, then the user's runs), pick one, load it through the
registry (cached), and show its card in brief: the headline metric and its variants, size, time, device."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from backend.core import store
from backend.core.method import Method
from backend.core.viz import metric_title
from backend.registry import get_method
from ui.components.model_card import format_count, format_seconds, show_card, trained_on

#: the expected failures of loading a checkpoint or answering a query (shown with st.error)
EXPECTED_ERRORS = (OSError, ValueError, KeyError, RuntimeError, TypeError)
OWN_RUN = " (your run)"


def checkpoint_label(card: store.Card) -> str:
    """'family', 'nell_v1 (inductive)': the dataset, with the setting where it is not the default one."""
    return card.dataset + ("" if card.setting in ("", "default", "transductive") else f" ({card.setting})")


def find_checkpoints(method: Method) -> dict[str, tuple[str, store.Card]]:
    """{model folder: (label for the picker, card)}: shipped checkpoints first in the method's dataset order,
    then the user's runs (newest first)."""
    found: dict[str, tuple[str, store.Card]] = {}
    order = {name: i for i, name in enumerate(method.datasets)}
    for card in sorted(store.list_cards(method=method.name), key=lambda c: order.get(c.dataset, len(order))):
        found[str(card.path)] = (checkpoint_label(card), card)
    own_root = store.runs_root() / method.name
    if own_root.is_dir():
        for card in sorted(store.list_cards(own_root, method=method.name), key=lambda c: c.created or "",
                           reverse=True):
            found[str(card.path)] = (f"{card.dataset} — {Path(str(card.path)).name}{OWN_RUN}", card)
    return found


def checkpoint_picker(method: Method, checkpoints: dict[str, tuple[str, store.Card]], key: str,
                      preferred: str | None = None) -> str:
    """The chosen checkpoint folder (a selectbox over ``checkpoints``; first shown: the shipped checkpoint of the
    ``preferred`` dataset, where there is one, else the first)."""
    paths = list(checkpoints)
    index = next((i for i, p in enumerate(paths) if checkpoints[p][1].dataset == preferred
                  and not checkpoints[p][0].endswith(OWN_RUN)), 0)
    return st.selectbox("Checkpoint", options=paths, index=index, key=key,
                        format_func=lambda p: checkpoints[p][0],
                        help=f"Shipped checkpoints ({store.MODELS_DIR / method.name}) and your runs "
                             f"({store.runs_root() / method.name}).")


@st.cache_resource(show_spinner="Loading the checkpoint and its data…", max_entries=4)
def loaded_model(method_name: str, model_dir: str, data_root: str, options: tuple = (), stamp: float = 0.0):
    """``get_method(method_name).open(model_dir, data_dir=data_root, **dict(options))``, cached per arguments
    (``stamp``: when something the model reads outside its folder last changed, e.g. a relation map)."""
    return get_method(method_name).open(model_dir, data_dir=data_root, **dict(options))


def headline_table(method: Method, card: store.Card, names: tuple[str, ...]) -> pd.DataFrame:
    """Rows: the test metrics ``names``; columns: each variant the method declares (``capabilities.variants``:
    the plain metric and e.g. RED-GNN's ties under NBFNet's rule, '<variant>_<metric>' in the card)."""
    rows = []
    for name in names:
        row = {"test metric": metric_title(name)}
        row.update({title: card.metric("test", name, variant) for variant, title in method.capabilities.variants.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def card_brief(method: Method, card: store.Card, own: bool, names: tuple[str, ...] | None = None,
               notes: list[str] | None = None) -> None:
    """The card at a glance: headline test metrics with their variants, parameters, training time, epochs,
    device; ``notes`` under the table; the full card in an expander."""
    names = names or (method.capabilities.headline,)
    table = headline_table(method, card, names)
    table = table[[c for c in table.columns if c == "test metric" or table[c].notna().any()]]  # no empty variants
    # half the width for the tiles ('1,081,976', '10 min 35 s' whole on a 1280-px screen), unless the table has
    # three variants or more to show
    left, right = st.columns([3, 2] if table.shape[1] > 3 else [1, 1])
    with left:
        st.dataframe(table, hide_index=True, placeholder="—", width="stretch",
                     column_config={c: st.column_config.NumberColumn(c, format="%.4f")
                                    for c in table.columns if c != "test metric"})
        if notes:
            st.caption(" ".join(notes))
    with right:
        train = card.train or {}
        a, b = st.columns(2)
        a.metric("Parameters", format_count((card.params or {}).get("total")))
        b.metric("Training time", format_seconds(train.get("seconds")))
        c, d = st.columns(2)
        c.metric("Epochs", format_count(train.get("epochs")))
        d.metric("Trained on", trained_on(train, short=True), help=trained_on(train))
        st.caption(("Your own run" if own else "Shipped checkpoint") + f": `{card.path}`")
    with st.expander("Full model card: validation metrics, configuration, data checksums"):
        show_card(card, title=f"{method.title} · {card.folder_name}")
