"""The multimodal LM on a tiny RANDOM-WEIGHT Gemma-3 (plumbing, not quality)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from emochat.core.errors import EmochatError
from emochat.core.labels import BASIC_LABELS
from emochat.models.emochat_llm.cues import MODALITIES
from emochat.models.emochat_llm.lm import load_lm
from emochat.models.emochat_llm.model import TRAINABLE_FILE, EmoChatLM, Layout, MLLMConfig
from emochat.models.emochat_llm.prompt import target_text
from emochat.train.emochat_llm.config import TrainConfig
from emochat.train.emochat_llm.trainer import latest_checkpoint, train


@pytest.fixture
def build(tiny_lm_dir, dims):
    """A fresh EmoChatLM on the tiny random-weight LM (base weights identical each time)."""

    def make() -> EmoChatLM:
        lm, tok = load_lm(str(tiny_lm_dir))
        return EmoChatLM(lm, tok, MLLMConfig(modality_dims=dims, tokens_per_modality=2))

    return make


def _batch(model, samples):
    layouts = [model.layout(s.cues, target_text(s.basic, s.cues, s.native)) for s in samples]
    return model.collate(layouts, [s.cues.vectors() for s in samples])


def test_soft_tokens_fill_exactly_the_slots_of_present_modalities(build, samples):
    model = build()
    s = samples[0]  # lacks face
    assert s.cues.present == ("voice", "text")
    layout = model.layout(s.cues)
    slot_ids = np.array(layout.slots)
    assert (slot_ids == MODALITIES.index("face") + 1).sum() == 0
    for m in s.cues.present:
        assert (slot_ids == MODALITIES.index(m) + 1).sum() == 2
    batch = model.collate([layout], [s.cues.vectors()])
    with torch.no_grad():
        embeds = model.embed(batch["input_ids"], batch["slot_ids"], batch["vectors"])
        words = model.lm.get_input_embeddings()(batch["input_ids"])
        voice = model.projectors["voice"](batch["vectors"]["voice"])[0]
    where = batch["slot_ids"][0] == MODALITIES.index("voice") + 1
    torch.testing.assert_close(embeds[0][where], voice)
    text_pos = batch["slot_ids"][0] == 0
    torch.testing.assert_close(embeds[0][text_pos], words[0][text_pos])
    # the projected tokens come in at the size of the LM's own word embeddings
    rms = float(voice.pow(2).mean().sqrt())
    assert rms == pytest.approx(float(model.projectors["voice"].target_rms), rel=1e-3)


def test_labels_cover_only_the_target(build, samples):
    model = build()
    s = samples[3]
    target = target_text(s.basic, s.cues, s.native)
    batch = _batch(model, [s])
    kept = batch["labels"][0][batch["labels"][0] != -100].tolist()
    assert model.tokenizer.decode(kept, skip_special_tokens=True) == target


def test_only_projectors_and_lora_train(build):
    model = build()
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all(n.startswith("projectors.") or "lora_" in n for n in names)
    assert any("lora_" in n for n in names)


def test_save_load_round_trips_weights_and_logits(build, tiny_lm_dir, samples, tmp_path):
    model = build().eval()
    with torch.no_grad():  # move every trainable tensor off its init (LoRA B starts at 0)
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    folder = model.save_trainable(tmp_path / "adapter")
    size = (folder / TRAINABLE_FILE).stat().st_size
    assert size < 2 * 4 * sum(p.numel() for p in model.parameters() if p.requires_grad) + 10**5
    lm, tok = load_lm(str(tiny_lm_dir))
    loaded = EmoChatLM.load(folder, lm, tok)
    saved = load_file(str(folder / TRAINABLE_FILE))
    for k, v in loaded.trainable_state().items():
        assert torch.equal(v, saved[k]), k
    batch = _batch(model, samples[:4])
    with torch.no_grad():
        a, b = model(**batch).logits, loaded(**batch).logits
    assert torch.equal(a, b)
    fresh = build().eval()
    with torch.no_grad():
        assert not torch.allclose(fresh(**batch).logits, a)  # the adapter does change them
    assert json.loads((folder / "mllm.json").read_text())["tokens_per_modality"] == 2


def test_load_names_a_folder_without_adapter(tmp_path):
    with pytest.raises(EmochatError, match="not a saved emochat LLM adapter"):
        EmoChatLM.load(tmp_path)


@pytest.mark.slow
def test_loss_falls_and_resume_continues_where_it_stopped(make_config, tmp_path):
    full = train(TrainConfig.from_dict(make_config(tmp_path / "a")))
    losses = [h["loss"] for h in full["history"]]
    assert len(losses) == 20
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3, losses

    part = TrainConfig.from_dict(make_config(tmp_path / "b", save_every=100))
    first = train(part, stop_at=10)  # as if the job had been stopped there
    assert first["steps"] == [0, 10]
    assert latest_checkpoint(part.output_dir).name == "step-0000010"
    rest = train(part)
    assert rest["steps"] == [10, 20]
    # the resumed run sees the same batches, dropout masks and optimizer state
    resumed = [h["loss"] for h in first["history"] + rest["history"]]
    assert resumed == pytest.approx(losses, abs=1e-4)
    a = load_file(str(tmp_path / "a" / "run" / "adapter" / TRAINABLE_FILE))
    b = load_file(str(tmp_path / "b" / "run" / "adapter" / TRAINABLE_FILE))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)


def test_explain_gives_a_basic_label_and_cites_only_present_modalities(build, samples):
    from emochat.models.emochat_llm.infer import explain
    from emochat.train.emochat_llm.evaluate import evaluate

    model = build().eval()
    s = samples[1]  # lacks voice
    out = explain(model, s.cues, max_new_tokens=8)
    assert out["label"] in out["probs"] and sum(out["probs"].values()) == pytest.approx(1, 1e-3)
    assert set(out["cited"]) <= set(s.cues.present)
    scores = evaluate(model, samples[:7])
    assert scores["n"] == 7 and 0 <= scores["llm_accuracy"] <= 1
    assert scores["cue_model_accuracy"] == 1.0  # the synthetic cues name the gold label


def test_target_only_loss_equals_the_full_lm_loss(build, samples):
    """The loss on target positions alone is the LM's own next-token loss of the batch."""
    model = build().eval()
    batch = _batch(model, samples[:4])
    with torch.no_grad():
        ours = model(**batch).loss
        embeds = model.embed(batch["input_ids"], batch["slot_ids"], batch["vectors"])
        full = model.lm(
            inputs_embeds=embeds, attention_mask=batch["attention_mask"], labels=batch["labels"]
        ).loss
    torch.testing.assert_close(ours, full, rtol=1e-5, atol=1e-5)


