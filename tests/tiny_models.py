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
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True, model_max_length=64)
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


def splade_onnx(path: Path, seed: int = 0) -> tuple[Path, dict]:
    """A SPLADE-shaped ONNX graph in fastembed's layout (model.onnx + the tokenizer files):
    ``logits = E[input_ids] @ W`` ([batch, seq, vocab]). Returns the directory and the weights."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    bert(path, seed=seed)  # tokenizer.json, tokenizer_config.json, config.json
    rng = np.random.default_rng(seed)
    weights = {
        "E": rng.standard_normal((len(VOCAB), 8)).astype(np.float32),
        "W": rng.standard_normal((8, len(VOCAB))).astype(np.float32),
    }
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in INPUTS]
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", len(VOCAB)])
    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["hidden"]),
        helper.make_node("MatMul", ["hidden", "W"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_splade", ints, [out], [numpy_helper.from_array(v, k) for k, v in weights.items()]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path / "model.onnx"))
    return path, weights


INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def sentence_transformer(path: Path) -> Path:
    """A sentence-transformers model: the tiny BERT, mean pooling, then normalisation."""
    from sentence_transformers import SentenceTransformer, models

    transformer = models.Transformer(str(bert(path / "bert")))
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), "mean")
    SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu").save(str(path / "st"))
    return path / "st"


def hub_cache(model_dir: Path, cache: Path, repo_id: str) -> str:
    """Places ``model_dir`` in a Hugging Face hub cache at ``cache`` as ``repo_id``'s main
    revision, so that a process with ``HF_HUB_CACHE=cache HF_HUB_OFFLINE=1`` loads it by id."""
    import shutil

    revision = "0" * 40
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    shutil.copytree(model_dir, repo / "snapshots" / revision, dirs_exist_ok=True)
    return repo_id
