"""Home: what the project is, and one card per method with its paper, task, explanation and status."""
from __future__ import annotations

import streamlit as st

from backend.core.references import CITATIONS
from backend.core.store import list_cards
from backend.registry import METHODS
from ui import page_for_url

AREAS = {
    "kg": "Knowledge graphs",
    "ddi": "Drug interactions",
    "molecules": "Molecules",
    "recsys": "Recommendation",
    "physics": "Physics",
}

st.title("Parsimony explorer")
st.markdown(
    """
Knowledge lets a small model do the work of a large one. The seven methods collected here each put
a piece of domain knowledge into the model itself: **relational paths** in a knowledge graph,
**a biomedical network** between drugs, **the relations between molecules** of a few-shot task,
**a searched structure** for a scoring or modulation function, or **a symbolic formula** for a
physical law. The reward is parsimony: models with tens of thousands of parameters instead of millions,
or a formula instead of a network, that match or beat much larger ones, and that can show *why* they
predict what they predict.

Every page shows what the backend computes: trained checkpoints with their model cards, the
evidence behind a prediction (paths, subgraphs, formulas), and the papers' own numbers beside this
project's. Everything here is also available on the command line (`python -m backend --help`).
"""
)

c1, c2, c3 = st.columns(3)
cards = list_cards()
c1.metric("Methods", len(METHODS))
c2.metric("Implemented", sum(m.implemented for m in METHODS.values()))
c3.metric("Trained checkpoints", len(cards))

st.subheader("The methods")


def _status(method) -> str:
    own = [c for c in cards if c.method == method.name]
    if own:
        names = ", ".join(c.folder_name for c in own)
        return f"**{len(own)} trained checkpoint{'s' if len(own) != 1 else ''}**: {names}"
    if method.implemented:
        return "Implemented — no checkpoint yet"
    return "Implementation planned"


methods = list(METHODS.values())
for start in range(0, len(methods), 3):
    columns = st.columns(3)
    for column, method in zip(columns, methods[start:start + 3]):
        with column.container(border=True, height="stretch"):
            st.markdown(f"#### {method.title}")
            st.caption(CITATIONS.get(method.paper, method.paper))
            st.markdown(f"**Task.** {method.task}.")
            st.markdown(f"**Explanation.** {method.explains}.")
            if method.datasets:
                st.markdown(f"**Data** ({AREAS.get(method.area, method.area)}): {', '.join(method.datasets)}")
            st.markdown(f"**Status.** {_status(method)}")
            page = page_for_url(method.page)
            if page is not None:
                st.page_link(page.link_target, label=f"Open {page.title}", icon=":material/arrow_forward:")

st.divider()
overview = {
    "zoo": "Model zoo — every trained checkpoint beside the papers' numbers: quality against size",
    "datasets": "Datasets — each dataset's files, size, origin and licence, present or not, with checksums",
}
for url_path, label in overview.items():
    page = page_for_url(url_path)
    if page is not None:
        st.page_link(page.link_target, label=label, icon=page.icon)
