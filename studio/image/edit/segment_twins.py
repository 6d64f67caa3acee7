"""Tiny twins of Enhance's region finders, saved as their Hub repos are and read back by the
same ``from_pretrained`` path: a Grounding DINO (Swin backbone, BERT text encoder, deformable
encoder / decoder) with a GroundingDinoProcessor, and a SAM (ViT image encoder, prompt encoder,
mask decoder) with a SamProcessor. Random weights: their boxes and masks are noise, so tests pick
what they keep with the thresholds, not with what the twins "see"."""

from __future__ import annotations

import tempfile
from pathlib import Path

SEED = 0
DINO_SIDE = 64, 96  # the processor's shortest / longest edge (the real one: 800 / 1333)
DINO_QUERIES = 20  # the real one: 900
SAM_SIDE, SAM_PATCH = 64, 8  # the real one: 1024, 16


def build_grounding_dino(folder: Path) -> None:
    import torch
    from transformers import (BertConfig, GroundingDinoConfig, GroundingDinoForObjectDetection,
                              GroundingDinoImageProcessor, GroundingDinoProcessor, SwinConfig)
    from transformers.models.bert.tokenization_bert import BertTokenizer

    from studio.tokens.tiny_twins import build_bert_wordpiece

    # The real one reads the phrase with bert-base-uncased; the twin's WordPiece is trained on the
    # project's own corpus (studio.tokens.tiny_twins), as the other BERT twins are.
    with tempfile.TemporaryDirectory() as scratch:
        build_bert_wordpiece(Path(scratch))
        tokenizer = BertTokenizer.from_pretrained(scratch)
    backbone = SwinConfig(embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2], window_size=4, image_size=64,
                          patch_size=4, out_indices=[2, 3, 4])
    text = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=64)
    config = GroundingDinoConfig(
        backbone_config=backbone, text_config=text, num_queries=DINO_QUERIES, d_model=32, max_text_len=32,
        encoder_layers=1, decoder_layers=2,  # two: the box heads of the decoder layers are tied to the first
        encoder_ffn_dim=64, decoder_ffn_dim=64, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_n_points=2, decoder_n_points=2, disable_custom_kernels=True,
    )
    torch.manual_seed(SEED)  # the same twin on every machine
    GroundingDinoForObjectDetection(config).save_pretrained(folder)
    shortest, longest = DINO_SIDE
    image_processor = GroundingDinoImageProcessor(size={"shortest_edge": shortest, "longest_edge": longest})
    GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)


def build_sam(folder: Path) -> None:
    import torch
    from transformers import (SamConfig, SamImageProcessor, SamMaskDecoderConfig, SamModel, SamProcessor,
                              SamPromptEncoderConfig, SamVisionConfig)

    vision = SamVisionConfig(hidden_size=32, output_channels=32, num_hidden_layers=2, num_attention_heads=2,
                             image_size=SAM_SIDE, patch_size=SAM_PATCH, window_size=4, global_attn_indexes=[1],
                             num_pos_feats=16, mlp_dim=64)
    prompt = SamPromptEncoderConfig(hidden_size=32, image_size=SAM_SIDE, patch_size=SAM_PATCH, mask_input_channels=4)
    decoder = SamMaskDecoderConfig(hidden_size=32, mlp_dim=64, num_hidden_layers=2, num_attention_heads=2,
                                   iou_head_hidden_dim=32)
    torch.manual_seed(SEED)
    config = SamConfig(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)
    SamModel(config).save_pretrained(folder)
    mask_side = SAM_SIDE // 4  # SAM's low-resolution masks are a quarter of its input
    image_processor = SamImageProcessor(size={"longest_edge": SAM_SIDE},
                                        pad_size={"height": SAM_SIDE, "width": SAM_SIDE},
                                        mask_size={"longest_edge": mask_side},
                                        mask_pad_size={"height": mask_side, "width": mask_side})
    SamProcessor(image_processor=image_processor).save_pretrained(folder)
