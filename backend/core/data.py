"""Data root, dataset catalog, download and checksum verification.

The catalog (``catalog.json`` next to this file, written by ``scripts/build_catalog.py`` from the
data mirror's MANIFEST.tsv files) lists every dataset and file: path relative to the data root,
bytes, sha256, public URL, licence. Files may be stored gzip-compressed: for a catalog file
``X.gz`` that is ``gzip -9 -n`` of the original at its URL, a download is stored as the plain ``X``
(checked against ``source_sha256``); loaders accept either form (:func:`data_file`,
:func:`open_text`).

Downloads go through pooch (``pooch.retrieve`` with ``known_hash="sha256:..."`` and a
``pooch.HTTPDownloader`` whose progress bar forwards to the project's progress callback): pooch
skips a file already there with the right hash, streams into a temporary file next to the target,
checks the sha256, deletes a download that does not match and moves a matching one into place.
Hand-written here, because pooch does not do it:

- placing each file at its catalog path under the data root, in the form its URL serves (the plain
  ``X`` of a catalog ``X.gz`` whose URL serves the original; no decompression or recompression);
  a corrupt copy in the other form is moved aside (``.corrupt``) so it cannot shadow the download;
- resuming: pooch restarts an interrupted download from zero, so bytes are kept in ``TARGET.part``
  and a retry asks for the rest with an HTTP Range request (:class:`_ResumingDownloader`);
- ``--force`` (pooch keeps a file whose hash matches): the new copy is downloaded beside the old
  one and replaces it only once verified;
- extras pinned by a git blob id (not a hash pooch knows) are checked after the download;
- one-line :class:`DataError` messages instead of requests'/pooch's exceptions.

Expected problems raise :class:`DataMissingError` (data not there: the message names the dataset
and the exact ``python -m backend fetch-data`` command) or a :class:`DataError` (a ``ValueError``:
unknown name, failed download, wrong checksum, file that cannot be downloaded directly), each
with a one-line message.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlparse

from backend.core.progress import ProgressEvent

from backend.core.files import sha256_file  # re-exported: data.sha256_file

log = logging.getLogger(__name__)

CATALOG_PATH = Path(__file__).with_name("catalog.json")
ENV_VAR = "PARSIMONY_DATA"
APP_NAME = "parsimony-explorer"
FETCH_COMMAND = "python -m backend fetch-data"
TIMEOUT = (15, 60)          # requests (connect, read) timeouts in seconds
CHUNK = 1 << 16             # download chunk, bytes
USER_AGENT = f"{APP_NAME} (python pooch)"
_DIRECT_TRANSFORMS = ("verbatim", "gzip", "none (byte copy", "byte copy")

Progress = Callable[[ProgressEvent], None]


# --------------------------------------------------------------------------- errors

class DataMissingError(Exception):
    """Data a caller needs is not under the data root. The message says how to get it."""

    def __init__(self, message: str, *, dataset: str | None = None, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.missing = missing

    @classmethod
    def for_dataset(cls, ds: "Dataset", root: Path, missing: Iterable[str]) -> "DataMissingError":
        missing = tuple(missing)
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        message = (f"dataset '{ds.name}' is not under {root} (missing {shown}); "
                   f"get it with: {ds.fetch_command}")
        if any(not f.downloadable for f in ds.files if f.path in missing):
            message += f" (derived files cannot be downloaded; see {ds.readme} of the data mirror)"
        return cls(message, dataset=ds.name, missing=missing)


class DataError(ValueError):
    """An expected data problem with a one-line message (CLI: exit 2, pages: st.error)."""


class UnknownDatasetError(DataError):
    pass


class DownloadError(DataError):
    """A download failed; ``network`` is True when the server could not be reached at all."""

    def __init__(self, message: str, network: bool = False) -> None:
        super().__init__(message)
        self.network = network


class ChecksumError(DataError):
    pass


class NotDownloadableError(DataError):
    pass


# --------------------------------------------------------------------------- catalog types

@dataclass(frozen=True)
class DataFile:
    """One catalog file. ``path`` is relative to the data root, exactly as in the mirror's MANIFEST."""

    path: str
    bytes: int
    sha256: str
    url: str
    licence: str
    source_sha256: str | None = None   # sha256 of the file at ``url`` (None if unknown)
    transform: str = ""                # how the mirror copy was made from the file at ``url``
    plain_sha256: str | None = None    # for *.gz: sha256 of the decompressed content

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def is_gz(self) -> bool:
        return self.path.endswith(".gz")

    @property
    def alt_path(self) -> str:
        """The other accepted form: ``X`` for ``X.gz`` and ``X.gz`` for ``X``."""
        return self.path[:-3] if self.is_gz else self.path + ".gz"

    @property
    def single_url(self) -> bool:
        u = self.url.strip()
        return u.startswith(("https://", "http://")) and not any(c in u for c in " \t;+()")

    @property
    def downloadable(self) -> bool:
        """True when ``url`` serves this file's content as such (verbatim, or the original of a .gz)."""
        if not self.single_url or urlparse(self.url).path.lower().endswith((".zip", ".tar.gz", ".tgz", ".tar")):
            return False
        return self.transform.strip().lower().startswith(_DIRECT_TRANSFORMS) and self.download_sha256 is not None

    @property
    def why_not_downloadable(self) -> str:
        if self.url.strip() in ("", "-"):
            return "no public URL"
        if not self.single_url:
            return "built from several sources or archive members"
        text = self.transform.strip() or "not a verbatim copy"
        return text if len(text) <= 90 else text[:87] + "..."

    @property
    def downloads_original_of_gz(self) -> bool:
        """The URL serves the uncompressed original of this ``X.gz``: the download is stored as ``X``."""
        return self.is_gz and not urlparse(self.url).path.endswith(".gz")

    @property
    def download_path(self) -> str:
        return self.alt_path if self.downloads_original_of_gz else self.path

    @property
    def download_sha256(self) -> str | None:
        return self.source_sha256 if self.downloads_original_of_gz else self.sha256


