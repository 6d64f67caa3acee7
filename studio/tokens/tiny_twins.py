"""Tiny twins of the visualiser's tokenizers and of aMUSEd's VQ-GAN.

The tokenizers are the real transformers classes (BertTokenizer, CLIPTokenizer) whose own
normalizer / pre-tokenizer / model pipeline is trained at build time on the project's small
bilingual corpus, the same corpus the text twins' byte-level BPE is trained on. The VQ twin
is a diffusers ``VQModel`` with aMUSEd's layout (codebook lookup on decode) at a small size.
"""

from __future__ import annotations

from pathlib import Path

from studio.text.tiny_twins import CORPUS

VOCAB_SIZE = 1024
BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CLIP_BOS, CLIP_EOS = "<|startoftext|>", "<|endoftext|>"
CLIP_MAX_LENGTH = 77
# aMUSEd's VQ-GAN downsamples 16x with an 8192-entry codebook; the twin downsamples 4x
# (two downsampling steps) with 256 entries, so it stays a few hundred kB.
VQ_CHANNELS = (32, 64, 64)
VQ_CODEBOOK = 256
VQ_LATENT_CHANNELS = 16


def _train_backend(tokenizer, trainer) -> dict:
    """Train the tokenizer's own pipeline on the corpus; returns the trained tokenizer.json."""
    import json

    backend = tokenizer.backend_tokenizer
    backend.train([str(CORPUS)], trainer)
    return json.loads(backend.to_str())


def build_bert_wordpiece(folder: Path) -> None:
    """A BERT WordPiece tokenizer (like bert-base-chinese: one token per Chinese character)."""
    from tokenizers import trainers
    from transformers.models.bert.tokenization_bert import BertTokenizer

    trainer = trainers.WordPieceTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=list(BERT_SPECIALS), show_progress=False
    )
    trained = _train_backend(BertTokenizer(vocab={t: i for i, t in enumerate(BERT_SPECIALS)}), trainer)
    BertTokenizer(vocab=trained["model"]["vocab"], model_max_length=512).save_pretrained(folder)


def build_clip(folder: Path) -> None:
    """A CLIP BPE tokenizer (lower-cased, words end in ``</w>``, 77-token prompts)."""
    from tokenizers import pre_tokenizers, trainers
    from transformers.models.clip.tokenization_clip import CLIPTokenizer

    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[CLIP_BOS, CLIP_EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    trained = _train_backend(CLIPTokenizer(), trainer)["model"]
    merges = [tuple(pair) if isinstance(pair, list) else tuple(pair.split(" ")) for pair in trained["merges"]]
    tokenizer = CLIPTokenizer(vocab=trained["vocab"], merges=merges, model_max_length=CLIP_MAX_LENGTH)
    tokenizer.save_pretrained(folder)


def build_vq(folder: Path) -> None:
    """A random-weight ``VQModel`` with aMUSEd's VQ-GAN layout, saved as safetensors."""
    import torch
    from diffusers.models.autoencoders.vq_model import VQModel

    torch.manual_seed(0)  # the same twin on every machine
    steps = len(VQ_CHANNELS)
    model = VQModel(
        down_block_types=("DownEncoderBlock2D",) * steps,
        up_block_types=("UpDecoderBlock2D",) * steps,
        block_out_channels=VQ_CHANNELS,
        layers_per_block=1,
        latent_channels=VQ_LATENT_CHANNELS,
        num_vq_embeddings=VQ_CODEBOOK,
        norm_num_groups=8,
        sample_size=64,
        mid_block_add_attention=False,
        lookup_from_codebook=True,
        force_upcast=True,
    )
    model.save_pretrained(folder)
