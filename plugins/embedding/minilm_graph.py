"""Builds an ONNX graph of all-MiniLM-L6-v2 (a 6-layer BERT) from its safetensors weights.

The graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids``
(int64, ``[batch, seq]``) and returns ``last_hidden_state`` (``[batch, seq, 384]``)
and ``sentence_embedding`` (``[batch, 384]``: mean over the attention mask, then
L2-normalised, as sentence-transformers does). The built model is cached as a
``.onnx`` file keyed by the SHA-256 of the weights, so it is built once per
machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

# Bump when the graph layout changes so stale cached files are not reused.
GRAPH_VERSION = 1
OPSET = 17  # LayerNormalization needs >= 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
HIDDEN_OUTPUT = "last_hidden_state"
POOLED_OUTPUT = "sentence_embedding"
_MASK_BIAS = -1e9  # added to attention scores of padding tokens; exp() of it is 0 in float32


@dataclass(frozen=True)
class BertConfig:
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"

    @classmethod
    def from_file(cls, path: Path | None) -> BertConfig:
        if path is None:
            return cls()
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        cfg = cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})
        if cfg.hidden_act != "gelu":
            raise ValueError(f"Unsupported hidden_act {cfg.hidden_act!r} in {path}; only 'gelu' (erf) is built.")
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ValueError(f"hidden_size must be divisible by num_attention_heads in {path}")
        return cfg


class _GraphBuilder:
    """Accumulates nodes and initializers; each op helper returns its output name."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name=name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, output: str | None = None, **attrs) -> str:
        out = output or self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=self.fresh("n_" + op_type), **attrs))
        return out

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        # torch Linear stores [out, in]; MatMul wants [in, out].
        w = self.const(name + ".weight_t", weight.T.astype(np.float32))
        b = self.const(name + ".bias", bias.astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w], hint=name), b], hint=name)

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], name: str, eps: float) -> str:
        scale = self.const(name + ".weight", weights[name + ".weight"])
        bias = self.const(name + ".bias", weights[name + ".bias"])
        return self.op("LayerNormalization", [x, scale, bias], hint=name, axis=-1, epsilon=eps)


