"""Tiny twins of the masked LMs: random weights, the real architectures, tokenizers built here.

- ``modernbert-chat``: a small ``ModernBertForMaskedLM`` (the family of dllm-hub's
  ModernBERT-*-chat) with a byte-level BPE trained on the project's corpus, ModernBERT's
  special tokens ([CLS] text [SEP], [MASK], [PAD]) and a chat template in the BERT-chat
  question/answer form.
- ``bert-chinese-mlm``: a small ``BertForMaskedLM`` (google-bert/bert-base-chinese's family)
  with a character vocabulary: like bert-base-chinese, BertTokenizer cuts Chinese into single
  characters, so "炎龍老師很幽默" is seven tokens, and the slide's candidates are in the vocabulary.
"""

from __future__ import annotations

from pathlib import Path

from studio.text.tiny_twins import CORPUS, train_byte_level_bpe

HIDDEN, LAYERS, HEADS = 64, 2, 4
MODERNBERT_SPECIALS = ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]")
BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# The slide's sentence and the candidates it shows for the blank, whatever the corpus holds.
SLIDE_CHARACTERS = "炎龍老師很幽默好笑可愛有趣帥氣厲害親切"
# Questions between [Question] tags, answers between [Answer] tags, as the BERT-chat models were tuned.
QA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '[SYS]\\n' + message['content'] | trim + '\\n[/SYS]\\n\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '[Question]\\n' + message['content'] | trim + '\\n[/Question]\\n\\n' }}"
    "{% else %}{{ '[Answer]\\n' + message['content'] | trim + '\\n[/Answer]\\n\\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '[Answer]\\n' }}{% endif %}"
)


def _save_model(folder: Path, config) -> None:
    import torch
    from transformers.models.auto.modeling_auto import AutoModelForMaskedLM

    torch.manual_seed(0)  # the same twin on every machine
    AutoModelForMaskedLM.from_config(config).save_pretrained(folder)  # safetensors, like the real ones


def build_modernbert_chat(folder: Path) -> None:
    """ModernBERT masked LM with a mask token and a question/answer chat template."""
    from tokenizers import processors
    from transformers import ModernBertConfig, PreTrainedTokenizerFast

    backend = train_byte_level_bpe(special_tokens=MODERNBERT_SPECIALS)
    cls_id, sep_id = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(  # what ModernBERT's tokenizer adds
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
        mask_token="[MASK]", model_max_length=8192,
    )
    tokenizer.chat_template = QA_CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    pad_id = tokenizer.pad_token_id
    config = ModernBertConfig(
        vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=HIDDEN * 2, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, max_position_embeddings=2048, local_attention=16,
        pad_token_id=pad_id, bos_token_id=cls_id, cls_token_id=cls_id, eos_token_id=sep_id, sep_token_id=sep_id,
    )
    _save_model(folder, config)


def chinese_vocabulary() -> list[str]:
    """Specials, every character of the corpus and the slide, and ## pieces for Latin text."""
    characters = sorted(set(CORPUS.read_text(encoding="utf-8")) | set(SLIDE_CHARACTERS))
    singles = [c for c in characters if not c.isspace()]
    pieces = [f"##{c}" for c in singles if c.isascii() and c.isalnum()]  # "fun" -> f ##u ##n, not [UNK]
    return [*BERT_SPECIALS, *singles, *pieces]


def build_bert_chinese_mlm(folder: Path) -> None:
    """BERT masked LM over a character vocabulary, as bert-base-chinese reads Chinese."""
    from transformers import BertConfig
    from transformers.models.bert.tokenization_bert import BertTokenizer

    vocabulary = chinese_vocabulary()
    tokenizer = BertTokenizer(vocab={token: i for i, token in enumerate(vocabulary)}, model_max_length=512)
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocabulary), hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=HIDDEN * 2, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
    )
    _save_model(folder, config)
