"""The catalog against the data mirror ($PARSIMONY_DATA; CI: ../shared/data).

Every catalog file must be there under its exact catalog path with the catalog's size and sha256,
and the catalog must list exactly the mirror's MANIFEST rows (so a stale catalog.json is caught;
rebuild it with ``python scripts/build_catalog.py``). Without a data root the tests skip, except
under CI (CI=true), where a missing data root is a failure.
"""
from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import pytest

from backend.core import data


@pytest.fixture(scope="module")
def mirror() -> Path:
    value = os.environ.get("PARSIMONY_DATA", "").strip()
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not value or not Path(value).is_dir():
        reason = (f"PARSIMONY_DATA={value!r} is not a folder" if value else "PARSIMONY_DATA is not set")
        if in_ci:
            pytest.fail(f"{reason}: CI must run with the data mirror (PARSIMONY_DATA=../shared/data)")
        pytest.skip(f"{reason}: set it to the data mirror (e.g. ../shared/data) to check the catalog against it")
    return Path(value)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.mark.parametrize("name", list(data.CATALOG))
def test_every_catalog_file_is_in_the_mirror(mirror, name):
    ds = data.CATALOG[name]
    problems = []
    for f in ds.files:
        p = mirror / f.path
        if not p.is_file():
            problems.append(f"{f.path}: missing")
        elif p.stat().st_size != f.bytes:
            problems.append(f"{f.path}: {p.stat().st_size} bytes, catalog says {f.bytes}")
        elif _sha256(p) != f.sha256:
            problems.append(f"{f.path}: sha256 differs from the catalog")
    assert not problems, problems
    assert data.dataset_status(ds, mirror) == "present"


def test_catalog_matches_the_manifests(mirror):
    rows = {}
    for manifest in sorted(mirror.glob("*/MANIFEST.tsv")):
        with open(manifest, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if Path(row["path"]).name not in ("README.md", "MANIFEST.tsv"):
                    rows[row["path"]] = row
    catalog = {f.path: f for ds in data.CATALOG.values() for f in ds.files}
    assert sorted(catalog) == sorted(rows), "catalog.json is stale: run python scripts/build_catalog.py"
    for path, row in rows.items():
        f = catalog[path]
        assert (f.bytes, f.sha256, f.url) == (int(row["bytes"]), row["sha256"], row["source_url"].strip() or "-"), path
        given = (row.get("source_sha256") or "").strip()
        if given not in ("", "-"):
            assert f.source_sha256 == given, path


def test_verify_data_on_the_mirror(mirror):
    report = data.verify_data(["umls", "pedestrian"], mirror)
    assert len(report) == 10
    assert {r.status for r in report} == {"ok"}, [r for r in report if r.status != "ok"]
