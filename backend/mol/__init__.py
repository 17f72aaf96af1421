"""Shared molecule package for the few-shot molecular property methods (PAR, PACIA, baselines).

- :mod:`backend.mol.featurise`: SMILES -> pretrain-gnns graphs (RDKit reasons for invalid SMILES), GraphStore /
  GraphSet / MolBatch (one graph per unique molecule, vectorised batching);
- :mod:`backend.mol.flatfeatures`: many SMILES featurised in one pass (RDKit per molecule, NumPy for the rest);
- :mod:`backend.mol.datasets`: Tox21 / SIDER / MUV / ToxCast per-task lists with PAR's task split and the
  held-out validation tasks;
- :mod:`backend.mol.episodes`: seeded 2-way K-shot episodes;
- :mod:`backend.mol.encoders`: GIN / GCN / GraphSAGE / GAT (pretrain-gnns names; shipped weights load strictly);
- :mod:`backend.mol.fewshot`: the shared evaluation protocol (ROC-AUC, 10 seeds, mean ± std);
- :mod:`backend.mol.userdata`: a user's support/query table -> validated molecules (page and CLI).

Submodules are imported lazily (torch / RDKit only when used).
"""
