"""Take-away reports: one self-contained static HTML file (and the same content as JSON) of a prediction, its
evidence, how faithful that evidence is, and the model card with its provenance.

A report is a list of :class:`Section`, each a list of blocks (:class:`Text`, :class:`Numbers`, :class:`Table`,
:class:`Figure` (plotly), :class:`Graph` (an evidence graph, drawn with its JavaScript inlined)). The report code
knows nothing about any method: a method adds its own sections by declaring a function in its extras,

    METHOD.extras["report"] = sections      # sections(loaded_model, query: dict) -> list[Section]
    METHOD.extras["report_title"] = title   # optional: title(loaded_model, query) -> str (names, not ids)

and :func:`method_report` puts them between the shared ones (the query, and at the end the model card with its
provenance, the date and the software commit). ``Report.to_html()`` inlines plotly.js once and every evidence graph
as an ``<iframe srcdoc>`` holding its vis-network script, so the file opens with no network; ``Report.to_json()``
holds the same content (tables as records, figures as plotly JSON, graphs as their nodes and edges).

    python -m backend report redgnn --dataset family --query head=... relation=... -o report.html
"""
from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import pandas as pd

_ESC = html.escape


@dataclass
class Text:
    """Paragraphs of plain text (escaped; **bold** kept as bold)."""

    paragraphs: list[str]


@dataclass
class Numbers:
    """A row of named numbers (value, and optionally its unit / note)."""

    items: dict[str, Any]
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Table:
    frame: pd.DataFrame
    caption: str = ""
    max_rows: int = 200


@dataclass
class Figure:
    figure: Any            # a plotly Figure
    caption: str = ""


@dataclass
class Graph:
    """An evidence graph: a backend.core.evidence GraphPart or Evidence, drawn by backend.core.viz."""

    evidence: Any
    caption: str = ""
    height: int = 520
    max_edges: int | None = None


Block = Union[Text, Numbers, Table, Figure, Graph]


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    key: str = ""          # a stable name for machines (JSON); default: the title


