"""Tiny twin of a BERT-style sequence classifier (google-bert/bert-base-uncased's family)."""

from __future__ import annotations

from pathlib import Path

HIDDEN, LAYERS, HEADS = 64, 2, 4


def build_bert_classifier(folder: Path) -> None:
    """BertForSequenceClassification (2 labels) with a WordPiece tokenizer trained on the corpus."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from studio.tokens.tiny_twins import build_bert_wordpiece

    build_bert_wordpiece(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=HIDDEN * 2, max_position_embeddings=512, num_labels=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)  # the same twin on every machine
    BertForSequenceClassification(config).save_pretrained(folder)
