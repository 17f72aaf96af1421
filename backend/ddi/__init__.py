"""Drug-drug interaction data (the ``ddi`` area): DrugBank with EmerGNN's id maps and splits, drug names and SMILES,
the 86 interaction-type descriptions, and Hetionet built into EmerGNN's biomedical network.

- :mod:`backend.ddi.data`: files of the mirror, id maps, names, SMILES, type templates, S0/S1/S2 splits;
- :mod:`backend.ddi.network`: Hetionet (without GpBP) in the DDI id space, relation ids, fingerprint links for the
  drugs without a Hetionet node, cached as one ``.npz`` under the runs folder;
- :mod:`backend.ddi.fingerprints`: Morgan fingerprints (RDKit) and Dice/Tanimoto similarity;
- :mod:`backend.ddi.names`: forgiving drug-name resolution (case, DrugBank ids, close matches);
- :mod:`backend.ddi.graph`: the DDI + biomedical graph in CSR form and the path subgraph of a pair (L hops).
"""
