"""A BERT encoder as an ONNX graph, built from a Hugging Face folder's safetensors weights without PyTorch.

The graph takes input_ids, attention_mask and token_type_ids (int64, batch x tokens) and returns
last_hidden_state (float32, batch x tokens x hidden), the same computation as transformers' BertModel in
eval mode: embeddings, then post-LayerNorm blocks of self-attention and a GELU feed-forward layer.
Linear layers are MatMul + Add on constant weights, which onnxruntime's dynamic quantizer turns into int8.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17  # LayerNormalization is a standard operator from 17 on
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class _Graph:
    """Collects nodes and initializers, naming every intermediate value uniquely."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self._count = 0

    def weight(self, name: str, transpose: bool = False) -> str:
        if name not in self.initializers:
            array = self.weights[name].astype(np.float32)
            self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array.T if transpose else array),
                                                              name)
        return name

    def constant(self, name: str, value) -> str:
        self.initializers[name] = numpy_helper.from_array(np.asarray(value), name)
        return name

    def op(self, op_type: str, *inputs: str, **attributes) -> str:
        self._count += 1
        output = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attributes))
        return output

    def linear(self, x: str, prefix: str) -> str:
        # torch's Linear keeps weight as (out, in): stored transposed so that MatMul(x, W) works.
        return self.op("Add", self.op("MatMul", x, self.weight(f"{prefix}.weight", transpose=True)),
                       self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        return self.op("LayerNormalization", x, self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias"),
                       axis=-1, epsilon=eps)


def build_bert_graph(model_dir: Path) -> onnx.ModelProto:
    """The float32 ONNX model of the BERT encoder in `model_dir` (config.json and model.safetensors)."""
    config = json.loads((model_dir / "config.json").read_text())
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
            or config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(f"{model_dir} is not a BERT model with GELU and absolute positions")
    weights = {name.removeprefix("bert."): array for name, array in load_file(model_dir / "model.safetensors").items()}
    hidden, heads, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    head_size = hidden // heads
    g = _Graph(weights)

    # Embeddings: word + position (the first `tokens` rows) + token type, then LayerNorm.
    tokens = g.op("Gather", g.op("Shape", "input_ids"), g.constant("one_index", np.array([1], np.int64)), axis=0)
    positions = g.op("Slice", g.weight("embeddings.position_embeddings.weight"),
                     g.constant("zero_index", np.array([0], np.int64)), tokens, g.constant("axis_0", np.array([0], np.int64)))
    x = g.op("Add", g.op("Add", g.op("Gather", g.weight("embeddings.word_embeddings.weight"), "input_ids"), positions),
             g.op("Gather", g.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"))
    x = g.layer_norm(x, "embeddings.LayerNorm", eps)

    # Padding is masked by adding a large negative number to its attention scores: (batch, 1, 1, tokens).
    keep = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    bias = g.op("Mul", g.op("Sub", g.constant("one", np.array(1.0, np.float32)), keep),
                g.constant("masked", np.array(np.finfo(np.float32).min, np.float32)))
    bias = g.op("Unsqueeze", bias, g.constant("head_and_query_axes", np.array([1, 2], np.int64)))
    split_heads = g.constant("split_heads", np.array([0, 0, heads, head_size], np.int64))
    join_heads = g.constant("join_heads", np.array([0, 0, hidden], np.int64))
    scale = g.constant("scale", np.array(1.0 / math.sqrt(head_size), np.float32))
    half, root2 = g.constant("half", np.array(0.5, np.float32)), g.constant("root2", np.array(math.sqrt(2), np.float32))

    def heads_first(value: str) -> str:  # (batch, tokens, hidden) -> (batch, heads, tokens, head_size)
        return g.op("Transpose", g.op("Reshape", value, split_heads), perm=[0, 2, 1, 3])

    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        query = heads_first(g.linear(x, f"{p}.attention.self.query"))
        key = heads_first(g.linear(x, f"{p}.attention.self.key"))
        value = heads_first(g.linear(x, f"{p}.attention.self.value"))
        # Q K^T with K's last two axes swapped: onnxruntime folds that transpose and the scale into one MatMul.
        key_t = g.op("Transpose", key, perm=[0, 1, 3, 2])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key_t), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), value)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), join_heads)
        x = g.layer_norm(g.op("Add", g.linear(context, f"{p}.attention.output.dense"), x),
                         f"{p}.attention.output.LayerNorm", eps)
        inner = g.linear(x, f"{p}.intermediate.dense")  # exact GELU: 0.5 x (1 + erf(x / sqrt 2))
        inner = g.op("Mul", g.op("Mul", inner, half), g.op("Add", g.op("Erf", g.op("Div", inner, root2)),
                                                            g.constant("one_f", np.array(1.0, np.float32))))
        x = g.layer_norm(g.op("Add", g.linear(inner, f"{p}.output.dense"), x), f"{p}.output.LayerNorm", eps)

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="last_hidden_state"))
    graph = helper.make_graph(
        g.nodes, "bert",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in INPUTS],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        list(g.initializers.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="briefbot")
    model.ir_version = 8  # readable by every onnxruntime the project accepts
    onnx.checker.check_model(model, full_check=True)
    return model
