"""Bilinear block structures (AutoSF, ICDE 2020; AutoBLM, TPAMI 2022): the algebra, no training.

Embeddings h, r, t in R^d are split into 4 chunks of d/4. A structure is a 4x4 integer matrix A with entries in
{0, ±1, ±2, ±3, ±4}; A[i, j] = ±k adds the block term ± <h_i, r_k, t_j> (a triple product, sum over d/4):

    f(h, r, t) = sum_{i,j: A[i,j] != 0} sign(A[i,j]) * <h_i, r_|A[i,j]|, t_j>  =  h^T g(r) t

with g(r) the 4x4 block matrix of diag(±r_k) blocks. Chunks are 1-based in A's values and in formulas (h1 r1 t3),
0-based as row/column indices.

Equivalences (kg.md 2.1): permuting the relation chunks, permuting the entity chunks of h and t together (rows and
columns by one permutation) and flipping the sign of a relation chunk give the same model class (4!·4!·2^4 = 9,216
transforms). :func:`canonical` picks one member of that class by a fixed total order (its docstring).
"""
from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Sequence

import numpy as np

K = 4
#: published structures in AutoSF's list format (``searched_SFs.txt``, 0-based; kg.md 2.1, 2.5)
AUTOSF_LISTS = {
    "DistMult": [0, 1, 2, 3],
    "SimplE": [2, 3, 0, 1],
    "ComplEx": [0, 1, 0, 1, 0, 2, 2, 1, 1, 3, 3, 1, 2, 0, 2, -1, 3, 1, 3, -1],
    "Analogy": [0, 1, 2, 2, 3, 2, 3, -1, 2, 3, 3, 1],
}
PUBLISHED_LISTS = {
    "WN18": [3, 2, 1, 0, 3, 3, 2, -1, 0, 2, 3, -1, 1, 0, 1, 1, 2, 1, 0, 1, 2, 2, 0, -1, 1, 0, 2, -1],
    "FB15K": [3, 2, 1, 0, 1, 0, 1, 1, 2, 1, 0, 1],
    "WN18RR": [1, 0, 2, 3, 3, 1, 1, 1, 3, 0, 0, 1, 0, 3, 2, -1, 1, 2, 3, -1, 1, 3, 1, -1, 0, 1, 3, -1],
    "FB15K237": [2, 1, 3, 0],
    "YAGO": [0, 1, 2, 3, 1, 3, 1, -1, 2, 1, 3, -1],
}
CLASSICS = tuple(AUTOSF_LISTS)


def from_autosf(values: Sequence[int]) -> np.ndarray:
    """AutoSF's list -> A. First 4 numbers (a, b, c, d): h1 r1 t_a + h2 r2 t_b + h3 r3 t_c + h4 r4 t_d (0-based t);
    each further group (r, h, t, sign) adds sign · <h_h, r_r, t_t> (0-based)."""
    values = [int(v) for v in values]
    if len(values) < K or (len(values) - K) % 4:
        raise ValueError(f"an AutoSF structure has 4 + 4·n numbers, got {len(values)}")
    A = np.zeros((K, K), dtype=np.int64)
    for k, j in enumerate(values[:K]):
        A[k, j] = k + 1
    for r, h, t, s in zip(*[iter(values[K:])] * 4):
        if A[h, t]:
            raise ValueError(f"two blocks on cell (h{h + 1}, t{t + 1})")
        if s not in (1, -1):
            raise ValueError(f"a block's sign is ±1, got {s}")
        A[h, t] = s * (r + 1)
    return A