@dataclass(frozen=True)
class ExtraFile:
    """A file the mirror lacks but whose public URL is known (not a catalog file: no pinned sha256
    unless ``sha256`` is given; ``git_blob`` is the git object id of the file at that commit)."""

    path: str
    url: str
    why: str = ""
    sha256: str | None = None
    git_blob: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def checked(self) -> bool:
        return bool(self.sha256 or self.git_blob)


@dataclass(frozen=True)
class Dataset:
    """One catalog dataset: files under one or more folders of one area."""

    name: str
    area: str
    description: str
    files: tuple[DataFile, ...]
    origin: str
    licence: str
    counts: dict = field(default_factory=dict)
    note: str = ""
    folders: tuple[str, ...] = ()
    extras: tuple[ExtraFile, ...] = ()   # files the mirror lacks; fetch-data gets them from their URL

    def __hash__(self) -> int:  # counts is a dict; identity is (area, name)
        return hash((self.area, self.name))

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def folder(self) -> str:
        """Main folder relative to the data root (inductive splits: the training graph's folder)."""
        return self.folders[0] if self.folders else self.files[0].path.rsplit("/", 1)[0]

    @property
    def readme(self) -> str:
        return f"{self.area}/README.md"

    @property
    def fetch_command(self) -> str:
        return f"{FETCH_COMMAND} {self.name}"

    @property
    def downloadable(self) -> bool:
        return all(f.downloadable for f in self.files)


@dataclass(frozen=True)
class VerifyResult:
    dataset: str
    path: str       # catalog path (relative to the data root)
    status: str     # "ok" | "missing" | "corrupt"
    detail: str = ""


