"""Forgiving drug-name resolution: a name, a DrugBank id or the picker's "Name (DBxxxxx)" -> drug id.

Case, surrounding spaces, hyphens/spaces/commas and accents do not matter ("acetylsalicylic-acid" = "Acetylsalicylic
acid"); an unknown name raises :class:`UnknownDrug` carrying the closest names (difflib ratio, typos and
truncations).
"""
from __future__ import annotations

import difflib
import re
import unicodedata


class UnknownDrug(KeyError):
    def __init__(self, text: str, suggestions: list[str]):
        self.text, self.suggestions = text, suggestions
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown drug {text!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-_,'’]+", "", text.casefold())


#: common international / US names that differ from the DrugBank names of the mirror (hand-written; each maps to the
#: name DrugBank uses, and is used only when that name is among the drugs)
SYNONYMS = {"aspirin": "Acetylsalicylic acid", "paracetamol": "Acetaminophen", "adrenaline": "Epinephrine",
            "noradrenaline": "Norepinephrine", "albuterol": "Salbutamol", "lignocaine": "Lidocaine",
            "frusemide": "Furosemide", "glyceryl trinitrate": "Nitroglycerin", "ciclosporin": "Cyclosporine",
            "rifampin": "Rifampicin", "glibenclamide": "Glyburide", "valproate": "Valproic acid"}

_PICKER = re.compile(r"^(?P<name>.*?)\s*\((?P<id>DB\d{5})\)\s*$", re.I)
_DBID = re.compile(r"^DB\d{5}$", re.I)


class DrugNames:
    """``names`` [n] and ``drugbank_ids`` [n] of the drugs (index = drug id)."""

    def __init__(self, names: list[str], drugbank_ids: list[str]):
        self.names, self.drugbank_ids = list(names), list(drugbank_ids)
        self._by_id = {d.upper(): i for i, d in enumerate(self.drugbank_ids)}
        self._by_norm: dict[str, int] = {}
        for i, n in enumerate(self.names):
            self._by_norm.setdefault(normalise(n), i)
        for alias, name in SYNONYMS.items():
            if normalise(name) in self._by_norm:
                self._by_norm.setdefault(normalise(alias), self._by_norm[normalise(name)])
        self._norm_keys = list(self._by_norm)

    def label(self, i: int) -> str:
        """The picker's text of drug i: "Name (DBxxxxx)"."""
        return f"{self.names[i]} ({self.drugbank_ids[i]})"

    def options(self) -> list[str]:
        """Every drug's picker text, sorted by name (case-insensitive)."""
        return sorted((self.label(i) for i in range(len(self.names))), key=str.casefold)

    def resolve(self, text: str) -> int:
        """The drug id of ``text``; UnknownDrug (with the closest names) when none matches."""
        raw = str(text or "").strip()
        if not raw:
            raise UnknownDrug(raw, [])
        m = _PICKER.match(raw)
        if m and m.group("id").upper() in self._by_id:
            return self._by_id[m.group("id").upper()]
        if _DBID.match(raw) and raw.upper() in self._by_id:
            return self._by_id[raw.upper()]
        key = normalise(raw)
        if key in self._by_norm:
            return self._by_norm[key]
        raise UnknownDrug(raw, self.suggest(raw))

    def suggest(self, text: str, n: int = 5) -> list[str]:
        key = normalise(text)
        close = difflib.get_close_matches(key, self._norm_keys, n=n, cutoff=0.6)
        starts = [k for k in self._norm_keys if key and k.startswith(key) and k not in close]
        return [self.names[self._by_norm[k]] for k in (close + starts)[:n]]
