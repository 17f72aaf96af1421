"""backend.core.data: data root, loaders' helpers, catalog invariants, fetch (against a local HTTP server), verify."""
from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backend.core import data
from backend.core.data import DataFile, Dataset, ExtraFile
from backend.core.progress import RecordingProgress


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# --------------------------------------------------------------------------- data root

def test_data_root_precedence(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda app: str(tmp_path / "cache" / app))
    monkeypatch.delenv("PARSIMONY_DATA", raising=False)
    assert data.resolve_data_root() == tmp_path / "cache" / "parsimony-explorer" / "data"
    monkeypatch.setenv("PARSIMONY_DATA", str(tmp_path / "env"))
    assert data.resolve_data_root() == tmp_path / "env"
    assert data.resolve_data_root(str(tmp_path / "cli")) == tmp_path / "cli"   # --data-dir wins
    monkeypatch.setenv("PARSIMONY_DATA", "")                                   # empty = unset
    assert data.resolve_data_root().name == "data"


def test_relative_data_root_is_resolved_against_cwd(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PARSIMONY_DATA", "rel/data")
    assert data.resolve_data_root() == tmp_path / "rel" / "data"
    assert data.resolve_data_root("../other") == tmp_path.parent / "other"


# --------------------------------------------------------------------------- loaders' helpers

def test_open_text_plain_and_gz(tmp_path):
    text = "h\tr\tt\nä\tb\tc\n"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    with data.open_text(tmp_path / "a.txt") as fh:
        assert fh.read() == text
    with data.open_text(tmp_path / "b.txt.gz") as fh:
        assert fh.read() == text
    with data.open_text(tmp_path / "b.txt") as fh:  # asks for X, only X.gz exists
        assert fh.read() == text


def test_data_file_accepts_either_form(tmp_path):
    (tmp_path / "kg" / "umls").mkdir(parents=True)
    (tmp_path / "kg" / "umls" / "train.txt.gz").write_bytes(gzip.compress(b"x\n"))
    assert data.data_file(tmp_path, "kg/umls/train.txt") == tmp_path / "kg" / "umls" / "train.txt.gz"
    assert data.data_file(tmp_path, "kg/umls/train.txt.gz") == tmp_path / "kg" / "umls" / "train.txt.gz"


def test_missing_data_message_names_dataset_and_command(tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        data.data_file(tmp_path, "kg/umls/train.txt")
    message = str(err.value)
    assert "'umls'" in message and "python -m backend fetch-data umls" in message
    assert str(tmp_path) in message and "kg/umls/train.txt" in message and "\n" not in message
    with pytest.raises(data.DataMissingError, match="python -m backend fetch-data family"):
        data.require_dataset("family", tmp_path)
    with pytest.raises(data.UnknownDatasetError, match="unknown dataset 'nope'"):
        data.require_dataset("nope", tmp_path)


def test_require_dataset_returns_folder(tmp_path):
    ds = data.CATALOG["umls"]
    for f in ds.files:
        p = tmp_path / f.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")
    assert data.require_dataset("umls", tmp_path) == tmp_path / "kg" / "umls"
    assert data.dataset_status(ds, tmp_path) == "present"
    (tmp_path / ds.files[0].path).unlink()
    assert data.dataset_status(ds, tmp_path) == "partial"
    assert data.dataset_status(data.CATALOG["family"], tmp_path) == "missing"


# --------------------------------------------------------------------------- the shipped catalog

def test_catalog_names_order_and_ownership():
    names = list(data.CATALOG)
    for name in ("family", "umls", "WN18RR", "fb15k-237", "nell", "YAGO", "WN18RR_AutoSF", "fb15k-237_AutoSF",
                 "family_AutoSF", "umls_AutoSF", "drugbank", "twosides", "hetionet", "tox21", "sider", "muv",
                 "toxcast", "pretrain-gnns", "lastfm", "movielens", "pedestrian"):
        assert name in names
    for base in ("WN18RR", "fb237", "nell"):
        for v in range(1, 5):
            folders = {f.path.split("/")[2] for f in data.CATALOG[f"{base}_v{v}"].files}
            assert folders == {f"{base}_v{v}", f"{base}_v{v}_ind"}
    keys = [(ds.area, ds.name.casefold()) for ds in data.CATALOG.values()]
    assert keys == sorted(keys)
    paths = [f.path for ds in data.CATALOG.values() for f in ds.files]
    assert len(paths) == len(set(paths)) == 278
    assert all(ds.files for ds in data.CATALOG.values())
    assert data.CATALOG["umls"].bytes == sum(f.bytes for f in data.CATALOG["umls"].files) == 328992


def test_catalog_notes_and_downloadability():
    assert "facts.txt" in data.CATALOG["nell"].note and "nell/facts.txt" in data.CATALOG["nell"].note
    assert "YAGO/facts.txt" in data.CATALOG["YAGO"].note
    assert "fb15k-237/facts.txt" in data.CATALOG["fb15k-237"].note
    files = {f.path: f for ds in data.CATALOG.values() for f in ds.files}
    nell_ent = files["kg/nell/entities.txt.gz"]
    assert nell_ent.downloadable and nell_ent.download_path == "kg/nell/entities.txt"
    assert nell_ent.download_sha256 == nell_ent.source_sha256 == nell_ent.plain_sha256
    assert files["kg/umls/train.txt"].downloadable
    assert files["molecules/datasets/muv.csv.gz"].download_path == "molecules/datasets/muv.csv.gz"
    for path in ("kg/family_AutoSF/train2id.txt.gz", "kg/fb15k-237/facts.txt.gz", "recsys/lastfm/users.tsv.gz",
                 "recsys/movielens_1m_melu/melu_states.tsv.gz", "ddi/hetionet/edges/CcSE.tsv.gz",
                 "physics/pedestrian/geometry.json", "molecules/datasets/tasks.csv"):
        assert not files[path].downloadable, path


# --------------------------------------------------------------------------- a local HTTP server

@dataclass
class Server:
    base: str
    files: dict[str, bytes] = field(default_factory=dict)
    honour_range: bool = True
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    send_length: bool = True            # False: no Content-Length (the size is unknown to the client)
    cut_after: int | None = None        # the next reply sends only this many body bytes, then hangs up
    wrong_range: bool = False           # answer a Range request with a range that starts elsewhere


@pytest.fixture
def server():
    state = Server(base="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            rng = self.headers.get("Range")
            state.requests.append((self.path, rng))
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            start = 0
            if rng and state.honour_range:
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.end_headers()
                    return
                if state.wrong_range:
                    start = 0
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            if state.send_length:
                self.send_header("Content-Length", str(len(body) - start))
            else:
                self.close_connection = True   # the end of the body is the end of the connection
            self.end_headers()
            if state.cut_after is not None:
                cut, state.cut_after = state.cut_after, None
                self.wfile.write(body[start:start + cut])
                self.close_connection = True
                return
            self.wfile.write(body[start:])

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    httpd.shutdown()
    httpd.server_close()


PLAIN = b"alpha\tr1\tbeta\n" * 3000          # 42 KB: several download chunks
EXTRA = b"facts the mirror lacks\n"
ORIGINAL = b"gamma\tr2\tdelta\n" * 500
GZ = gzip.compress(ORIGINAL, mtime=0)


def toy_catalog(server: Server, **overrides) -> dict[str, Dataset]:
    server.files.update({"/plain.txt": PLAIN, "/big.txt": ORIGINAL, "/extra.txt": EXTRA})
    blob = hashlib.sha1(b"blob %d\0" % len(EXTRA) + EXTRA).hexdigest()
    extras = (ExtraFile(path="toy/set/extra.txt", url=f"{server.base}/extra.txt", why="absent from the mirror",
                        git_blob=overrides.get("git_blob", blob)),)
    files = (
        DataFile(path="toy/set/plain.txt", bytes=len(PLAIN), sha256=sha(PLAIN), url=f"{server.base}/plain.txt",
                 licence="CC0", source_sha256=sha(PLAIN), transform="verbatim copy"),
        DataFile(path="toy/set/big.txt.gz", bytes=len(GZ), sha256=sha(GZ), url=f"{server.base}/big.txt",
                 licence="CC0", source_sha256=sha(ORIGINAL), transform="gzip -9 -n of the original",
                 plain_sha256=sha(ORIGINAL)),
    )
    toy = Dataset(name="toy", area="toy", description="toy data", files=files, origin="here@0", licence="CC0",
                  counts={"lines": 3500}, note=overrides.get("note", ""), folders=("toy/set",), extras=extras)
    return {"toy": toy}


@pytest.fixture
def toy(server, monkeypatch):
    catalog = toy_catalog(server)
    monkeypatch.setattr(data, "CATALOG", catalog)
    return catalog["toy"]


def test_fetch_full_download_then_skip(server, toy, tmp_path):
    progress = RecordingProgress()
    data.fetch_dataset("toy", tmp_path, progress=progress)
    assert (tmp_path / "toy/set/plain.txt").read_bytes() == PLAIN
    # the mirror's X.gz is gzip of the original: the download is stored as the plain X
    assert (tmp_path / "toy/set/big.txt").read_bytes() == ORIGINAL
    assert (tmp_path / "toy/set/extra.txt").read_bytes() == EXTRA   # extras: checked by their git blob id
    assert not list(tmp_path.rglob("*.part"))
    steps = [e.step for e in progress.events if e.stage == "download plain.txt"]
    assert steps == sorted(steps) and steps[-1] == len(PLAIN)
    assert data.dataset_status(toy, tmp_path) == "present"
    assert data.require_dataset("toy", tmp_path) == tmp_path / "toy/set"
    with data.open_text(data.data_file(tmp_path, "toy/set/big.txt")) as fh:
        assert fh.read() == ORIGINAL.decode()
    assert [r.status for r in data.verify_data(["toy"], tmp_path)] == ["ok", "ok"]
    n = len(server.requests)
    data.fetch_dataset("all", tmp_path, progress=RecordingProgress())
    assert len(server.requests) == n  # verified files are skipped


@pytest.mark.parametrize("honour_range", [True, False])
def test_fetch_resumes_partial_download(server, toy, tmp_path, honour_range):
    server.honour_range = honour_range
    half = len(PLAIN) // 2
    target = tmp_path / "toy/set/plain.txt"
    target.parent.mkdir(parents=True)
    Path(str(target) + ".part").write_bytes(PLAIN[:half])
    data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert target.read_bytes() == PLAIN
    assert ("/plain.txt", f"bytes={half}-") in server.requests
    assert not Path(str(target) + ".part").exists()


def test_fetch_refuses_wrong_checksum(server, toy, tmp_path):
    server.files["/plain.txt"] = b"tampered\n"
    with pytest.raises(data.ChecksumError) as err:
        data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    message = str(err.value)
    assert "toy/set/plain.txt" in message and sha(PLAIN) in message and sha(b"tampered\n") in message
    assert "\n" not in message
    assert "deleted" in message
    # pooch deleted the bad download: nothing at the target, no partial file to resume, no temporary file
    assert list((tmp_path / "toy/set").iterdir()) == []


def test_fetch_not_downloadable_and_unreachable(server, monkeypatch, tmp_path):
    catalog = toy_catalog(server)
    derived = DataFile(path="toy/set/derived.txt", bytes=1, sha256=sha(b"x"),
                       url=f"{server.base}/a.txt + {server.base}/b.txt", licence="CC0",
                       transform="derived: concatenation")
    ds = catalog["toy"]
    catalog["toy"] = Dataset(**{**ds.__dict__, "files": ds.files + (derived,)})
    monkeypatch.setattr(data, "CATALOG", catalog)
    with pytest.raises(data.NotDownloadableError) as err:
        data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert "toy/set/derived.txt cannot be downloaded directly" in str(err.value)
    assert "toy/README.md" in str(err.value)
    assert (tmp_path / "toy/set/plain.txt").exists()  # the downloadable files were fetched first

    dead = DataFile(path="toy/set/dead.txt", bytes=1, sha256=sha(b"x"), url="http://127.0.0.1:9/dead.txt",
                    licence="CC0", source_sha256=sha(b"x"), transform="verbatim copy")
    monkeypatch.setattr(data, "CATALOG", {"toy": Dataset(**{**ds.__dict__, "files": (dead,),
                                                            "note": "INCOMPLETE: more.txt absent"})})
    with pytest.raises(data.DownloadError) as err:
        data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    message = str(err.value)
    assert message.startswith("cannot download toy/set/dead.txt") and "no connection" in message
    assert "INCOMPLETE: more.txt absent" in message and "\n" not in message
    with pytest.raises(data.UnknownDatasetError):
        data.fetch_dataset("nope", tmp_path)


def test_fetch_extra_with_wrong_git_blob_is_refused(server, monkeypatch, tmp_path):
    monkeypatch.setattr(data, "CATALOG", toy_catalog(server, git_blob="0" * 40))
    with pytest.raises(data.ChecksumError, match="toy/set/extra.txt .*expected git blob id 0000"):
        data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert not (tmp_path / "toy/set/extra.txt").exists()


def test_missing_extra_names_its_dataset(tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        data.data_file(tmp_path, "kg/nell/facts.txt")
    assert "dataset 'nell'" in str(err.value) and "python -m backend fetch-data nell" in str(err.value)


def test_verify_reports_ok_missing_corrupt(server, toy, tmp_path):
    (tmp_path / "toy/set").mkdir(parents=True)
    (tmp_path / "toy/set/plain.txt").write_bytes(PLAIN[:-1] + b"?")       # same size, wrong bytes
    (tmp_path / "toy/set/big.txt.gz").write_bytes(GZ)                      # the mirror form
    progress = RecordingProgress()
    report = {r.path: r for r in data.verify_data(None, tmp_path, progress=progress)}
    assert report["toy/set/plain.txt"].status == "corrupt" and sha(PLAIN) in report["toy/set/plain.txt"].detail
    assert report["toy/set/big.txt.gz"].status == "ok"
    assert [e.step for e in progress.events] == [1, 2]
    (tmp_path / "toy/set/plain.txt").unlink()
    (tmp_path / "toy/set/plain.txt.gz").write_bytes(gzip.compress(PLAIN))  # X.gz for catalog X is accepted
    (tmp_path / "toy/set/big.txt.gz").unlink()
    report = {r.path: r for r in data.verify_data(["toy"], tmp_path)}
    assert report["toy/set/plain.txt"].status == "ok"
    assert report["toy/set/big.txt.gz"].status == "missing"
    assert "python -m backend fetch-data toy" in report["toy/set/big.txt.gz"].detail
