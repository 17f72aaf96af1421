"""EmerGNN's biomedical network rebuilt from the Hetionet mirror: counts per metaedge against Hetionet's published
metaedge table, relation ids, the DDI id space, fingerprint links of the drugs without a Hetionet node."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from tests.emergnn_support import require_ddi

#: metaedges the mirror lacks entirely, and AeG's Bgee part (data README, hetionet/edges/README.md)
ABSENT = {"DpS", "GpMF", "GpCC"}
AEG_IN_MIRROR = 369_336


@pytest.fixture(scope="module")
def net(data_root):
    require_ddi(data_root)
    from backend.ddi.network import load_network

    return load_network(str(data_root))


def test_counts_per_metaedge_match_hetionet(net, data_root):
    from backend.ddi.data import METAEDGES
    from backend.ddi.network import REL_OFFSET, metaedge_table

    if net.source != "mirror":
        pytest.skip("the complete Hetionet edge file is present: every count equals the table (checked below)")
    table = metaedge_table(str(data_root)).set_index("abbreviation")["edges"]
    assert "GpBP" in table.index and "GpBP" not in METAEDGES       # EmerGNN leaves GpBP out
    for i, abbr in enumerate(METAEDGES):
        got = int(((net.rel == REL_OFFSET + i) & ~net.inferred).sum())
        assert got == net.counts[abbr]
        if abbr in ABSENT:
            assert got == 0, abbr
        elif abbr == "AeG":
            assert got == AEG_IN_MIRROR
        else:
            assert got == int(table[abbr]), abbr                     # complete metaedges: Hetionet's own count
    assert int((~net.inferred).sum()) == 1_359_477                  # 80.4% of 1,690,693
    assert int(table.drop("GpBP").sum()) == 1_690_693
    assert net.counts["unmapped"] == 0


def test_edges_are_hetionet_lines_in_ddi_ids(net, data_root):
    """Every CbG line of the mirror is one (drug or compound, gene) triple with relation 92, in Hetionet's direction."""
    from backend.ddi.data import drugbank

    db = drugbank(str(data_root))
    with gzip.open(data_root / "ddi" / "hetionet" / "edges" / "CbG.tsv.gz", "rt") as fh:
        frame = pd.read_csv(fh, sep="\t")
    want = {(db.entity_ids[s], db.entity_ids[t]) for s, t in zip(frame["source"], frame["target"])}
    cbg = net.rel == 92
    got = set(zip(net.head[cbg].tolist(), net.tail[cbg].tolist()))
    assert got == want
    cyp2d6 = db.entity_ids["Gene::1565"]
    assert net.entity_names[cyp2d6] == "CYP2D6" and net.entity_kinds[cyp2d6] == "Gene"
    assert (net.head[net.rel <= 108] < db.n_entities).all() and (net.tail < db.n_entities).all()


def test_drug_mapping_and_fingerprint_links(net, data_root):
    from backend.ddi.data import drugbank
    from backend.ddi.network import CRC

    db = drugbank(str(data_root))
    assert db.n_drugs == 1710 and db.n_entities == 34_124
    assert int(net.drug_in_hetionet.sum()) == 1356                  # 354 drugs without a Hetionet node
    assert db.entity_ids["Compound::" + db.drugbank_ids[0]] == 0     # a DDI drug is its own Hetionet compound
    links = net.inferred
    assert (net.rel[links] == CRC).all()
    assert not net.drug_in_hetionet[net.head[links]].any()          # only drugs without a node get links
    linked = np.unique(net.head[links])
    assert len(linked) == int((~net.drug_in_hetionet).sum())         # every one of them (all SMILES readable)
    kg = ~links
    touched = np.zeros(db.n_entities, bool)
    touched[net.head[kg]] = touched[net.tail[kg]] = True
    assert not touched[:db.n_drugs][~net.drug_in_hetionet].any()     # no Hetionet edge touches them


def test_cached_network_loads_fast(net, data_root):
    from backend.ddi.network import cache_path, load_network

    assert cache_path(str(data_root)).exists()
    again = load_network(str(data_root))
    assert again.load_seconds < 20 and again.n_edges == net.n_edges