@dataclass
class Report:
    title: str
    sections: list[Section]
    meta: dict[str, Any] = field(default_factory=dict)   # method, dataset, query, created (UTC), commit, ...

    # ------------------------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        return {"title": self.title, "meta": self.meta,
                "sections": [{"key": s.key or s.title, "title": s.title, "blocks": [_block_dict(b) for b in s.blocks]}
                             for s in self.sections]}

    def to_json(self) -> str:
        return json.dumps(_clean(self.to_dict()), indent=1, ensure_ascii=False) + "\n"

    # ------------------------------------------------------------------------------------------------- HTML
    def to_html(self) -> str:
        from plotly.offline import get_plotlyjs

        figures = any(isinstance(b, Figure) for s in self.sections for b in s.blocks)
        parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_ESC(self.title)}</title>",
                 f"<style>{_CSS}</style>"]
        if figures:
            parts.append(f"<script type='text/javascript'>{get_plotlyjs()}</script>")
        parts.append("</head><body><main>")
        parts.append(f"<h1>{_ESC(self.title)}</h1>")
        meta = " · ".join(f"{_ESC(str(k))}: {_ESC(str(v))}" for k, v in self.meta.items()
                          if k in ("method", "dataset", "created", "commit") and v)
        parts.append(f"<p class='meta'>{meta}</p>")
        toc = "".join(f"<li><a href='#s{i}'>{_ESC(s.title)}</a></li>" for i, s in enumerate(self.sections))
        parts.append(f"<nav><ol>{toc}</ol></nav>")
        for i, s in enumerate(self.sections):
            parts.append(f"<section id='s{i}' data-key='{_ESC(s.key or s.title)}'><h2>{_ESC(s.title)}</h2>")
            parts += [_block_html(b, f"b{i}-{j}") for j, b in enumerate(s.blocks)]
            parts.append("</section>")
        parts.append("<footer>A static report: everything it shows is inside this file (no network needed). "
                     "Its JSON twin holds the same numbers.</footer></main></body></html>")
        return "\n".join(parts)

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``path`` (HTML) and the same report as JSON beside it (``.json``); returns both paths."""
        path = Path(path)
        if path.suffix.lower() == ".json":
            path = path.with_suffix(".html")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        twin = path.with_suffix(".json")
        twin.write_text(self.to_json(), encoding="utf-8")
        return path, twin


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b;background:#fafafa;margin:0}
main{max-width:1100px;margin:0 auto;padding:16px 24px;background:#fff}
h1{font-size:24px;margin:8px 0} h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
p.meta{color:#555;font-size:13px} nav ol{columns:2;font-size:14px}
table{border-collapse:collapse;font-size:13px;margin:8px 0} th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f2f4f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
.numbers{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.numbers div{border:1px solid #e1e4e6;border-radius:6px;padding:6px 12px;min-width:120px}
.numbers .v{font-size:20px;font-weight:600} .numbers .k{font-size:12px;color:#555} .numbers .n{font-size:11px;color:#777}
.caption{font-size:13px;color:#555;margin:2px 0 10px} iframe.graph{width:100%;border:1px solid #e1e4e6}
footer{margin-top:32px;font-size:12px;color:#777}
"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "—"
        return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


def _text(t: str) -> str:
    """Escaped text with **bold** kept."""
    out, bold = [], False
    for i, piece in enumerate(_ESC(t).split("**")):
        if i:
            out.append("</b>" if bold else "<b>")
            bold = not bold
        out.append(piece)
    if bold:
        out.append("</b>")
    return "".join(out)


def _block_html(b: Block, uid: str) -> str:
    if isinstance(b, Text):
        return "".join(f"<p>{_text(p)}</p>" for p in b.paragraphs)
    if isinstance(b, Numbers):
        cells = "".join(f"<div><div class='k'>{_ESC(str(k))}</div><div class='v'>{_ESC(_fmt(v))}</div>"
                        + (f"<div class='n'>{_ESC(b.notes[k])}</div>" if k in b.notes else "") + "</div>"
                        for k, v in b.items.items())
        return f"<div class='numbers'>{cells}</div>"
    if isinstance(b, Table):
        frame = b.frame.head(b.max_rows)
        head = "".join(f"<th>{_ESC(str(c))}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(
            f"<td class='num'>{_ESC(_fmt(v))}</td>" if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{_ESC(_fmt(v))}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False))
        more = (f"<p class='caption'>First {b.max_rows:,} of {len(b.frame):,} rows.</p>"
                if len(b.frame) > b.max_rows else "")
        cap = f"<p class='caption'>{_text(b.caption)}</p>" if b.caption else ""
        return f"{cap}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"
    if isinstance(b, Figure):
        div = b.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{uid}",
                               config={"displaylogo": False, "responsive": True})
        cap = f"<p class='caption'>{_text(b.caption)}</p>" if b.caption else ""
        return f"<div class='figure'>{div}</div>{cap}"
    if isinstance(b, Graph):
        from backend.core.viz import evidence_to_pyvis_html

        page = evidence_to_pyvis_html(b.evidence, layered=True, height=f"{b.height}px", max_edges=b.max_edges)
        cap = f"<p class='caption'>{_text(b.caption)}</p>" if b.caption else ""
        return (f"<iframe class='graph' id='graph-{uid}' height='{b.height + 110}' "
                f"srcdoc=\"{_ESC(page, quote=True)}\"></iframe>{cap}")
    raise TypeError(f"a report block cannot be a {type(b).__name__}")


def _block_dict(b: Block) -> dict:
    if isinstance(b, Text):
        return {"type": "text", "paragraphs": b.paragraphs}
    if isinstance(b, Numbers):
        return {"type": "numbers", "items": b.items, "notes": b.notes}
    if isinstance(b, Table):
        return {"type": "table", "caption": b.caption, "columns": list(map(str, b.frame.columns)),
                "rows": json.loads(b.frame.to_json(orient="records"))}
    if isinstance(b, Figure):
        return {"type": "figure", "caption": b.caption, "plotly": json.loads(b.figure.to_json())}
    if isinstance(b, Graph):
        from backend.core.evidence import Evidence

        ev = b.evidence
        data = json.loads(ev.to_json()) if isinstance(ev, Evidence) else _jsonable(ev)
        return {"type": "graph", "caption": b.caption, "evidence": data}
    raise TypeError(f"a report block cannot be a {type(b).__name__}")


def _jsonable(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) else obj


def _clean(obj: Any) -> Any:
    """NaN and infinities as null (strict JSON)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


