"""Tiny random-weight models built in the tests (no hub access): a BERT with a 64-word
vocabulary, wrapped as a SPLADE SparseEncoder, an INSTRUCTOR or a text2vec model."""

from __future__ import annotations

import warnings
from pathlib import Path

WORDS = "the a cat dog sat on mat runs fast slow blue red green house tree car query passage represent".split()
VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ":"]
    + WORDS
    + [f"##{c}" for c in "sdeginrty"]
    + list("abcdefghijklmnopqrstuvwxyz")
)


def bert(path: Path, masked_lm: bool = False, seed: int = 0) -> Path:
    """A 1-layer BERT (hidden size 16) and its WordPiece tokenizer, saved in ``path``."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    (BertForMaskedLM if masked_lm else BertModel)(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def splade(path: Path) -> Path:
    """A SPLADE SparseEncoder: an MLM head and sum pooling."""
    from sentence_transformers import SparseEncoder
    from sentence_transformers.sparse_encoder.modules import MLMTransformer, SpladePooling

    mlm = MLMTransformer(str(bert(path / "bert", masked_lm=True)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooling = SpladePooling(pooling_strategy="sum", embedding_dimension=mlm.get_sentence_embedding_dimension())
    model = SparseEncoder(modules=[mlm, pooling], device="cpu")
    model.save(str(path / "splade"))
    return path / "splade"
