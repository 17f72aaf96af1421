"""One plain sentence per metric and term, for the tooltips (help=) of every page and a glossary expander."""
from __future__ import annotations

import streamlit as st

TERMS = {
    "mrr": "Mean reciprocal rank: the average of 1/rank of the true answer (1st place counts 1, 2nd 0.5, 10th "
           "0.1). 1.0 is perfect; ranking at random among 1,000 candidates gives about 0.007.",
    "hits@1": "Share of true answers the model puts in 1st place.",
    "hits@3": "Share of true answers the model puts in the top 3.",
    "hits@10": "Share of true answers the model puts in the top 10.",
    "mr": "Mean rank of the true answers (lower is better).",
    "filtered rank": "Where an answer would place among all candidates once the other known true answers are set "
                     "aside, so a model is not punished for ranking another correct answer above it.",
    "score": "The model's raw read-out for a candidate; only its order matters (higher ranks first), not its scale.",
    "r-digraph": "The relational digraph: every path of facts from the query entity that the model follows, one "
                 "hop per layer; RED-GNN's answer is computed over it, so its strongest paths are the evidence.",
    "transductive": "The test asks about entities seen in training (new facts between known entities).",
    "inductive": "The test graph holds entities never seen in training: the model must reason from relations "
                 "alone.",
    "ties": "Candidates with equal scores (e.g. every entity the model never reaches scores 0). Average ties "
            "place the answer in the middle of its tie; pessimistic (NBFNet's rule) at its end; optimistic at its "
            "start.",
    "facts": "Facts are the triples the model reasons over (its graph); queries are the triples it is asked to "
             "complete. Valid and test triples are held out of the graph.",
    "known fact": "The triple is in the graph or in one of the train/valid/test splits.",
    "reached": "The candidate lies within L propagation steps of the query entity; unreached ones score exactly 0.",
    "parameters": "Numbers the model learned; fewer parameters at the same quality is the parsimony this "
                  "explorer shows.",
}


def term(name: str) -> str:
    """The sentence for ``name`` (metric names in any case; '' for an unknown term)."""
    return TERMS.get(name.lower(), "")


def glossary_expander(names: list[str], label: str = "What the terms mean") -> None:
    """The chosen terms, one line each, in a closed expander."""
    with st.expander(label):
        st.markdown("\n".join(f"- **{name}**: {TERMS[name]}" for name in names if name in TERMS))
