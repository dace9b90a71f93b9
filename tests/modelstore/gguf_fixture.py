"""Write a real GGUF (llama architecture, byte-level BPE vocabulary, F32 tensors) from a small
Hugging Face Llama, the way llama.cpp's convert_hf_to_gguf.py lays it out — so pull, conversion
and loading are tested on a file the product treats exactly like a downloaded one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row order (transformers reverses it when it reads the file)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def write_llama_gguf(model_dir: Path, out: Path) -> Path:
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text())
    tok = json.loads((model_dir / "tokenizer.json").read_text())
    tensors = {
        k: v.astype(np.float32) for k, v in load_file(model_dir / "model.safetensors").items()
    }
    if tensors and next(iter(tensors.values())).dtype != np.float32:
        raise AssertionError("expected float tensors")
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads

    writer = gguf.GGUFWriter(out, "llama")
    writer.add_name("codecomp fixture")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(config.get("rope_parameters", {}).get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    vocab = tok["model"]["vocab"]
    added = {t["content"]: t["id"] for t in tok.get("added_tokens", [])}
    size = max([*vocab.values(), *added.values()]) + 1
    tokens = [""] * size
    types = [gguf.TokenType.NORMAL] * size
    for text, i in vocab.items():
        tokens[i] = text
    for text, i in added.items():
        tokens[i] = text
        types[i] = gguf.TokenType.CONTROL
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"].get("merges", [])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    if isinstance(config.get("bos_token_id"), int):
        writer.add_bos_token_id(config["bos_token_id"])
    if isinstance(config.get("eos_token_id"), int):
        writer.add_eos_token_id(config["eos_token_id"])

    def add(name: str, array: np.ndarray) -> None:
        writer.add_tensor(name, np.ascontiguousarray(array, dtype=np.float32))

    add("token_embd.weight", tensors["model.embed_tokens.weight"])
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        b = f"blk.{layer}."
        add(b + "attn_norm.weight", tensors[p + "input_layernorm.weight"])
        add(b + "attn_q.weight", _permute(tensors[p + "self_attn.q_proj.weight"], heads))
        add(b + "attn_k.weight", _permute(tensors[p + "self_attn.k_proj.weight"], kv_heads))
        add(b + "attn_v.weight", tensors[p + "self_attn.v_proj.weight"])
        add(b + "attn_output.weight", tensors[p + "self_attn.o_proj.weight"])
        add(b + "ffn_norm.weight", tensors[p + "post_attention_layernorm.weight"])
        add(b + "ffn_gate.weight", tensors[p + "mlp.gate_proj.weight"])
        add(b + "ffn_up.weight", tensors[p + "mlp.up_proj.weight"])
        add(b + "ffn_down.weight", tensors[p + "mlp.down_proj.weight"])
    add("output_norm.weight", tensors["model.norm.weight"])
    add("output.weight", tensors.get("lm_head.weight", tensors["model.embed_tokens.weight"]))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out