def as_matrix(structure) -> np.ndarray:
    """A from a 4x4 matrix, a 16-vector (row-major, AutoBLM+'s layout), a name of :data:`AUTOSF_LISTS` /
    :data:`PUBLISHED_LISTS`, or a JSON / comma-separated text of 16 numbers. Checks the value range."""
    if isinstance(structure, str):
        text = structure.strip()
        named = {n.lower(): n for n in (*AUTOSF_LISTS, *PUBLISHED_LISTS)}
        if text.lower() in named:
            name = named[text.lower()]
            return from_autosf({**AUTOSF_LISTS, **PUBLISHED_LISTS}[name])
        try:
            structure = json.loads(text if text.startswith("[") else f"[{text}]")
        except ValueError:
            raise ValueError(f"not a structure: {structure!r} (a name such as DistMult, or 16 numbers)") from None
    A = np.asarray(structure, dtype=np.int64)
    if A.size != K * K:
        raise ValueError(f"a structure has {K * K} entries, got {A.size}")
    A = A.reshape(K, K)
    if np.abs(A).max(initial=0) > K:
        raise ValueError(f"structure entries are in -{K}..{K}, got {A.tolist()}")
    return A


def to_vector(A) -> list[int]:
    """Row-major 16 ints (JSON-friendly)."""
    return [int(v) for v in np.asarray(A).reshape(-1)]


def n_blocks(A) -> int:
    return int(np.count_nonzero(A))


def block_tensor(A) -> np.ndarray:
    """[4 (h chunk i), 4 (r chunk k), 4 (t chunk j)] signs: M[i, k, j] = sign(A[i, j]) where |A[i, j]| = k + 1."""
    A = as_matrix(A)
    M = np.zeros((K, K, K), dtype=np.float64)
    i, j = np.nonzero(A)
    M[i, np.abs(A[i, j]) - 1, j] = np.sign(A[i, j])
    return M


def relation_matrix(A, r: np.ndarray) -> np.ndarray:
    """g(r) with scalar relation chunks r [4] (or [..., 4]): [..., 4, 4], entry sign · r_k."""
    A = np.asarray(A)
    r = np.asarray(r, dtype=np.float64)
    k = np.clip(np.abs(A) - 1, 0, K - 1)
    return np.where(A != 0, np.sign(A) * r[..., k], 0.0)


# ------------------------------------------------------------------------------------------ validity
_GENERIC_R = np.array([[1.0, 2.0 ** 0.5, np.pi / 2, np.e / 3], [0.37, -1.71, 2.39, 0.83]])


def is_valid(A) -> bool:
    """Non-degenerate (g(r) is invertible for a generic r: no zero row or column, no two rows or columns forced
    equal) and every relation chunk used. (AutoBLM+'s ``filt``, kg.md 2.1; two blocks on one cell cannot happen in a
    matrix.)"""
    A = as_matrix(A)
    if set(np.abs(A[A != 0]).tolist()) != set(range(1, K + 1)):
        return False
    dets = np.linalg.det(relation_matrix(A, _GENERIC_R))
    return bool(np.all(np.abs(dets) > 1e-9))


def invalid_reason(A) -> str:
    """'' for a valid structure, else why not (a sentence)."""
    A = as_matrix(A)
    missing = sorted(set(range(1, K + 1)) - set(np.abs(A[A != 0]).tolist()))
    if missing:
        return "relation chunk" + ("s " if len(missing) > 1 else " ") + ", ".join(f"r{k}" for k in missing) + \
            " unused"
    if not is_valid(A):
        return "degenerate: g(r) is singular for every r (a zero or repeated row or column of blocks)"
    return ""


# ------------------------------------------------------------------------------------------ equivalences
@functools.lru_cache(maxsize=1)
def _transforms() -> tuple[np.ndarray, np.ndarray]:
    """(cell permutations [24, 16], value maps [384, 9]): entity permutations act on cells, relation permutations
    with sign flips act on values (value v in -4..4 at index v + 4)."""
    cells = []
    for p in itertools.permutations(range(K)):
        p = np.array(p)
        # new[p[i], p[j]] = old[i, j]  <=>  new flat index q gets old index inv[q]
        inv = np.argsort(p)
        cells.append((inv[:, None] * K + inv[None, :]).reshape(-1))
    maps = []
    for q in itertools.permutations(range(1, K + 1)):
        for signs in itertools.product((1, -1), repeat=K):
            table = np.zeros(2 * K + 1, dtype=np.int64)
            for k in range(1, K + 1):
                table[K + k] = signs[k - 1] * q[k - 1]
                table[K - k] = -signs[k - 1] * q[k - 1]
            maps.append(table)
    return np.array(cells), np.array(maps)


