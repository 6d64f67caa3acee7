"""Tiny twins of the text models: random weights, real architectures, a real BPE tokenizer
trained at build time on the project's own small bilingual corpus (assets/tiny_corpus.txt)."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "assets" / "tiny_corpus.txt"
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
EOS, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
HIDDEN, LAYERS, HEADS = 64, 2, 4


def train_byte_level_bpe(vocab_size: int = 1024, special_tokens: tuple[str, ...] = (EOS,)):
    """A GPT-2-style byte-level BPE (so any Unicode text round-trips) trained on the corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train([str(CORPUS)], trainer)
    return tokenizer


def _save_tokenizer(folder: Path, special_tokens: tuple[str, ...], chat_template: str | None, **extra):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=train_byte_level_bpe(special_tokens=special_tokens),
        eos_token=EOS,
        pad_token=EOS,
        **extra,
    )
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(folder)
    return fast


def _save_model(folder: Path, config) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)  # the same twin on every machine
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder)  # safetensors, like the real checkpoints


def build_qwen2_chat(folder: Path) -> None:
    """Qwen2-architecture chat model with a ChatML template, like Qwen2.5-*-Instruct."""
    from transformers import Qwen2Config

    tok = _save_tokenizer(
        folder, (EOS, IM_START, IM_END), CHATML_TEMPLATE, additional_special_tokens=[IM_START, IM_END],
        model_max_length=32768,  # as Qwen2.5's tokenizer says
    )
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=HIDDEN,
        intermediate_size=HIDDEN * 2,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=HEADS // 2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tok.convert_tokens_to_ids(EOS),
        eos_token_id=[tok.convert_tokens_to_ids(IM_END), tok.convert_tokens_to_ids(EOS)],
        pad_token_id=tok.convert_tokens_to_ids(EOS),
    )
    _save_model(folder, config)


def build_bloom(folder: Path) -> None:
    """BLOOM-architecture base model (the class's LoRA lesson uses bloom-560m)."""
    from transformers import BloomConfig

    tok = _save_tokenizer(folder, (EOS,), None)
    eos = tok.convert_tokens_to_ids(EOS)
    config = BloomConfig(
        vocab_size=len(tok), hidden_size=HIDDEN, n_layer=LAYERS, n_head=HEADS,
        bos_token_id=eos, eos_token_id=eos, pad_token_id=eos,
    )
    _save_model(folder, config)


def build_gpt2(folder: Path) -> None:
    """GPT-2-architecture base model for raw completion."""
    from transformers import GPT2Config

    tok = _save_tokenizer(folder, (EOS,), None, bos_token=EOS, model_max_length=1024)  # GPT-2's window
    eos = tok.convert_tokens_to_ids(EOS)
    config = GPT2Config(
        vocab_size=len(tok), n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_positions=1024,
        bos_token_id=eos, eos_token_id=eos,
    )
    _save_model(folder, config)
