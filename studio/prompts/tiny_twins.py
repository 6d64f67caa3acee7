"""Tiny twin of the Describe model: a random-weight BLIP captioner of the real architecture
(BlipForConditionalGeneration) with a BlipProcessor, saved as the Hub repo is."""

from __future__ import annotations

import tempfile
from pathlib import Path

HIDDEN, LAYERS, HEADS = 32, 2, 4
IMAGE_SIZE, PATCH = 32, 8
DECODER_BOS = "[DEC]"  # BLIP's text decoder starts from this token, as in the real repo


def build_blip(folder: Path) -> None:
    import torch
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessor, BlipProcessor
    from transformers.models.bert.tokenization_bert import BertTokenizer

    from studio.tokens.tiny_twins import build_bert_wordpiece

    # BLIP reads text with a BERT WordPiece tokenizer; the tokenizer twin's is trained on the
    # project's own corpus, and gets BLIP's extra decoder-start token.
    with tempfile.TemporaryDirectory() as scratch:
        build_bert_wordpiece(Path(scratch))
        tokenizer = BertTokenizer.from_pretrained(scratch)
    tokenizer.add_special_tokens({"bos_token": DECODER_BOS})
    config = BlipConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=HIDDEN, encoder_hidden_size=HIDDEN, intermediate_size=HIDDEN * 2,
            num_hidden_layers=LAYERS, num_attention_heads=HEADS, max_position_embeddings=64,
            bos_token_id=tokenizer.convert_tokens_to_ids(DECODER_BOS), pad_token_id=tokenizer.pad_token_id,
            sep_token_id=tokenizer.sep_token_id, eos_token_id=tokenizer.sep_token_id,
        ),
        vision_config=dict(
            hidden_size=HIDDEN, intermediate_size=HIDDEN * 2, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
            image_size=IMAGE_SIZE, patch_size=PATCH,
        ),
        projection_dim=HIDDEN,
    )
    torch.manual_seed(0)  # the same twin on every machine
    BlipForConditionalGeneration(config).save_pretrained(folder)
    image_processor = BlipImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    BlipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
