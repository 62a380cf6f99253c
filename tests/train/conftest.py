"""Fixtures for the multimodal-LLM tests: synthetic cue samples and a tiny RANDOM-WEIGHT LM.

The samples' vectors are random numbers (with the label written into them so there is
something to learn), not features of any real media; the LM is a 2-layer Gemma-3 with
random weights and a BPE tokenizer trained on these prompts. Both exist to test the
plumbing (training, save/load, resume, DDP), not any model quality.
"""

from __future__ import annotations

import numpy as np
import pytest

from emochat.core.labels import BASIC_LABELS
from emochat.models.emochat_llm.cues import Cues, ModalityCue, face_vector
from emochat.models.emochat_llm.prompt import prompt_parts, target_text
from emochat.train.emochat_llm.data import InstructionSample, save_samples

DIMS = {"face": 25, "voice": 16, "text": 8}


def synthetic_samples(n: int = 24, seed: int = 0) -> list[InstructionSample]:
    """Random-vector samples; sample i has label i mod 7 and lacks a modality in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = BASIC_LABELS[i % len(BASIC_LABELS)]
        onehot = np.eye(len(BASIC_LABELS))[i % len(BASIC_LABELS)]
        probs = {
            lab: round(float(p), 2) for lab, p in zip(BASIC_LABELS, 0.1 + 0.6 * onehot, strict=True)
        }
        au = {"AU12": 2.0} if label == "happy" else {"AU04": 1.5}
        by = {
            "face": ModalityCue(face_vector(au, onehot), probs, au=au),
            "voice": ModalityCue(rng.normal(size=DIMS["voice"]).astype(np.float32), probs),
            "text": ModalityCue(
                np.concatenate([onehot, [1.0]]).astype(np.float32), probs, words=f"words {i}"
            ),
        }
        del by[("face", "voice", "text")[i % 3]]  # every sample misses one modality
        out.append(InstructionSample(f"syn-{i}", "synthetic", "train", label, [label], Cues(by)))
    return out


def tokenizer_corpus(samples) -> list[str]:
    texts = []
    for s in samples:
        parts = prompt_parts(s.cues)
        texts.append("".join(p for p in parts if isinstance(p, str)))
        texts.append(target_text(s.basic, s.cues, s.native))
    return texts


@pytest.fixture(scope="session")
def samples() -> list[InstructionSample]:
    return synthetic_samples()


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory, samples):
    return save_samples(tmp_path_factory.mktemp("samples") / "synthetic.npz", samples)


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory, samples):
    """An HF folder holding the tiny random-weight LM and its tokenizer."""
    from emochat.train.emochat_llm.tiny import write_tiny_lm

    return write_tiny_lm(tmp_path_factory.mktemp("tiny-lm"), tokenizer_corpus(samples))


@pytest.fixture
def make_config(tiny_lm_dir, sample_file):
    """``make_config(folder, **overrides)``: a training config (as YAML would give it) for
    the tiny LM on the synthetic sample file, writing under ``folder``."""
    return lambda folder, **overrides: _tiny_config(folder, tiny_lm_dir, sample_file, overrides)


@pytest.fixture(scope="session")
def dims() -> dict[str, int]:
    return dict(DIMS)


def _tiny_config(tmp_path, lm_dir, sample_file, overrides) -> dict:
    cfg = {
        "lm": str(lm_dir),
        "sources": [{"file": str(sample_file)}],
        "model": {
            "modality_dims": DIMS,
            "tokens_per_modality": 2,
            "projector_hidden": 32,
            "lora_r": 4,
            "lora_alpha": 8,
            "cue_text": False,  # shorter sequences: faster steps
        },
        "cache_dir": str(tmp_path / "cache"),
        "output_dir": str(tmp_path / "run"),
        "steps": 20,
        "batch_size": 4,
        "lr": 1e-2,
        "warmup_steps": 2,
        "log_every": 10,
        "save_every": 10,
    }
    cfg.update(overrides)
    return cfg
