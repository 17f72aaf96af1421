"""backend.core.data downloads through pooch, against a local HTTP server (no internet needed).

The server, the toy catalog and its file contents are those of tests/unit/test_data.py.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pooch
import pytest

from backend.core import data
from backend.core.data import DataFile, Dataset, ExtraFile
from backend.core.progress import RecordingProgress
from tests.unit.test_data import EXTRA, GZ, ORIGINAL, PLAIN, server, sha, toy_catalog  # noqa: F401 (fixture)


@pytest.fixture
def toy(server, monkeypatch):  # noqa: F811 (the server fixture)
    catalog = toy_catalog(server)
    monkeypatch.setattr(data, "CATALOG", catalog)
    return catalog["toy"]


def plain_file(toy) -> DataFile:
    return next(f for f in toy.files if f.path == "toy/set/plain.txt")


def downloads(server, path: str = "/plain.txt") -> int:
    return sum(p == path for p, _ in server.requests)


def test_download_goes_through_pooch_with_the_catalog_sha256(server, toy, tmp_path, monkeypatch):
    calls = []
    real = pooch.retrieve

    def spy(url, known_hash=None, **kwargs):
        calls.append((url, known_hash, kwargs["fname"], Path(kwargs["path"])))
        return real(url, known_hash=known_hash, **kwargs)

    monkeypatch.setattr(pooch, "retrieve", spy)
    progress = RecordingProgress()
    got = data.fetch_file(toy, plain_file(toy), tmp_path, progress)
    assert got == tmp_path / "toy/set/plain.txt"
    assert data.sha256_file(got) == sha(PLAIN)
    assert calls == [(f"{server.base}/plain.txt", f"sha256:{sha(PLAIN)}", "plain.txt", tmp_path / "toy/set")]
    events = [e for e in progress.events if e.stage == "download plain.txt"]
    assert events and events[-1].step == events[-1].total == len(PLAIN)
    assert sorted(p.name for p in (tmp_path / "toy/set").iterdir()) == ["plain.txt"]  # no temporary files left


def test_gz_catalog_file_is_stored_as_the_plain_download(server, toy, tmp_path):
    big = next(f for f in toy.files if f.path == "toy/set/big.txt.gz")
    assert data.fetch_file(toy, big, tmp_path, RecordingProgress()) == tmp_path / "toy/set/big.txt"
    assert (tmp_path / "toy/set/big.txt").read_bytes() == ORIGINAL
    assert data.check_file(big, tmp_path) == ("ok", "toy/set/big.txt")


def test_verified_file_is_not_downloaded_again(server, toy, tmp_path):
    f = plain_file(toy)
    data.fetch_file(toy, f, tmp_path, RecordingProgress())
    assert downloads(server) == 1
    data.fetch_file(toy, f, tmp_path, RecordingProgress())   # pooch: the hash matches, nothing to do
    data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert downloads(server) == 1


def test_wrong_hash_is_a_clear_error_and_leaves_nothing(server, toy, tmp_path):
    server.files["/plain.txt"] = b"tampered\n"
    with pytest.raises(data.ChecksumError) as err:
        data.fetch_file(toy, plain_file(toy), tmp_path, RecordingProgress())
    message = str(err.value)
    assert message.startswith("checksum mismatch for toy/set/plain.txt ('toy')")
    assert f"expected sha256 {sha(PLAIN)}" in message and f"got {sha(b'tampered')}" not in message
    assert f"got {sha(b'tampered' + bytes([10]))}" in message and "\n" not in message
    assert list((tmp_path / "toy/set").iterdir()) == []


def test_corrupt_copy_is_replaced_once_the_new_one_is_verified(server, toy, tmp_path):
    target = tmp_path / "toy/set/plain.txt"
    target.parent.mkdir(parents=True)
    target.write_bytes(PLAIN[:-1] + b"?")
    data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert target.read_bytes() == PLAIN and downloads(server) == 1
    assert sorted(p.name for p in target.parent.iterdir()) == ["big.txt", "extra.txt", "plain.txt"]


def test_corrupt_copy_in_the_other_form_is_moved_aside(server, toy, tmp_path):
    folder = tmp_path / "toy/set"
    folder.mkdir(parents=True)
    (folder / "big.txt.gz").write_bytes(gzip.compress(b"not the original"))
    data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert (folder / "big.txt").read_bytes() == ORIGINAL
    assert (folder / "big.txt.gz.corrupt").exists() and not (folder / "big.txt.gz").exists()
    assert [r.status for r in data.verify_data(["toy"], tmp_path)] == ["ok", "ok"]


def test_force_downloads_again_and_keeps_the_old_copy_until_verified(server, toy, tmp_path):
    data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert downloads(server) == downloads(server, "/extra.txt") == 1
    server.files["/plain.txt"] = b"tampered\n"
    with pytest.raises(data.ChecksumError):
        data.fetch_dataset("toy", tmp_path, force=True, progress=RecordingProgress())
    assert (tmp_path / "toy/set/plain.txt").read_bytes() == PLAIN          # the verified copy survives
    assert not [p for p in (tmp_path / "toy/set").iterdir() if p.name.startswith(".")]
    server.files["/plain.txt"] = PLAIN
    data.fetch_dataset("toy", tmp_path, force=True, progress=RecordingProgress())
    assert downloads(server) == 3 and downloads(server, "/extra.txt") == 2
    assert sorted(p.name for p in (tmp_path / "toy/set").iterdir()) == ["big.txt", "extra.txt", "plain.txt"]


def test_interrupted_download_is_kept_and_resumed(server, toy, tmp_path):
    body = bytes(range(256)) * 1000                    # 256 KB: several download chunks
    server.files["/large.bin"] = body
    large = DataFile(path="toy/set/large.bin", bytes=len(body), sha256=sha(body), url=f"{server.base}/large.bin",
                     licence="CC0", source_sha256=sha(body), transform="verbatim copy")
    server.cut_after = 150_000
    with pytest.raises(data.DownloadError) as err:
        data.fetch_file(toy, large, tmp_path, RecordingProgress())
    message = str(err.value)
    assert message.startswith("cannot download toy/set/large.bin for 'toy'") and "broke off" in message
    assert "partial download kept; the next try resumes" in message and err.value.network
    part = tmp_path / "toy/set/large.bin.part"
    kept = part.stat().st_size                         # the whole chunks received before the cut
    assert 0 < kept <= 150_000 and part.read_bytes() == body[:kept]
    assert not (tmp_path / "toy/set/large.bin").exists()
    progress = RecordingProgress()
    data.fetch_file(toy, large, tmp_path, progress)
    assert server.requests[-1] == ("/large.bin", f"bytes={kept}-")
    assert (tmp_path / "toy/set/large.bin").read_bytes() == body and not part.exists()
    steps = [(e.step, e.total) for e in progress.events]
    assert steps[0] == (kept, len(body)) and steps[-1] == (len(body), len(body))


def test_resume_with_a_wrong_range_starts_again(server, toy, tmp_path):
    server.wrong_range = True
    part = tmp_path / "toy/set/plain.txt.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PLAIN[:500])
    data.fetch_file(toy, plain_file(toy), tmp_path, RecordingProgress())
    assert [r for p, r in server.requests if p == "/plain.txt"] == ["bytes=500-", None]
    assert (tmp_path / "toy/set/plain.txt").read_bytes() == PLAIN


def test_complete_part_is_checked_without_downloading_it_again(server, toy, tmp_path):
    part = tmp_path / "toy/set/plain.txt.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PLAIN)
    data.fetch_file(toy, plain_file(toy), tmp_path, RecordingProgress())   # the server answers 416
    assert server.requests == [("/plain.txt", f"bytes={len(PLAIN)}-")]
    assert (tmp_path / "toy/set/plain.txt").read_bytes() == PLAIN and not part.exists()


def test_progress_without_content_length(server, toy, tmp_path):
    server.send_length = False
    progress = RecordingProgress()
    data.fetch_file(toy, plain_file(toy), tmp_path, progress)
    steps = [e.step for e in progress.events]
    assert steps == sorted(set(steps)) and steps[-1] == len(PLAIN)
    assert {e.total for e in progress.events} == {None}


def test_terminal_progress_is_the_default(server, toy, tmp_path, capsys):
    data.fetch_dataset("toy", tmp_path)        # the CLI's call: no progress argument, tqdm bars on stderr
    assert "download plain.txt" in capsys.readouterr().err


def test_http_error_and_extra_pinned_by_sha256(server, monkeypatch, tmp_path):
    catalog = toy_catalog(server)
    ds = catalog["toy"]
    pinned = ExtraFile(path="toy/set/extra.txt", url=f"{server.base}/extra.txt", why="absent", sha256=sha(b"other"))
    monkeypatch.setattr(data, "CATALOG", {"toy": Dataset(**{**ds.__dict__, "extras": (pinned,)})})
    with pytest.raises(data.ChecksumError, match=f"toy/set/extra.txt .*expected sha256 {sha(b'other')}, "
                                                 f"got {sha(EXTRA)}"):
        data.fetch_dataset("toy", tmp_path, progress=RecordingProgress())
    assert not (tmp_path / "toy/set/extra.txt").exists()

    gone = DataFile(path="toy/set/gone.txt", bytes=1, sha256=sha(b"x"), url=f"{server.base}/gone.txt",
                    licence="CC0", source_sha256=sha(b"x"), transform="verbatim copy")
    with pytest.raises(data.DownloadError, match=r"^cannot download toy/set/gone.txt for 'toy' from .*: HTTP 404"):
        data.fetch_file(ds, gone, tmp_path, RecordingProgress())
    assert not (tmp_path / "toy/set/gone.txt").exists() and not (tmp_path / "toy/set/gone.txt.part").exists()


def test_missing_file_names_the_fetch_command(server, toy, tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        data.data_file(tmp_path, "toy/set/plain.txt")
    assert "dataset 'toy'" in str(err.value) and "python -m backend fetch-data toy" in str(err.value)
    assert err.value.dataset == "toy" and "toy/set/plain.txt" in err.value.missing
