"""The face_expression recipe: warm starts from an exported net, ensemble and int8 export.

The nets are RANDOM-WEIGHT ones (with non-trivial BatchNorms), there only to check the
unfolding, the averaging and the quantization, not any accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emochat.face.expression import MODEL_FILE, ExpressionModel
from emochat.train.face_expression import recipe as T


@pytest.fixture(scope="module")
def crops() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (64, 48, 48), generator=g, dtype=torch.uint8)


def _members(model: ExpressionModel) -> str:
    return model._session.get_modelmeta().custom_metadata_map.get("members", "1")


def _random_net(seed: int, **shape) -> T.FerNet:
    """A RANDOM-WEIGHT net whose BatchNorms are not the identity (so folding matters)."""
    torch.manual_seed(seed)
    net = T.FerNet(**shape)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(-1.5, 1.5)  # negative scales too
                m.bias.normal_(0, 0.3)
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.2, 3.0)
    return net.eval()


def test_unfolding_an_exported_net_gives_back_its_outputs(tmp_path, crops):
    path = tmp_path / "one.onnx"
    T.write_onnx(T.Exported(_random_net(1)), path, {})
    exported = ExpressionModel.load(path, tta="none")
    net = T.FerNet()
    T.init_from_onnx(net, str(path), crops)
    net.eval()
    z = T.standardize(crops.float().unsqueeze(1))
    with torch.no_grad():
        ours = torch.softmax(net(z), 1).numpy()
    np.testing.assert_allclose(ours, exported.predict(crops.numpy()), atol=1e-5)
    # in training mode BatchNorm uses batch statistics: on the calibration batch they are
    # the ones the unfolding stored, so the function is unchanged there too
    net.features.train()
    with torch.no_grad():
        train_mode = torch.softmax(net(z), 1).numpy()
    np.testing.assert_allclose(train_mode, ours, atol=2e-3)


def test_unfolding_refuses_another_shape_or_an_ensemble(tmp_path):
    with pytest.raises(SystemExit, match="conv layers"):
        T.init_from_onnx(T.FerNet(depths=(1, 1, 1, 1)), str(MODEL_FILE), torch.zeros(2, 48, 48))
    pair = tmp_path / "pair.onnx"
    T.write_onnx(T.Exported(_random_net(1), _random_net(2)), pair, {})
    with pytest.raises(SystemExit, match="ensemble"):
        T.init_from_onnx(T.FerNet(), str(pair), torch.zeros(2, 48, 48))
    one, int8 = tmp_path / "one.onnx", tmp_path / "int8.onnx"
    T.write_onnx(T.Exported(_random_net(1)), one, {})
    T.quantize_int8(one, int8, np.random.default_rng(0).uniform(0, 255, (64, 48, 48)).astype("f4"))
    with pytest.raises(SystemExit, match="quantized"):
        T.init_from_onnx(T.FerNet(), str(int8), torch.zeros(2, 48, 48))


def test_an_exported_ensemble_averages_its_members(tmp_path, crops):
    nets = [_random_net(1), _random_net(2, widths=(16, 32, 64, 128))]
    target = tmp_path / "ensemble.onnx"
    T.write_onnx(T.Exported(*nets), target, {"members": "2"})
    z = T.standardize(crops.float().unsqueeze(1))
    with torch.no_grad():
        expected = torch.stack([torch.softmax(n(z), 1) for n in nets]).mean(0).numpy()
    model = ExpressionModel.load(target, tta="none")
    assert _members(model) == "2"
    np.testing.assert_allclose(model.predict(crops.numpy()), expected, atol=1e-5)
    # and the members are not one another: the average differs from each of them
    with torch.no_grad():
        first = torch.softmax(nets[0](z), 1).numpy()
    assert np.abs(first - expected).max() > 1e-3


def test_new_members_join_an_exported_ensemble_weighted_by_its_size(tmp_path, crops):
    nets = [_random_net(1), _random_net(2), _random_net(3, widths=(16, 32, 64, 128))]
    pair, third, merged = tmp_path / "pair.onnx", tmp_path / "third.onnx", tmp_path / "all.onnx"
    T.write_onnx(T.Exported(*nets[:2]), pair, {"members": "2"})
    T.write_onnx(T.Exported(nets[2]), third, {})
    assert T.merge_exports([pair, third], merged) == 3
    z = T.standardize(crops.float().unsqueeze(1))
    with torch.no_grad():
        expected = torch.stack([torch.softmax(n(z), 1) for n in nets]).mean(0).numpy()
        pair_only = torch.stack([torch.softmax(n(z), 1) for n in nets[:2]]).mean(0).numpy()
    got = ExpressionModel.load(merged, tta="none").predict(crops.numpy())
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(got - pair_only).max() > 1e-3  # the third net is in
    # a quantized graph joins as it is (its QDQ nodes keep their own names)
    int8 = tmp_path / "third8.onnx"
    T.quantize_int8(
        third, int8, np.random.default_rng(0).uniform(0, 255, (64, 48, 48)).astype("f4")
    )
    assert T.merge_exports([pair, int8], tmp_path / "mixed.onnx") == 3
    mixed = ExpressionModel.load(tmp_path / "mixed.onnx", tta="none").predict(crops.numpy())
    np.testing.assert_allclose(mixed, expected, atol=0.05)


def test_an_exported_ensemble_splits_into_its_members(tmp_path, crops):
    nets = [_random_net(1), _random_net(2, widths=(16, 32, 64, 128))]
    pair = tmp_path / "pair.onnx"
    T.write_onnx(T.Exported(*nets), pair, {"members": "2", "labels": "x"})
    parts = T.split_members(pair, tmp_path / "split")
    assert [p.name for p in parts] == ["pair.member0.onnx", "pair.member1.onnx"]
    z = T.standardize(crops.float().unsqueeze(1))
    for net, part in zip(nets, parts, strict=True):
        with torch.no_grad():
            expected = torch.softmax(net(z), 1).numpy()
        model = ExpressionModel.load(part, tta="none")
        assert _members(model) == "1"
        np.testing.assert_allclose(model.predict(crops.numpy()), expected, atol=1e-5)
    # a merged graph (members summed with weights) is not taken apart
    assert T.merge_exports(parts, tmp_path / "merged.onnx") == 2
    with pytest.raises(SystemExit, match="not an ensemble export"):
        T.split_members(tmp_path / "merged.onnx", tmp_path / "again")


def test_int8_exports_and_narrowed_graphs_keep_weight_codes_that_cannot_saturate(tmp_path, crops):
    """quantize_int8 (reduce_range) and ``narrow`` (an older 8-bit graph) both leave weight
    codes whose uint8 x int8 pair sums fit an int16; narrowing keeps the function."""
    one = tmp_path / "one.onnx"
    T.write_onnx(T.Exported(_random_net(1)), one, {})
    calib = np.random.default_rng(0).uniform(0, 255, (64, 48, 48)).astype("f4")
    reduced = tmp_path / "reduced.onnx"
    T.quantize_int8(one, reduced, calib)
    assert 32 <= T.max_weight_code(reduced) <= T.SAFE_WEIGHT_CODE
    # an 8-bit export, as the shipped graph was before 2026-12-06
    eight = tmp_path / "eight.onnx"
    T.quantize_int8(one, eight, calib, reduce_range=False)
    assert T.max_weight_code(eight) == 127
    narrowed = tmp_path / "narrowed.onnx"
    assert T.narrow_weights(eight, narrowed) == 8  # 7 convs and the linear layer
    assert T.max_weight_code(narrowed) == T.WEIGHT_QMAX
    before = ExpressionModel.load(eight, tta="none").predict(crops.numpy())
    after = ExpressionModel.load(narrowed, tta="none").predict(crops.numpy())
    np.testing.assert_allclose(after, before, atol=0.05)  # 7-bit rounding, same function
    assert T.narrow_weights(narrowed, tmp_path / "again.onnx") == 0  # nothing left to do