_BASE9 = (2 * K + 1) ** np.arange(K * K - 1, -1, -1, dtype=np.int64)
#: preference of a value in the canonical form (index v + 4): +1 > +2 > +3 > +4 > 0 > -1 > -2 > -3 > -4, so the
#: representative reads with positive blocks first (DistMult: diag(1, 2, 3, 4))
_PREFERENCE = np.array([0, 1, 2, 3, 4, 8, 7, 6, 5], dtype=np.int64)


def equivalence_class(A) -> np.ndarray:
    """Every transform of A: [9216, 16] row-major vectors (with repeats where A has symmetries)."""
    cells, maps = _transforms()
    v = as_matrix(A).reshape(-1)
    permuted = v[cells]                                  # [24, 16]
    out = maps[:, permuted + K]                          # [384, 24, 16]
    return out.reshape(-1, K * K)


def canonical(A) -> np.ndarray:
    """One representative per class: the class member that is lexicographically greatest in the row-major order
    under the value preference +1 > +2 > +3 > +4 > 0 > -1 > ... > -4 (a total order, so the choice is unique)."""
    forms = equivalence_class(A)
    keys = _PREFERENCE[forms + K] @ _BASE9
    return forms[int(np.argmax(keys))].reshape(K, K)


def canonical_key(A) -> str:
    """The canonical form as text: 16 comma-separated numbers (a search's candidate key)."""
    return ",".join(str(v) for v in to_vector(canonical(A)))


def equivalent(A, B) -> bool:
    return canonical_key(A) == canonical_key(B)


def base_structures() -> list[np.ndarray]:
    """The non-equivalent valid structures with 4 blocks (one per relation chunk, a permutation pattern), canonical,
    in canonical order: AutoBLM+'s ``gen_base_struct``."""
    seen = {}
    for p in itertools.permutations(range(K)):
        A = np.zeros((K, K), dtype=np.int64)
        A[np.arange(K), list(p)] = np.arange(1, K + 1)
        key = canonical_key(A)
        seen.setdefault(key, canonical(A))
    return [seen[k] for k in sorted(seen, key=lambda s: [int(x) for x in s.split(",")])]


# ------------------------------------------------------------------------------------------ formulas
def formula_terms(A) -> list[tuple[int, int, int, int]]:
    """(sign, h chunk, r chunk, t chunk) per block, 1-based, row-major."""
    A = as_matrix(A)
    return [(int(np.sign(A[i, j])), i + 1, int(abs(A[i, j])), j + 1) for i, j in zip(*np.nonzero(A))]


def formula_text(A) -> str:
    """'h1 r1 t3 + h2 r2 t4 − h3 r4 t4' (block order)."""
    parts = []
    for n, (s, i, k, j) in enumerate(formula_terms(A)):
        term = f"h{i} r{k} t{j}"
        parts.append((("− " if n else "−") if s < 0 else ("+ " if n else "")) + term)
    return " ".join(parts)


def formula_sympy(A):
    """f as a SymPy expression in the chunk symbols h1..h4, r1..r4, t1..t4 (each standing for a d/4 chunk; the
    products are elementwise, summed over the chunk)."""
    import sympy as sp

    h = sp.symbols("h1:5")
    r = sp.symbols("r1:5")
    t = sp.symbols("t1:5")
    return sp.Add(*[s * h[i - 1] * r[k - 1] * t[j - 1] for s, i, k, j in formula_terms(A)])


