"""AutoBLM's structure algebra: classic models equal their usual formulas, validity, equivalence classes, SymPy,
SRF features, and the batched model scoring against the per-block reference."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
import torch

from backend.methods.autoblm import structure as S
from backend.methods.autoblm.model import BilinearKGE

RNG = np.random.default_rng(0)
D = 16  # 4 chunks of 4


def emb(n=7):
    return RNG.normal(size=(n, D)), RNG.normal(size=(n, D)), RNG.normal(size=(n, D))


def halves(x):
    return x[..., :D // 2], x[..., D // 2:]


def test_distmult_is_the_trilinear_product():
    h, r, t = emb()
    assert np.allclose(S.score_numpy("DistMult", h, r, t), (h * r * t).sum(-1))


def test_complex_is_re_h_r_conj_t_with_im_r_flipped():
    h, r, t = emb()
    hc = h[:, :D // 2] + 1j * h[:, D // 2:]
    rc = r[:, :D // 2] - 1j * r[:, D // 2:]  # AutoSF's ComplEx flips the sign of Im(r): an equivalent structure
    tc = t[:, :D // 2] + 1j * t[:, D // 2:]
    assert np.allclose(S.score_numpy("ComplEx", h, r, t), np.real((hc * rc * np.conj(tc)).sum(-1)))


def test_analogy_is_distmult_half_plus_complex_half():
    h, r, t = emb()
    q = D // 4
    dm = (h[:, :2 * q] * r[:, :2 * q] * t[:, :2 * q]).sum(-1)
    hc = h[:, 2 * q:3 * q] + 1j * h[:, 3 * q:]
    rc = r[:, 2 * q:3 * q] - 1j * r[:, 3 * q:]
    tc = t[:, 2 * q:3 * q] + 1j * t[:, 3 * q:]
    assert np.allclose(S.score_numpy("Analogy", h, r, t), dm + np.real((hc * rc * np.conj(tc)).sum(-1)))


def test_simple_swaps_head_and_tail_halves():
    h, r, t = emb()
    (h_head, h_tail), (r_fwd, r_inv), (t_head, t_tail) = halves(h), halves(r), halves(t)
    expected = (h_head * r_fwd * t_tail).sum(-1) + (t_head * r_inv * h_tail).sum(-1)
    assert np.allclose(S.score_numpy("SimplE", h, r, t), expected)


def test_hr_g_t_matrix_form():
    A = S.as_matrix("WN18RR")
    r = RNG.normal(size=4)
    g = S.relation_matrix(A, r)
    h, t = RNG.normal(size=4), RNG.normal(size=4)
    assert np.isclose(h @ g @ t, S.score_numpy(A, h, np.repeat(r, 1), t))


@pytest.mark.parametrize("name", [*S.AUTOSF_LISTS, *S.PUBLISHED_LISTS])
def test_model_batched_scores_equal_the_reference(name):
    torch.manual_seed(0)
    A = S.as_matrix(name)
    model = BilinearKGE(9, 3, D, A).double()
    E, R = model.entity.weight.detach().numpy(), model.relation.weight.detach().numpy()
    heads, rels = torch.tensor([0, 3, 8]), torch.tensor([0, 2, 1])
    tails = model.score_tails(heads, rels).detach().numpy()
    ref = S.score_numpy(A, E[heads.numpy(), None], R[rels.numpy(), None], E[None, :])
    assert np.allclose(tails, ref)
    heads_scores = model.score_heads(heads, rels).detach().numpy()  # heads of (?, r, e=heads)
    ref_h = S.score_numpy(A, E[None, :], R[rels.numpy(), None], E[heads.numpy(), None])
    assert np.allclose(heads_scores, ref_h)
    both = model.score_queries(torch.cat([heads, heads]), torch.cat([rels, rels + 3])).detach().numpy()
    assert np.allclose(both, np.concatenate([ref, ref_h]))


def test_validity():
    assert all(S.is_valid(S.as_matrix(n)) for n in [*S.AUTOSF_LISTS, *S.PUBLISHED_LISTS])
    unused = np.diag([1, 2, 3, 3])
    assert not S.is_valid(unused) and "r4 unused" in S.invalid_reason(unused)
    zero_row = np.array([[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]])
    assert not S.is_valid(zero_row)
    # two equal rows of blocks: g(r) singular for every r
    equal_rows = np.array([[1, 2, 0, 0], [1, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 4]])
    assert not S.is_valid(equal_rows) and "degenerate" in S.invalid_reason(equal_rows)
    # h1 and h2 both only reach t1/t2 through r1, r2 with rank 2: valid
    assert S.is_valid(np.array([[1, 2, 0, 0], [-2, 1, 0, 0], [0, 0, 3, 0], [0, 0, 0, 4]]))


def test_equivalence_class_size_and_invariance():
    A = S.as_matrix("WN18RR")
    forms = S.equivalence_class(A)
    assert forms.shape == (24 * 24 * 16, 16)
    key = S.canonical_key(A)
    for B in forms[RNG.choice(len(forms), 50, replace=False)]:  # every member has the same canonical form
        assert S.canonical_key(B) == key
    # DistMult's class: relation chunks permuted on the diagonal, any signs
    assert len({tuple(f) for f in S.equivalence_class("DistMult")}) == 24 * 16


def test_equivalent_models_score_the_same_under_the_transformed_embeddings():
    """A transform of A with the matching permutation / sign flip of the chunks gives identical scores."""
    A = S.as_matrix("ComplEx")
    h, r, t = emb()
    perm = np.array([2, 0, 3, 1])         # entity chunk i -> position perm[i]
    rel_perm = np.array([1, 3, 0, 2])     # relation chunk k -> rel_perm[k]
    signs = np.array([1, -1, -1, 1])
    B = np.zeros_like(A)
    for i, j in zip(*np.nonzero(A)):
        k = abs(A[i, j]) - 1
        B[perm[i], perm[j]] = np.sign(A[i, j]) * signs[k] * (rel_perm[k] + 1)
    assert S.canonical_key(A) == S.canonical_key(B)

    def chunks(x, order):
        c = np.split(x, 4, axis=-1)
        out = [None] * 4
        for i in range(4):
            out[order[i]] = c[i]
        return np.concatenate(out, -1)

    r_signed = np.concatenate([s * c for s, c in zip(signs, np.split(r, 4, axis=-1))], -1)
    assert np.allclose(S.score_numpy(A, h, r, t),
                       S.score_numpy(B, chunks(h, perm), chunks(r_signed, rel_perm), chunks(t, perm)))


def test_classes_are_distinct_where_models_differ():
    keys = {n: S.canonical_key(S.as_matrix(n)) for n in S.AUTOSF_LISTS}
    assert len(set(keys.values())) == 4
    # a transposed structure (h and t roles swapped) is a different model: SimplE is its own transpose's class,
    # the 3-cycle structure of FB15K237 is not equal to DistMult
    assert S.canonical_key("FB15K237") != keys["DistMult"]


def test_canonical_is_a_member_and_idempotent():
    for n in [*S.AUTOSF_LISTS, *S.PUBLISHED_LISTS]:
        A = S.as_matrix(n)
        C = S.canonical(A)
        assert S.canonical_key(C) == S.canonical_key(A)
        assert any((f == C.reshape(-1)).all() for f in S.equivalence_class(A))
    assert S.to_vector(S.canonical("DistMult")) == S.to_vector(np.diag([1, 2, 3, 4]))


def test_base_structures_are_the_cycle_types_of_s4():
    """4-block structures up to equivalence: one per conjugacy class of the entity permutation (5)."""
    bases = S.base_structures()
    assert len(bases) == 5
    brute = set()
    for p in itertools.permutations(range(4)):
        for q in ((1, 2, 3, 4), (4, -2, 1, 3)):  # relation chunks in two orders and signs
            A = np.zeros((4, 4), dtype=int)
            A[np.arange(4), list(p)] = q
            brute.add(S.canonical_key(A))
    assert brute == {S.canonical_key(b) for b in bases}


def test_from_autosf_layout():
    A = S.from_autosf([2, 1, 3, 0])
    assert S.formula_text(A) == "h1 r1 t3 + h2 r2 t2 + h3 r3 t4 + h4 r4 t1"
    assert S.formula_text("SimplE") == "h1 r1 t3 + h2 r2 t4 + h3 r3 t1 + h4 r4 t2"
    with pytest.raises(ValueError):
        S.from_autosf([0, 1, 2])
    assert S.to_vector(S.as_matrix("1,0,0,0,0,2,0,0,0,0,3,0,0,0,0,4")) == S.to_vector(np.diag([1, 2, 3, 4]))
    with pytest.raises(ValueError):
        S.as_matrix([5] + [0] * 15)


def test_formula_sympy():
    h1, h2, h3, h4, r1, r2, r3, r4, t1, t2, t3, t4 = sp.symbols("h1:5 r1:5 t1:5")
    expr = S.formula_sympy("ComplEx")
    expected = h1*r1*t1 + h2*r2*t2 + h3*r3*t1 + h4*r4*t2 + h3*r1*t3 + h4*r2*t4 - h1*r3*t3 - h2*r4*t4
    assert sp.simplify(expr - expected) == 0
    assert "h_{1} r_{1} t_{1}" in S.formula_latex("DistMult")


def test_srf_features():
    dm, cx = S.srf_features("DistMult"), S.srf_features("ComplEx")
    assert dm.shape == (22,)
    assert dm[:11].all() and not dm[11:].any()   # DistMult: g(r) diagonal, symmetric only
    assert cx[11:].any() and cx[:11].any()       # ComplEx: symmetric and skew-symmetric relations
