"""Trainer pieces: batch order per rank, and a real 2-process DDP run (gloo, CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from emochat.train.emochat_llm.trainer import Dist, batch_indices, latest_checkpoint


def test_ranks_split_each_step_and_every_sample_comes_once_per_pass():
    n, bs, world = 12, 2, 2
    seen = []
    for step in range(3):  # 3 steps x 2 ranks x 2 = 12 = one pass
        per_rank = [batch_indices(n, 0, step, 0, 1, Dist(r, world), bs) for r in range(world)]
        assert not set(per_rank[0]) & set(per_rank[1])
        seen += per_rank[0] + per_rank[1]
    assert sorted(seen) == list(range(n))
    assert batch_indices(n, 0, 3, 0, 1, Dist(0, world), bs) != seen[:2]  # a new order next pass
    assert batch_indices(n, 0, 1, 0, 1, Dist(1, 2), bs) == batch_indices(
        n, 0, 1, 0, 1, Dist(1, 2), bs
    )


@pytest.mark.slow
def test_two_process_ddp_run_on_cpu_with_gloo(make_config, tmp_path):
    cfg = make_config(tmp_path, steps=3, save_every=100, batch_size=2)
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "emochat.train.emochat_llm", "train", "--config", str(path)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == [0, 3]
    assert summary["samples_per_s"] > 0 and len(summary["history"]) == 3
    ckpt = latest_checkpoint(tmp_path / "run")
    assert json.loads((ckpt / "state.json").read_text())["world"] == 2
    assert (tmp_path / "run" / "adapter" / "trainable.safetensors").is_file()
    assert "done: steps 0..3" in run.stdout