def test_label_scores_with_a_shared_prompt_cache_equal_full_passes(build, samples):
    """Scoring the labels on the prompt's repeated KV cache gives each `` label\\n``
    continuation's log-probability as a separate full forward pass does."""
    model = build().eval()
    with torch.no_grad():  # a non-zero adapter, so the LoRA path is exercised too
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    cues = samples[5].cues
    scores = model.label_scores(cues)
    prompt = model.layout(cues)
    expected = []
    for label in BASIC_LABELS:
        cont = model._ids(f" {label}\n")
        layout = Layout(prompt.ids + cont, prompt.slots + [0] * len(cont), len(prompt.ids), ())
        batch = model.collate([layout], [cues.vectors()])
        with torch.no_grad():
            logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits[0]
        logp = torch.log_softmax(logits.float(), dim=-1)
        n = len(prompt.ids)
        expected.append(sum(float(logp[n - 1 + j, t]) for j, t in enumerate(cont)))
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    assert len(set(np.round(scores, 4))) > 1  # the labels are told apart


@pytest.mark.slow
def test_default_lm_loads_from_its_converted_folder_with_the_ggufs_exact_tensors():
    """The converted HF folder of the default GGUF holds the tensors the GGUF dequantises
    to, and its tokenizer splits text the same way."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from emochat.models.emochat_llm.lm import CONVERTED_MARKER
    from emochat.models.gemma import default_gguf

    model, tokenizer = load_lm()
    gguf = default_gguf()
    assert (gguf.parent / "hf-float32" / CONVERTED_MARKER).is_file()
    where = {"gguf_file": gguf.name}
    reference = AutoModelForCausalLM.from_pretrained(str(gguf.parent), **where)
    ref_state = reference.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, ref_state[name]), name
    ref_tok = AutoTokenizer.from_pretrained(str(gguf.parent), **where)
    for text in ("Emotion: happy\nWords: joy", "我现在很生气!", "Face: AU12 2.5"):
        assert tokenizer(text)["input_ids"] == ref_tok(text)["input_ids"]
