"""The multimodal LM: cue projectors -> soft tokens in a causal LM's prompt, LoRA on the LM.

Each modality's cue vector goes through its own small MLP (:class:`CueProjector`) to
``tokens_per_modality`` vectors in the LM's input-embedding space, scaled to the RMS of
the LM's own word embeddings so they enter at the size the LM expects. They replace the
:class:`~emochat.models.emochat_llm.prompt.SoftSlot` of that modality in the prompt; a missing
modality has no slot and no tokens. Only the projectors and the LoRA adapter train; the
base LM stays frozen, and only those trainable parts are saved (:meth:`save_trainable`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emochat.core.errors import EmochatError
from emochat.core.labels import BASIC_LABELS
from emochat.models.emochat_llm.cues import FACE_DIM, MODALITIES, Cues
from emochat.models.emochat_llm.prompt import SoftSlot, prompt_parts

DEFAULT_DIMS = {"face": FACE_DIM, "voice": 7 * 2 * 512, "text": 384}
TRAINABLE_FILE = "trainable.safetensors"
CONFIG_FILE = "mllm.json"
IGNORE = -100


@dataclass
class MLLMConfig:
    """What the trainable parts are and how the prompt is built (saved with them)."""

    modality_dims: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DIMS))
    tokens_per_modality: int = 4
    projector_hidden: int = 256
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    cue_text: bool = True
    """Also write each cue's measured values as text after its soft tokens."""
    max_target_tokens: int = 96
    lm_source: str | None = None
    """The base LM (None: the default gemma-3-270m GGUF); the adapter only fits this LM."""
    lm_gguf_file: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping) -> MLLMConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**dict(d))


