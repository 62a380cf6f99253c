"""The multimodal emotion LLM at run time: what the ``emochat-llm`` reasoner loads.

* :mod:`.cues` - a segment's cue vectors and values (:class:`Cues`)
* :mod:`.prompt` - the prompt around the soft cue tokens, the answer format and its parser
* :mod:`.model` - :class:`EmoChatLM` (projectors + LoRA; save/load of the trainable parts)
* :mod:`.lm` - the base causal LM (gemma-3-270m from its GGUF package)
* :mod:`.infer` - :func:`explain`, the call a reasoner makes

The shipped adapter is ``emochat/models/emochat_llm/llm_adapter``; the recipe is
:mod:`emochat.train.emochat_llm`. Use: ``model = EmoChatLM.load("runs/mllm/adapter")``;
``explain(model, cues)``.
"""