def load_catalog(path: Path = CATALOG_PATH) -> tuple[dict[str, Dataset], dict[str, str]]:
    """Datasets ordered by area then name, and the per-area notes."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    datasets = []
    for d in raw["datasets"]:
        files = tuple(DataFile(**f) for f in d["files"])
        datasets.append(Dataset(name=d["name"], area=d["area"], description=d["description"], files=files,
                                origin=d["origin"], licence=d["licence"], counts=dict(d["counts"]),
                                note=d.get("note", ""), folders=tuple(d.get("folders", ())),
                                extras=tuple(ExtraFile(**e) for e in d.get("extras", ()))))
    datasets.sort(key=lambda ds: (ds.area, ds.name.casefold()))
    notes = {area: info.get("note", "") for area, info in raw.get("areas", {}).items()}
    return {ds.name: ds for ds in datasets}, notes


CATALOG, AREA_NOTES = load_catalog()
AREAS: tuple[str, ...] = tuple(dict.fromkeys(ds.area for ds in CATALOG.values()))


def get_dataset(name: str, catalog: dict[str, Dataset] | None = None) -> Dataset:
    """The dataset called ``name`` (exact, else case-insensitive)."""
    catalog = CATALOG if catalog is None else catalog
    if name in catalog:
        return catalog[name]
    matches = [ds for key, ds in catalog.items() if key.casefold() == name.casefold()]
    if len(matches) == 1:
        return matches[0]
    raise UnknownDatasetError(f"unknown dataset '{name}'; known: {', '.join(catalog)} (see: python -m backend list)")


def _select(names: Iterable[str] | None, catalog: dict[str, Dataset]) -> list[Dataset]:
    names = list(names or [])
    if not names or "all" in names:
        return list(catalog.values())
    return list(dict.fromkeys(get_dataset(n, catalog) for n in names))


def find_file(rel_path: str, catalog: dict[str, Dataset] | None = None) -> tuple[Dataset, DataFile] | None:
    """The catalog entry for ``rel_path`` (either form, ``X`` or ``X.gz``), or None."""
    catalog = CATALOG if catalog is None else catalog
    rel = rel_path.replace(os.sep, "/").lstrip("/")
    wanted = {rel, rel[:-3] if rel.endswith(".gz") else rel + ".gz"}
    for ds in catalog.values():
        for f in ds.files:
            if f.path in wanted:
                return ds, f
    return None


# --------------------------------------------------------------------------- data root

def resolve_data_root(cli_value: str | os.PathLike | None = None) -> Path:
    """--data-dir, else $PARSIMONY_DATA, else the per-user cache folder; absolute (relative to the cwd)."""
    if cli_value:
        chosen = Path(cli_value)
    elif os.environ.get(ENV_VAR, "").strip():
        chosen = Path(os.environ[ENV_VAR].strip())
    else:
        import platformdirs

        chosen = Path(platformdirs.user_cache_dir(APP_NAME)) / "data"
    return Path(os.path.abspath(chosen.expanduser()))


def describe_data_root(cli_value: str | None = None) -> str:
    """Where the data root comes from, in words (for pages and `list`)."""
    if cli_value:
        return "--data-dir"
    if os.environ.get(ENV_VAR, "").strip():
        return f"${ENV_VAR}"
    return "the per-user cache (neither --data-dir nor $PARSIMONY_DATA is set)"


# --------------------------------------------------------------------------- presence and loaders

def local_copy(f: DataFile, root: Path) -> Path | None:
    """The existing form of ``f`` under ``root``: the catalog form first, then the other one."""
    for rel in (f.path, f.alt_path):
        p = Path(root) / rel
        if p.is_file():
            return p
    return None


def dataset_status(ds: Dataset, root: Path) -> str:
    """'present' (every file there in some form), 'partial' or 'missing'. Existence only, no hashing."""
    have = sum(local_copy(f, root) is not None for f in ds.files)
    if have == len(ds.files):
        return "present"
    return "partial" if have else "missing"


def missing_files(ds: Dataset, root: Path) -> list[str]:
    return [f.path for f in ds.files if local_copy(f, root) is None]


def data_file(root: Path, rel_path: str) -> Path:
    """The existing ``X`` or ``X.gz`` for ``rel_path`` (either form may be asked for).

    Raises DataMissingError naming the dataset that contains it and the fetch command.
    """
    rel = rel_path.replace(os.sep, "/").lstrip("/")
    alt = rel[:-3] if rel.endswith(".gz") else rel + ".gz"
    for candidate in (rel, alt):
        p = Path(root) / candidate
        if p.is_file():
            return p
    hit = find_file(rel)
    if hit is None:
        for ds in CATALOG.values():
            for e in ds.extras:
                if e.path in (rel, alt):
                    raise DataMissingError(f"{e.path} of dataset '{ds.name}' is not under {root} ({e.why}); "
                                           f"get it with: {ds.fetch_command}", dataset=ds.name, missing=(e.path,))
        raise DataMissingError(f"{rel} is not under {root} and is not a catalog file (see: python -m backend list)")
    ds, f = hit
    others = [m for m in missing_files(ds, Path(root)) if m != f.path]
    raise DataMissingError.for_dataset(ds, Path(root), [f.path, *others])


def require_dataset(name: str, root: Path | None = None) -> Path:
    """The dataset's main folder under ``root`` (default: resolve_data_root()); every file must be there."""
    ds = get_dataset(name)
    root = resolve_data_root() if root is None else Path(root)
    missing = missing_files(ds, root)
    if missing:
        raise DataMissingError.for_dataset(ds, root, missing)
    return root / ds.folder


