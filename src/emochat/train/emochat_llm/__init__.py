"""The multimodal emotion LLM (EmoChat / Emotion-LLaMA style), trainable on your data.

Segment cue vectors (face: AU intensities + expression-CNN probabilities; voice: pooled
whisper-base states; text: multilingual-e5) are projected by small MLPs to soft tokens
in a causal LM's prompt, beside the cues' measured values in words; LoRA adapts the LM.
It answers with an emotion label, open-vocabulary words and a rationale citing the cues.

The model itself (cues, prompt, :class:`EmoChatLM`, the base LM, ``explain``) is what the
reasoner loads at run time, so it lives in :mod:`emochat.models.emochat_llm`; this package
keeps the recipe:

* :mod:`.data` - instruction samples from the corpora / a manifest, held-out splits refused
* :mod:`.features` - the cue extractor that builds those samples from media
* :mod:`.config` - the training config (YAML)
* :mod:`.trainer` - the DDP-ready, resumable loop: the ``train`` step
* :mod:`.evaluate` - :func:`evaluate`, the LLM beside the fusion head and the cue models
* :mod:`.adapter` - the shipped adapter: train, score the held-out subsets, export
* :mod:`.tiny` - a tiny random-weight LM for plumbing tests only

Train: ``emochat train emochat_llm train --config configs/mllm.yaml`` (one process) or
``python -m torch.distributed.run --nproc_per_node N -m emochat.train.emochat_llm train
--config ...``. Use the result with :mod:`emochat.models.emochat_llm`.
"""

STEPS = {
    "train": "cue projectors + LoRA on a causal LM from a YAML config (resumable, DDP-ready)",
    "adapter": "train, score and export the shipped adapter (configs/mllm_cpu.yaml)",
}