def formula_latex(A, per_line: int = 5) -> str:
    """LaTeX of f, ``per_line`` block terms a line (an aligned block, so a 16-block formula stays readable)."""
    import sympy as sp

    terms = []
    for n, (s, i, k, j) in enumerate(formula_terms(A)):
        body = sp.latex(sp.Symbol(f"h{i}") * sp.Symbol(f"r{k}") * sp.Symbol(f"t{j}"), order="none")
        terms.append(("- " if s < 0 else ("+ " if n else "")) + body)
    lines = [" ".join(terms[i:i + per_line]) for i in range(0, len(terms), per_line)]
    if len(lines) == 1:
        return "f(h, r, t) = " + lines[0]
    return "\\begin{aligned} f(h, r, t) = {} & " + " \\\\ & ".join(lines) + " \\end{aligned}"


def score_numpy(A, h: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """f(h, r, t) for embeddings [..., d] (d divisible by 4): the reference the model's batched scoring is tested
    against."""
    A = as_matrix(A)
    hc, rc, tc = (np.split(np.asarray(x, dtype=np.float64), K, axis=-1) for x in (h, r, t))
    total = np.zeros(np.broadcast_shapes(np.shape(h)[:-1], np.shape(r)[:-1], np.shape(t)[:-1]))
    for s, i, k, j in formula_terms(A):
        total = total + s * (hc[i - 1] * rc[k - 1] * tc[j - 1]).sum(-1)
    return total


# ------------------------------------------------------------------------------------------ SRF features
#: AutoSF's assignment cases (values given to the four relation chunks before permuting them)
SRF_CASES = ((1, 2, 3, 4), (1, 1, 2, 3), (1, 1, 1, 2), (1, 1, 2, 2), (1, 1, 1, 1), (0, 1, 2, 3), (0, 1, 1, 2),
             (0, 1, 1, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 0, 1))


@functools.lru_cache(maxsize=1)
def _srf_assignments() -> np.ndarray:
    """[11, 24·16, 4]: every case's values permuted over the chunks, times every sign pattern."""
    out = []
    signs = np.array(list(itertools.product((1, -1), repeat=K)), dtype=np.float64)     # [16, 4]
    for case in SRF_CASES:
        perms = np.array(sorted(set(itertools.permutations(case))), dtype=np.float64)   # [P, 4]
        vals = (perms[:, None, :] * signs[None, :, :]).reshape(-1, K)
        full = np.zeros((24 * 16, K))
        full[:len(vals)] = vals
        full[len(vals):] = vals[0]  # pad with a repeat (any/all over the case are unchanged)
        out.append(full)
    return np.stack(out)


def srf_features(A) -> np.ndarray:
    """AutoSF's symmetry-related features (kg.md 2.2): per assignment case, whether some assignment makes g(r)
    symmetric (g = gᵀ, non-zero) and whether some makes it skew-symmetric (g = −gᵀ, non-zero): [22] of 0/1."""
    A = as_matrix(A)
    g = relation_matrix(A, _srf_assignments())                 # [11, 384, 4, 4]
    gt = np.swapaxes(g, -1, -2)
    nonzero = np.abs(g).sum((-1, -2)) > 0
    sym = (np.abs(g - gt).sum((-1, -2)) == 0) & nonzero
    skew = (np.abs(g + gt).sum((-1, -2)) == 0) & nonzero
    return np.concatenate([sym.any(1), skew.any(1)]).astype(np.float64)


def describe(A) -> dict:
    """What the page and the trajectory show of a structure."""
    A = as_matrix(A)
    return {"structure": to_vector(A), "canonical": canonical_key(A), "blocks": n_blocks(A),
            "formula": formula_text(A), "valid": is_valid(A)}


def named(A) -> str:
    """The classic or published structure A is equivalent to ('ComplEx', 'the published WN18RR structure'), or ''."""
    key = canonical_key(A)
    for name in AUTOSF_LISTS:
        if canonical_key(from_autosf(AUTOSF_LISTS[name])) == key:
            return name
    for name in PUBLISHED_LISTS:
        if canonical_key(from_autosf(PUBLISHED_LISTS[name])) == key:
            return f"AutoSF's published {name} structure"
    return ""