def open_text(path: str | os.PathLike, encoding: str = "utf-8", errors: str = "strict") -> io.TextIOBase:
    """Open a plain or gzip file as text (gzip is detected from its magic bytes).

    If ``path`` does not exist but its other form (``X.gz`` / ``X``) does, that one is opened.
    """
    p = Path(path)
    if not p.exists():
        alt = p.with_name(p.name[:-3]) if p.name.endswith(".gz") else p.with_name(p.name + ".gz")
        if alt.exists():
            p = alt
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(p, "rt", encoding=encoding, errors=errors)
    return open(p, "r", encoding=encoding, errors=errors)


# --------------------------------------------------------------------------- checksums


def git_blob_id(path: Path) -> str:
    """The git object id of a file's content (``git hash-object``)."""
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_file(f: DataFile, root: Path) -> tuple[str, str]:
    """(status, detail) of one catalog file under ``root``: 'ok', 'missing' or 'corrupt'."""
    p = local_copy(f, root)
    if p is None:
        return "missing", "not under the data root"
    rel = p.relative_to(root).as_posix()
    if rel == f.path:
        size = p.stat().st_size
        if size != f.bytes:
            return "corrupt", f"{rel}: {size} bytes, expected {f.bytes}"
        expected, got = f.sha256, sha256_file(p)
    elif f.is_gz:  # plain X for catalog X.gz: compare with the decompressed content
        expected = f.plain_sha256 or f.source_sha256
        if expected is None:
            return "corrupt", f"{rel}: no checksum known for the uncompressed form; use {f.path}"
        got = sha256_file(p)
    else:  # X.gz for catalog X
        try:
            expected, got = f.sha256, sha256_file(p, decompress=True)
        except (OSError, EOFError) as exc:
            return "corrupt", f"{rel}: not a readable gzip file ({exc})"
    if got != expected:
        return "corrupt", f"{rel}: sha256 {got}, expected {expected}"
    return "ok", rel


def verify_data(names: list[str] | None, root: Path, progress: Progress | None = None) -> list[VerifyResult]:
    """Check every file of the named datasets (all when None/empty or 'all') against its sha256."""
    datasets = _select(names, CATALOG)
    root = Path(root)
    files = [(ds, f) for ds in datasets for f in ds.files]
    results = []
    for i, (ds, f) in enumerate(files):
        status, detail = check_file(f, root)
        if status == "missing":
            detail = f"not under {root}; get it with: {ds.fetch_command}"
        results.append(VerifyResult(ds.name, f.path, status, detail))
        if progress is not None:
            progress(ProgressEvent(stage="verify", step=i + 1, total=len(files), message=f.path))
    return results


# --------------------------------------------------------------------------- download (pooch)