# ------------------------------------------------------------------------------------------- shared sections
def card_section(card, title: str = "Model card and provenance") -> Section:
    """The checkpoint's card: metrics per split, parameters, training budget, data checksums, software, seeds."""
    blocks: list[Block] = []
    rows = [{"split": split, **{k: v for k, v in values.items() if isinstance(v, (int, float))}}
            for split, values in (card.metrics or {}).items() if isinstance(values, dict)]
    if rows:
        blocks.append(Table(pd.DataFrame(rows), caption="Metrics of the checkpoint, as its card records them."))
    train = card.train or {}
    facts = {"method": card.method, "dataset": card.dataset, "setting": card.setting,
             "parameters": (card.params or {}).get("total"), "epochs": train.get("epochs"),
             "train seconds": train.get("seconds"), "device": train.get("device"), "seed": train.get("seed"),
             "created": card.created, "commit": (card.software or {}).get("commit"),
             "torch": (card.software or {}).get("torch"), "folder": card.path}
    blocks.append(Table(pd.DataFrame([{"field": k, "value": "" if v is None else str(v)} for k, v in facts.items()]),
                        caption="Where the checkpoint comes from."))
    files = (card.data or {}).get("files") or {}
    if files:
        blocks.append(Table(pd.DataFrame([{"file": k, "sha256": v} for k, v in files.items()]),
                            caption="The data files the checkpoint was trained and evaluated on (sha256)."))
    if card.seeds:
        blocks.append(Text([f"Seeds: {json.dumps(card.seeds.get('seeds', card.seeds))[:300]}"]))
    if train.get("config"):
        blocks.append(Table(pd.DataFrame([{"setting": k, "value": str(v)} for k, v in train["config"].items()]),
                            caption="Training configuration."))
    return Section(title, blocks, key="model_card")


def evidence_section(evidence, title: str = "Evidence", max_edges: int | None = 60) -> Section:
    """An Evidence object's sentences, graph parts (drawn) and table parts."""
    from backend.core.evidence import GraphPart, TablePart

    blocks: list[Block] = [Text(list(evidence.sentences))] if evidence.sentences else []
    for part in evidence.parts:
        if isinstance(part, GraphPart):
            blocks.append(Graph(part, caption=evidence.title, max_edges=max_edges))
            frame = evidence.paths_frame() if hasattr(evidence, "paths_frame") else None
            if frame is not None and len(frame):
                blocks.append(Table(frame, caption="Paths, strongest first."))
        elif isinstance(part, TablePart):
            blocks.append(Table(part.to_frame(), caption=part.caption or part.title))
    return Section(title, blocks, key="evidence")


def method_report(method, loaded, query: dict, title: str | None = None) -> Report:
    """The report of ``query`` on a loaded model: the method's own sections (``method.extras["report"]``; without
    one: its ranked answers and its evidence), then the model card. ``meta`` holds method, dataset, query, date
    (UTC) and the software commit."""
    from backend.core.store import git_commit, utc_now

    card = loaded.card
    sections_fn = (method.extras or {}).get("report")
    if sections_fn is not None:
        sections = list(sections_fn(loaded, query))
    else:
        sections = [Section("Answers", [Table(loaded.predict(query))], key="answers"),
                    evidence_section(loaded.explain(query))]
    sections.append(card_section(card))
    title_fn = (method.extras or {}).get("report_title")  # title_fn(loaded, query) -> str, names not ids
    if title is None and title_fn is not None:
        title = title_fn(loaded, query)
    query_text = ", ".join(f"{k}={v}" for k, v in query.items())
    meta = {"method": method.title, "dataset": card.dataset, "query": {k: str(v) for k, v in query.items()},
            "created": utc_now(), "commit": git_commit(), "checkpoint": card.path}
    return Report(title or f"{method.title} report: {query_text}", sections, meta)
