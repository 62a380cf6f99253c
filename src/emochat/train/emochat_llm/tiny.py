"""A tiny RANDOM-WEIGHT Gemma-3 LM and byte-level BPE tokenizer, for plumbing tests only.

It knows no language: it exists so that the training loop, save/load, resume and DDP can
be exercised on CPU in seconds. Nothing it outputs means anything before training.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SPECIAL = ["<pad>", "<bos>", "<eos>", "<unk>"]


def tiny_tokenizer(corpus: Iterable[str], vocab_size: int = 400):
    """A byte-level BPE tokenizer trained on ``corpus`` (in memory, offline)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
    )


def tiny_random_lm(
    vocab_size: int, hidden: int = 64, layers: int = 2, seed: int = 0, init_std: float = 0.1
):
    """A 2-layer Gemma-3 text model with random weights (``seed``), float32."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    config = Gemma3TextConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=hidden // 2,
        max_position_embeddings=1024,
        sliding_window=128,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        # wide enough that the frozen, tied embeddings can express peaked distributions
        initializer_range=init_std,
    )
    torch.manual_seed(seed)
    return Gemma3ForCausalLM(config).float()


def write_tiny_lm(folder: str | Path, corpus: Iterable[str], seed: int = 0) -> Path:
    """Save a tiny random LM + its tokenizer as an HF folder that :func:`load_lm` reads."""
    folder = Path(folder)
    tokenizer = tiny_tokenizer(corpus)
    model = tiny_random_lm(len(tokenizer), seed=seed)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