class _ProgressBar:
    """The progress-bar object ``pooch.HTTPDownloader`` drives (``total``, ``update``, ``reset``, ``close``),
    forwarding ``ProgressEvent(stage="download NAME", step=bytes of the file so far, total)`` to a callback.

    pooch counts chunk sizes (not bytes written) and sets ``total`` to the reply's Content-Length (0 when
    unknown; only the rest of the file for a resumed download), so the step is read from the file itself.
    """

    def __init__(self, progress: Progress, stage: str, fh) -> None:
        self._progress, self._stage, self._fh = progress, stage, fh
        self._total: int | None = None
        self._last: int | None = None

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, remaining: int) -> None:
        self._total = self._fh.tell() + remaining if remaining else None
        self.update(0)

    def update(self, n: int) -> None:
        step = self._fh.tell()
        if step != self._last:
            self._last = step
            self._progress(ProgressEvent(stage=self._stage, step=step, total=self._total))

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class _RangeMismatch(Exception):
    """The server answered a resumed request with a byte range we did not ask for."""


class _ResumingDownloader:
    """A pooch downloader: ``pooch.HTTPDownloader`` writing into ``part``, resumed with an HTTP Range request.

    pooch cannot resume (it streams into a fresh temporary file and deletes it on failure), so the
    bytes are kept in ``TARGET.part`` across tries and handed to pooch's temporary file when complete;
    pooch then checks the sha256 and moves it into place (or deletes it). A 206 reply with the
    matching Content-Range is appended; a 200 reply (server ignored Range) restarts the file; 416
    (range not satisfiable) means ``part`` is probably complete already (the hash decides).
    """

    def __init__(self, part: Path, progress: Progress, stage: str) -> None:
        self.part, self.progress, self.stage = part, progress, stage

    def __call__(self, url: str, output_file: str, pooch_obj) -> None:
        try:
            self._download(url, output_file, pooch_obj)
        finally:
            if self.part.exists() and not self.part.stat().st_size:
                self.part.unlink()  # nothing received: nothing to resume

    def _download(self, url: str, output_file: str, pooch_obj) -> None:
        import pooch
        import requests

        for _ in range(2):
            offset = self.part.stat().st_size if self.part.exists() else 0
            headers = {"User-Agent": USER_AGENT}
            if offset:  # byte offsets of the stored file: ask for it unencoded
                headers.update({"Range": f"bytes={offset}-", "Accept-Encoding": "identity"})
            with open(self.part, "ab") as fh:

                def check_range(response, *args, **kwargs):
                    if offset and response.status_code == 206:
                        if not response.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
                            fh.seek(0)
                            fh.truncate()
                            raise _RangeMismatch
                    elif offset and response.status_code == 200:
                        fh.seek(0)
                        fh.truncate()

                bar = _ProgressBar(self.progress, self.stage, fh)
                http = pooch.HTTPDownloader(progressbar=bar, chunk_size=CHUNK, timeout=TIMEOUT, headers=headers,
                                            hooks={"response": check_range})
                try:
                    http(url, fh, pooch_obj)
                except _RangeMismatch:
                    continue  # start again from zero
                except requests.exceptions.HTTPError as exc:
                    if not (offset and exc.response is not None and exc.response.status_code == 416):
                        raise
                done = fh.tell()
            if bar.total is not None and done < bar.total:
                raise requests.exceptions.ConnectionError(f"connection closed after {done} of {bar.total} bytes")
            os.replace(self.part, output_file)
            return
        raise requests.exceptions.ConnectionError("the server answered with an unexpected byte range twice")


def _short_reason(exc: Exception, url: str) -> str:
    import requests

    host = urlparse(url).netloc
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason or ''}".strip()
    if isinstance(exc, requests.exceptions.Timeout):
        return f"timed out talking to {host}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"no connection to {host} (offline, blocked or unreachable)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the connection to {host} broke off during the download"
    return f"{type(exc).__name__}"