def build_model(weights: dict[str, np.ndarray], cfg: BertConfig = BertConfig()) -> onnx.ModelProto:
    """Returns the ONNX model for a BERT encoder given its HF-named weights."""
    g = _GraphBuilder()
    w = {k.removeprefix("bert."): v for k, v in weights.items()}  # some exports prefix "bert."
    heads, hidden = cfg.num_attention_heads, cfg.hidden_size
    head_dim = hidden // heads

    # Scalars and shapes used throughout.
    one_f = g.const("one_f", np.array(1.0, np.float32))
    half_f = g.const("half_f", np.array(0.5, np.float32))
    sqrt2_f = g.const("sqrt2_f", np.array(np.sqrt(2.0), np.float32))
    mask_bias = g.const("mask_bias", np.array(_MASK_BIAS, np.float32))
    score_scale = g.const("score_scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    heads_shape = g.const("heads_shape", np.array([0, 0, heads, head_dim], np.int64))
    merged_shape = g.const("merged_shape", np.array([0, 0, hidden], np.int64))
    axis1 = g.const("axis1", np.array([1], np.int64))
    axis2 = g.const("axis2", np.array([2], np.int64))
    axes_12 = g.const("axes_12", np.array([1, 2], np.int64))
    axis_last = g.const("axis_last", np.array([-1], np.int64))

    # Embeddings: word + position + token type, then LayerNorm.
    word = g.op("Gather", [g.const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"], axis=0)
    # Position embeddings: the first seq_len rows of the table (a Slice, so no Range/scalar shape math).
    seq_len = g.op("Shape", ["input_ids"], hint="seq_len", start=1, end=2)  # [1]
    pos_table = g.const("position_embeddings", w["embeddings.position_embeddings.weight"])
    zero_1d = g.const("zero_1d", np.array([0], np.int64))
    pos = g.op("Slice", [pos_table, zero_1d, seq_len, zero_1d])  # rows [0, seq_len) of axis 0
    type_table = g.const("token_type_embeddings", w["embeddings.token_type_embeddings.weight"])
    types = g.op("Gather", [type_table, "token_type_ids"], axis=0)
    x = g.op("Add", [g.op("Add", [word, pos]), types])
    x = g.layer_norm(x, w, "embeddings.LayerNorm", cfg.layer_norm_eps)

    # Attention bias: 0 for real tokens, -1e9 for padding; shape [batch, 1, 1, seq].
    mask_f = g.op("Cast", ["attention_mask"], hint="mask_f", to=TensorProto.FLOAT)
    bias = g.op("Mul", [g.op("Sub", [one_f, mask_f]), mask_bias])
    bias = g.op("Unsqueeze", [bias, axes_12], hint="attn_bias")

    for i in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{i}."
        q = g.linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"], p + "q")
        k = g.linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"], p + "k")
        v = g.linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"], p + "v")
        q = g.op("Transpose", [g.op("Reshape", [q, heads_shape])], perm=[0, 2, 1, 3])  # [b, h, s, d]
        k = g.op("Transpose", [g.op("Reshape", [k, heads_shape])], perm=[0, 2, 3, 1])  # [b, h, d, s]
        v = g.op("Transpose", [g.op("Reshape", [v, heads_shape])], perm=[0, 2, 1, 3])  # [b, h, s, d]
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), score_scale]), bias])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merged_shape])
        attn = g.linear(
            ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"], p + "attn_out"
        )
        x = g.layer_norm(g.op("Add", [attn, x]), w, p + "attention.output.LayerNorm", cfg.layer_norm_eps)

        inter = g.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"], p + "intermediate")
        # Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2))).
        erf = g.op("Erf", [g.op("Div", [inter, sqrt2_f])])
        gelu = g.op("Mul", [g.op("Mul", [inter, half_f]), g.op("Add", [erf, one_f])])
        out = g.linear(gelu, w[p + "output.dense.weight"], w[p + "output.dense.bias"], p + "ffn_out")
        last = HIDDEN_OUTPUT if i == cfg.num_hidden_layers - 1 else None
        ln = g.layer_norm(g.op("Add", [out, x]), w, p + "output.LayerNorm", cfg.layer_norm_eps)
        x = g.op("Identity", [ln], output=last) if last else ln

    # Mean pooling over real tokens, then L2 normalisation (eps as torch's F.normalize).
    mask3 = g.op("Unsqueeze", [mask_f, axis2])  # [b, s, 1]
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), axis1], keepdims=0)  # [b, h]
    counts = g.op("ReduceSum", [mask3, axis1], keepdims=0)  # [b, 1]
    counts = g.op("Max", [counts, g.const("min_count", np.array(1e-9, np.float32))])
    mean = g.op("Div", [summed, counts])
    norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [mean, mean]), axis_last], keepdims=1)])
    norm = g.op("Max", [norm, g.const("min_norm", np.array(1e-12, np.float32))])
    g.op("Div", [mean, norm], output=POOLED_OUTPUT)

    dyn = ["batch", "sequence"]
    graph = helper.make_graph(
        g.nodes,
        "all_minilm_l6_v2",
        inputs=[helper.make_tensor_value_info(n, TensorProto.INT64, dyn) for n in INPUT_NAMES],
        outputs=[
            helper.make_tensor_value_info(HIDDEN_OUTPUT, TensorProto.FLOAT, ["batch", "sequence", hidden]),
            helper.make_tensor_value_info(POOLED_OUTPUT, TensorProto.FLOAT, ["batch", hidden]),
        ],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="huedb")
    model.ir_version = 8  # readable by every onnxruntime >= 1.14
    return model  # onnxruntime validates it on load; onnx.checker would cost another ~0.5 s


def cached_model_path(weights_path: Path, config_path: Path | None, cache_dir: Path) -> Path:
    """The cache file for these weights: named by the weights' SHA-256 (+ a short hash of config.json)."""
    h = hashlib.sha256()
    with open(weights_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    config_bytes = Path(config_path).read_bytes() if config_path is not None else b""
    config_tag = hashlib.sha256(config_bytes).hexdigest()[:8]
    return Path(cache_dir) / f"all-MiniLM-L6-v2-{h.hexdigest()}-c{config_tag}-g{GRAPH_VERSION}.onnx"


def ensure_model_file(weights_path: Path, config_path: Path | None, cache_dir: Path) -> Path:
    """Returns the cached .onnx file, building it first if needed (atomically: temp file + rename)."""
    target = cached_model_path(weights_path, config_path, cache_dir)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    model = build_model(load_file(str(weights_path)), BertConfig.from_file(config_path))
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".build-", suffix=".onnx.part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
        os.replace(tmp, target)  # concurrent builders produce identical bytes; last rename wins
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
