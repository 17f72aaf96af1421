"""Molecules in a table: each SMILES drawn by RDKit as a small PNG (a data URL for ``st.column_config.ImageColumn``),
so a sortable ``st.dataframe`` shows the 2-D structures beside the numbers."""
from __future__ import annotations

import base64
import io

import pandas as pd
import streamlit as st


@st.cache_data(max_entries=5000, show_spinner=False)
def structure_data_url(smiles: str, size: int = 160) -> str | None:
    """A PNG data URL of the 2-D structure of ``smiles`` (None when RDKit cannot read it)."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import Draw

    block = rdBase.BlockLogs()
    try:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return None
        image = Draw.MolToImage(mol, size=(size, size))
    finally:
        del block
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def with_structures(frame: pd.DataFrame, smiles_column: str = "smiles", column: str = "structure") -> pd.DataFrame:
    """``frame`` with a first column of structure images (data URLs) drawn from ``smiles_column``."""
    out = frame.copy()
    out.insert(0, column, [structure_data_url(str(s)) for s in out[smiles_column]])
    return out


def structure_column(label: str = "structure", help: str = "2-D structure drawn by RDKit from the SMILES"):
    return st.column_config.ImageColumn(label, help=help, width="small")