def _retrieve(url: str, target: Path, sha256: str | None, progress: Progress, *, what: str, name: str,
              force: bool = False, check: Callable[[Path], tuple[str, str, str] | None] | None = None) -> Path:
    """``pooch.retrieve`` ``url`` to ``target`` (resumable, sha256-checked when ``sha256`` is given).

    ``what`` names the file in download errors, ``name`` in checksum errors. ``check(path)`` is a
    further test of the download before it replaces ``target`` (returns (kind, expected, got) when
    it fails). With ``force`` an existing ``target`` is downloaded again (pooch alone would keep a
    copy whose hash matches); it is replaced only by a verified download.
    """
    import pooch
    import requests

    target = Path(target)
    dest = target
    if force and target.exists():
        dest = target.with_name(f".{target.name}.refetch")
        dest.unlink(missing_ok=True)  # a leftover would count as downloaded when no hash is pinned
    part = target.with_name(target.name + ".part")
    downloader = _ResumingDownloader(part, progress, f"download {target.name}")
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch's INFO lines speak to pooch users ("use this known_hash"); not ours
    try:
        pooch.retrieve(url, known_hash=f"sha256:{sha256}" if sha256 else None, fname=dest.name, path=dest.parent,
                       downloader=downloader)
    except requests.exceptions.RequestException as exc:
        kept = " (partial download kept; the next try resumes)" if part.exists() and part.stat().st_size else ""
        network = isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                                   requests.exceptions.ChunkedEncodingError))
        raise DownloadError(f"cannot download {what} from {url}: {_short_reason(exc, url)}{kept}",
                            network=network) from None
    except ValueError as exc:  # pooch: hash mismatch; it has deleted the download
        if "hash" not in str(exc):
            raise
        found = re.search(r"\bgot ([0-9a-fA-F]{64})\b", str(exc))
        got = found.group(1).lower() if found else "a different one"
        raise ChecksumError(f"checksum mismatch for {name}: expected sha256 {sha256}, got {got}; "
                            f"refused, the download was deleted") from None
    except OSError as exc:
        raise DataError(f"cannot write {dest}: {exc.strerror or exc} (choose a writable data root with "
                        f"--data-dir or PARSIMONY_DATA)") from None
    finally:
        logger.setLevel(level)
    failed = check(dest) if check is not None else None
    if failed:
        dest.unlink()
        kind, expected, got = failed
        raise ChecksumError(f"checksum mismatch for {name}: expected {kind} {expected}, got {got}; "
                            f"refused, the download was deleted")
    if dest != target:
        os.replace(dest, target)
    return target


def _terminal_progress() -> Progress:
    """tqdm bars: bytes for 'download ...' stages, files for the rest."""
    from backend.core.progress import TqdmProgress

    byte_bars, file_bars = TqdmProgress(unit="B", unit_scale=True, unit_divisor=1024), TqdmProgress(unit="file")

    def callback(event: ProgressEvent) -> None:
        (byte_bars if event.stage.startswith("download ") else file_bars)(event)

    return callback


def _move_aside(p: Path) -> Path:
    bad = p.with_name(p.name + ".corrupt")
    p.replace(bad)
    return bad


def fetch_file(ds: Dataset, f: DataFile, root: Path, progress: Progress, force: bool = False) -> Path:
    """Download one catalog file (resumable) to its path under ``root``, verified by sha256. Returns its path."""
    if not f.downloadable:
        raise NotDownloadableError(f"{f.path} cannot be downloaded directly ({f.why_not_downloadable}); "
                                   f"see {ds.readme} of the data mirror")
    return _retrieve(f.url, Path(root) / f.download_path, f.download_sha256, progress, force=force,
                     what=f"{f.path} for '{ds.name}'", name=f"{f.download_path} ('{ds.name}')")


def fetch_extra(ds: Dataset, e: ExtraFile, root: Path, progress: Progress, force: bool = False) -> Path:
    """Download a file the mirror lacks; checked by sha256 (pooch) or git blob id when known."""

    def check_blob(p: Path) -> tuple[str, str, str] | None:
        got = git_blob_id(p)
        return None if got == e.git_blob else ("git blob id", e.git_blob, got)

    target = _retrieve(e.url, Path(root) / e.path, e.sha256, progress, force=force,
                       what=f"{e.path} for '{ds.name}' ({e.why})", name=f"{e.path} ('{ds.name}')",
                       check=check_blob if e.git_blob and not e.sha256 else None)
    if not e.checked:
        log.warning("%s: no checksum is pinned for this file; sha256 of the download: %s", e.path, sha256_file(target))
    return target