class CueProjector(nn.Module):
    """Cue vector -> ``n_tokens`` soft tokens: LayerNorm, MLP, then RMS matched to the LM."""

    def __init__(self, in_dim: int, hidden: int, n_tokens: int, embed_dim: int, rms: float):
        super().__init__()
        self.n_tokens, self.embed_dim = n_tokens, embed_dim
        self.norm = nn.LayerNorm(in_dim)
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, n_tokens * embed_dim)
        )
        self.register_buffer("target_rms", torch.tensor(float(rms)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mlp(self.norm(x)).view(x.shape[0], self.n_tokens, self.embed_dim)
        return y * (self.target_rms / y.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt())


@dataclass
class TargetOutput:
    """Loss and logits at the target positions (``keep``: which shifted positions)."""

    loss: torch.Tensor
    logits: torch.Tensor
    """(number of target tokens, vocabulary), in the order of ``keep``'s True entries."""
    keep: torch.Tensor
    """(batch, length - 1) bool: position t predicts token t + 1 of a target."""


def _head_logits(causal: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """The causal LM's output projection (with its logit soft-capping, if it has one)."""
    logits = causal.lm_head(hidden)
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


@dataclass
class Layout:
    """One sequence: token ids (0 at soft positions), slot ids (0 token, i+1 modality i)."""

    ids: list[int]
    slots: list[int]
    n_prompt: int
    modalities: tuple[str, ...]


def _embedding_rms(lm: nn.Module) -> float:
    emb = lm.get_input_embeddings()
    n = min(int(emb.num_embeddings), 4096)
    with torch.no_grad():
        e = emb(torch.arange(n, device=emb.weight.device))
    return float(e.float().pow(2).mean().sqrt())


class EmoChatLM(nn.Module):
    """Projectors + LoRA-wrapped causal LM; ``forward`` returns the LM output (with loss)."""

    def __init__(self, lm: nn.Module, tokenizer, config: MLLMConfig):
        super().__init__()
        from peft import LoraConfig, get_peft_model

        self.config = config
        self.tokenizer = tokenizer
        rms = _embedding_rms(lm)
        dim = int(lm.get_input_embeddings().embedding_dim)
        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=list(config.lora_targets),
            task_type="CAUSAL_LM",
        )
        self.lm = get_peft_model(lm, lora)
        self.projectors = nn.ModuleDict(
            {
                m: CueProjector(
                    int(config.modality_dims[m]),
                    config.projector_hidden,
                    config.tokens_per_modality,
                    dim,
                    rms,
                )
                for m in MODALITIES
                if m in config.modality_dims
            }
        )

    # ------------------------------------------------------------------ inputs
    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def layout(self, cues: Cues, target: str | None = None) -> Layout:
        """Token layout of the prompt for ``cues`` (and the target, when training)."""
        missing = [m for m in cues.present if m not in self.projectors]
        if missing:
            raise ValueError(f"this model has no projector for {missing}")
        bos = self.tokenizer.bos_token_id
        ids: list[int] = [] if bos is None else [int(bos)]
        slots: list[int] = [0] * len(ids)
        for part in prompt_parts(cues, cue_text=self.config.cue_text):
            if isinstance(part, SoftSlot):
                k = self.config.tokens_per_modality
                ids += [0] * k
                slots += [MODALITIES.index(part.modality) + 1] * k
            else:
                piece = self._ids(part)
                ids += piece
                slots += [0] * len(piece)
        n_prompt = len(ids)
        if target is not None:
            tail = self._ids(target)[: self.config.max_target_tokens]
            eos = self.tokenizer.eos_token_id
            ids += tail + ([] if eos is None else [int(eos)])
            slots += [0] * (len(ids) - n_prompt)
        return Layout(ids, slots, n_prompt, cues.present)

    def collate(
        self,
        layouts: Sequence[Layout],
        vectors: Sequence[Mapping[str, np.ndarray]],
        left_pad: bool = False,
    ) -> dict:
        """Padded tensors for :meth:`forward`; ``labels`` cover the target tokens only."""
        n = max(len(x.ids) for x in layouts)
        pad = int(self.tokenizer.pad_token_id or 0)
        ids = torch.full((len(layouts), n), pad, dtype=torch.long)
        slots = torch.zeros((len(layouts), n), dtype=torch.long)
        mask = torch.zeros((len(layouts), n), dtype=torch.long)
        labels = torch.full((len(layouts), n), IGNORE, dtype=torch.long)
        for i, x in enumerate(layouts):
            k = len(x.ids)
            s = slice(n - k, n) if left_pad else slice(0, k)
            ids[i, s] = torch.tensor(x.ids)
            slots[i, s] = torch.tensor(x.slots)
            mask[i, s] = 1
            lab = torch.tensor(x.ids)
            lab[: x.n_prompt] = IGNORE
            labels[i, s] = lab
        stacked = {
            m: torch.from_numpy(
                np.stack([np.asarray(v[m], dtype=np.float32) for v in vectors if m in v])
            )
            for m in MODALITIES
            if any(m in v for v in vectors)
        }
        return {
            "input_ids": ids,
            "slot_ids": slots,
            "attention_mask": mask,
            "labels": labels,
            "vectors": stacked,
        }

    def embed(
        self, input_ids: torch.Tensor, slot_ids: torch.Tensor, vectors: Mapping[str, torch.Tensor]
    ) -> torch.Tensor:
        """Word embeddings with every soft slot replaced by its projected cue tokens."""
        embeds = self.lm.get_input_embeddings()(input_ids)
        for m, x in vectors.items():
            where = slot_ids == MODALITIES.index(m) + 1
            soft = self.projectors[m](x.to(embeds.device)).to(embeds.dtype)
            embeds = embeds.masked_scatter(where.unsqueeze(-1), soft.reshape(-1, embeds.shape[-1]))
        return embeds

    def forward(
        self,
        input_ids: torch.Tensor,
        slot_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        vectors: Mapping[str, torch.Tensor],
        labels: torch.Tensor | None = None,
    ):
        """Without ``labels``: the LM's output (logits at every position). With them:
        :class:`TargetOutput`, the LM head applied to the target positions only.

        The vocabulary projection dominates a small LM's cost (gemma-3-270m: 262k x 640,
        more multiply-adds per token than all its layers together), and the prompt's
        positions carry no loss, so skipping them there is most of a CPU step's time.
        """
        embeds = self.embed(input_ids, slot_ids, vectors)
        if labels is None:
            return self.lm(inputs_embeds=embeds, attention_mask=attention_mask)
        causal = self.lm.get_base_model()
        hidden = causal.model(inputs_embeds=embeds, attention_mask=attention_mask)[0]
        target = labels[:, 1:]
        keep = target != IGNORE
        logits = _head_logits(causal, hidden[:, :-1][keep])
        loss = nn.functional.cross_entropy(logits.float(), target[keep])
        return TargetOutput(loss, logits, keep)

    # --------------------------------------------------------------- inference
    @torch.no_grad()
    def generate(self, cues: Cues, max_new_tokens: int = 80) -> str:
        """Greedy continuation of the prompt for ``cues``: label, Words: and Why: lines."""
        batch = self.collate([self.layout(cues)], [cues.vectors()])
        dev = self.lm.get_input_embeddings().weight.device
        embeds = self.embed(batch["input_ids"].to(dev), batch["slot_ids"].to(dev), batch["vectors"])
        out = self.lm.generate(
            inputs_embeds=embeds,
            attention_mask=batch["attention_mask"].to(dev),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        return self.tokenizer.decode(out[0], skip_special_tokens=True)

    @torch.no_grad()
    def label_scores(self, cues: Cues, labels: Sequence[str] = BASIC_LABELS) -> np.ndarray:
        """Log-probability of each `` label\\n`` continuation of the prompt.

        The prompt runs once; its key/value cache is repeated for the labels, which then
        run only their own few tokens (7 labels cost about one prompt, not seven).
        """
        batch = self.collate([self.layout(cues)], [cues.vectors()])
        dev = self.lm.get_input_embeddings().weight.device
        embeds = self.embed(batch["input_ids"].to(dev), batch["slot_ids"].to(dev), batch["vectors"])
        mask = batch["attention_mask"].to(dev)
        out = self.lm(inputs_embeds=embeds, attention_mask=mask, use_cache=True)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
        conts = [self._ids(f" {lab}\n") for lab in labels]
        n = max(len(c) for c in conts)
        pad = int(self.tokenizer.pad_token_id or 0)
        ids = torch.tensor([c + [pad] * (n - len(c)) for c in conts], device=dev)
        scores = first[ids[:, 0]].clone()
        if n > 1:
            cache = out.past_key_values
            cache.batch_repeat_interleave(len(conts))
            cont_mask = torch.tensor([[1] * len(c) + [0] * (n - len(c)) for c in conts], device=dev)
            full_mask = torch.cat([mask.expand(len(conts), -1), cont_mask[:, :-1]], dim=1)
            rest = self.lm(
                input_ids=ids[:, :-1],
                attention_mask=full_mask,
                past_key_values=cache,
                use_cache=True,
            )
            logp = torch.log_softmax(rest.logits.float(), dim=-1)
            picked = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            scores += (picked * cont_mask[:, 1:]).sum(-1)
        return scores.cpu().numpy()

    # ------------------------------------------------------------ save / load
    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Projector and LoRA tensors only (``projectors.*``, ``lora.*``)."""
        from peft import get_peft_model_state_dict

        state = {f"projectors.{k}": v for k, v in self.projectors.state_dict().items()}
        state |= {f"lora.{k}": v for k, v in get_peft_model_state_dict(self.lm).items()}
        return {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}

    def load_trainable_state(self, state: Mapping[str, torch.Tensor]) -> None:
        from peft import set_peft_model_state_dict

        proj = {k[len("projectors.") :]: v for k, v in state.items() if k.startswith("projectors.")}
        lora = {k[len("lora.") :]: v for k, v in state.items() if k.startswith("lora.")}
        self.projectors.load_state_dict(proj, strict=True)
        result = set_peft_model_state_dict(self.lm, lora)
        unexpected = getattr(result, "unexpected_keys", [])
        if unexpected:
            raise ValueError(f"adapter tensors this LM has no place for: {unexpected[:3]}")

    def save_trainable(self, folder: str | Path) -> Path:
        """Write ``trainable.safetensors`` and ``mllm.json`` (small files) into ``folder``."""
        from safetensors.torch import save

        from emochat.core.files import atomic_path

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / TRAINABLE_FILE) as tmp:
            tmp.write_bytes(save(self.trainable_state()))
        with atomic_path(folder / CONFIG_FILE) as tmp:
            tmp.write_text(json.dumps(asdict(self.config), indent=2) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path, lm: nn.Module | None = None, tokenizer=None) -> EmoChatLM:
        """Rebuild from :meth:`save_trainable`'s folder on its base LM (loaded unless given)."""
        from safetensors.torch import load_file

        folder = Path(folder)
        for name in (CONFIG_FILE, TRAINABLE_FILE):
            if not (folder / name).is_file():
                raise EmochatError(folder / name, "not found: not a saved emochat LLM adapter")
        config = MLLMConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text("utf-8")))
        if lm is None or tokenizer is None:
            from emochat.models.emochat_llm.lm import load_lm

            lm, tokenizer = load_lm(config.lm_source, config.lm_gguf_file)
        model = cls(lm, tokenizer, config)
        model.load_trainable_state(load_file(str(folder / TRAINABLE_FILE)))
        return model.eval()
