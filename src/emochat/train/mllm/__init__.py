"""The multimodal emotion LLM (EmoChat / Emotion-LLaMA style), trainable on your data.

Segment cue vectors (face: AU intensities + expression-CNN probabilities; voice: pooled
whisper-base states; text: multilingual-e5) are projected by small MLPs to soft tokens
in a causal LM's prompt, beside the cues' measured values in words; LoRA adapts the LM.
It answers with an emotion label, open-vocabulary words and a rationale citing the cues.

* :mod:`.model` - :class:`EmoChatLM` (projectors + LoRA; save/load of the trainable parts)
* :mod:`.data` - instruction samples from the corpora / a manifest, held-out splits refused
* :mod:`.trainer` - the DDP-ready, resumable loop behind ``emochat train llm``
* :mod:`.infer` - :func:`explain` (what a reasoner calls) and :func:`evaluate`
* :mod:`.tiny` - a tiny random-weight LM for plumbing tests only

Train: ``emochat train llm --config configs/mllm.yaml`` (one process) or
``python -m torch.distributed.run --nproc_per_node N -m emochat train llm --config ...``.
Use: ``model = EmoChatLM.load("runs/mllm/adapter")``; ``explain(model, cues)``.
"""