def fetch_dataset(name: str, root: Path, force: bool = False, progress: Progress | None = None) -> list[Path]:
    """Download dataset ``name`` (or 'all') into ``root``; verified files are skipped unless ``force``.

    Also downloads the dataset's ``extras`` (files the mirror lacks, e.g. nell's facts.txt), checked
    by sha256 or git blob id where known. Returns the paths of the files now under ``root``. Raises
    DataError subclasses with a one-line message: unknown name, download failure, checksum
    mismatch, or files that cannot be downloaded directly (derived or archive members: the message
    points to the area README).
    """
    if progress is None:
        progress = _terminal_progress()
    datasets = _select([name], CATALOG)
    root = Path(root)
    paths: list[Path] = []
    failures: list[DataError] = []
    for ds in datasets:
        try:
            paths += _fetch_one(ds, root, force, progress)
        except DownloadError as exc:
            if len(datasets) == 1 or exc.network:
                raise _with_note(exc, ds)
            failures.append(exc)
        except DataError as exc:
            if len(datasets) == 1:
                raise _with_note(exc, ds)
            failures.append(exc)
    if failures:
        raise DataError(f"{len(failures)} of {len(datasets)} datasets not fetched completely; first: {failures[0]}")
    return paths


def _with_note(exc: DataError, ds: Dataset) -> DataError:
    """Add what is still missing after a failure (the dataset's extras) to the message."""
    pending = [e.path for e in ds.extras if e.path not in str(exc)]
    if pending and ds.note.startswith(("INCOMPLETE", "PARTIAL")):
        exc.args = (f"{exc}; note: {ds.note}",)
    return exc


def _fetch_one(ds: Dataset, root: Path, force: bool, progress: Progress) -> list[Path]:
    paths, not_direct = [], []
    stage = f"fetch {ds.name}"

    def tick(i: int) -> None:  # the last step is sent once at the end, with the summary
        if i + 1 < len(ds.files):
            progress(ProgressEvent(stage=stage, step=i + 1, total=len(ds.files)))

    for i, f in enumerate(ds.files):
        existing = local_copy(f, root)
        if existing is not None:
            status, detail = check_file(f, root)
            if status == "ok" and (not force or not f.downloadable):
                paths.append(existing)
                log.info("%s: verified, skipped", detail)
                tick(i)
                continue
            # a corrupt copy at the download path is replaced by pooch once the new one is verified;
            # one in the other form (X vs X.gz) would shadow the download, so it is moved aside
            if status == "corrupt" and f.downloadable and existing != root / f.download_path:
                try:
                    bad = _move_aside(existing)
                except OSError as exc:
                    raise DataError(f"{existing} fails its checksum ({detail}) and cannot be moved aside: "
                                    f"{exc.strerror or exc}") from None
                log.warning("%s failed its checksum; moved aside to %s", existing, bad)
        if not f.downloadable:
            not_direct.append(f)
            continue
        paths.append(fetch_file(ds, f, root, progress, force=force))
        tick(i)
    for e in ds.extras:
        existing = next((p for p in (root / e.path, root / (e.path + ".gz")) if p.is_file()), None)
        if existing is not None and not force:
            paths.append(existing)
            continue
        paths.append(fetch_extra(ds, e, root, progress, force=force))
    summary = "" if not_direct else f"{ds.name}: {len(paths)} files present and verified under {root}"
    progress(ProgressEvent(stage=stage, step=len(ds.files), total=len(ds.files), message=summary))
    if not_direct:
        first = not_direct[0]
        more = f" and {len(not_direct) - 1} more" if len(not_direct) > 1 else ""
        raise NotDownloadableError(
            f"dataset '{ds.name}': {first.path}{more} cannot be downloaded directly "
            f"({first.why_not_downloadable}); build it as described in {ds.readme} of the data mirror")
    return paths
