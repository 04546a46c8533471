"""Seeds of fuzz_gguf: small GGUF files written by the `gguf` package (the
writer llama.cpp's convert_hf_to_gguf.py uses): a tiny llama in f16 and in
q8_0 with a byte-level BPE vocabulary, a qwen2 with biases, a qwen3 with
per-head q/k norms, a llama with Llama 3's rope_freqs divisors, and a
SentencePiece vocabulary alone.

Usage: python make_gguf_seeds.py OUT_DIR     (run once; the files are committed)
"""
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter
from gguf.quants import quantize

H, FF, HEADS, KV, V = 32, 32, 2, 1, 8


def tokens(w, model):
    if model == "gpt2":
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("smollm")
        w.add_token_list(["<|endoftext|>", "a", "b", "ab", "\u0120", "\u0120a", "1", "2"])
        w.add_token_types([3, 1, 1, 1, 1, 1, 1, 1])
        w.add_token_merges(["a b", "\u0120 a"])
    else:
        w.add_tokenizer_model("llama")
        w.add_token_list(["<unk>", "<s>", "</s>", "\u2581", "a", "b", "\u2581a", "ab"])
        w.add_token_scores([0, 0, 0, -1, -2, -2, -3, -4])
        w.add_token_types([2, 3, 3, 1, 1, 1, 1, 1])
        w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template("{{ messages[0]['content'] }}")


def model(path, arch, qtype, bias=False, rope_freqs=None):
    w = GGUFWriter(path, arch)
    w.add_name("seed")
    w.add_context_length(64)
    w.add_embedding_length(H)
    w.add_block_count(1)
    w.add_feed_forward_length(FF)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    tokens(w, "gpt2")
    rng = np.random.default_rng(1)
    d = H // HEADS
    shapes = {"token_embd.weight": (V, H), "blk.0.attn_norm.weight": (H,), "blk.0.attn_q.weight": (HEADS * d, H),
              "blk.0.attn_k.weight": (KV * d, H), "blk.0.attn_v.weight": (KV * d, H), "blk.0.attn_output.weight": (H, HEADS * d),
              "blk.0.ffn_norm.weight": (H,), "blk.0.ffn_gate.weight": (FF, H), "blk.0.ffn_up.weight": (FF, H),
              "blk.0.ffn_down.weight": (H, FF), "output_norm.weight": (H,)}
    if arch == "qwen3":
        shapes.update({"blk.0.attn_q_norm.weight": (d,), "blk.0.attn_k_norm.weight": (d,)})
    if bias:
        shapes.update({"blk.0.attn_q.bias": (HEADS * d,), "blk.0.attn_k.bias": (KV * d,), "blk.0.attn_v.bias": (KV * d,)})
    for name, shape in shapes.items():
        x = rng.standard_normal(shape).astype(np.float32)
        if len(shape) == 1 or qtype == GGMLQuantizationType.F32:
            w.add_tensor(name, x)
        elif qtype == GGMLQuantizationType.F16:
            w.add_tensor(name, x.astype(np.float16))
        else:
            w.add_tensor(name, quantize(x, qtype), raw_shape=quantize(x, qtype).shape, raw_dtype=qtype)
    if rope_freqs is not None:
        w.add_tensor("rope_freqs.weight", np.array(rope_freqs, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def vocabulary_only(path):
    w = GGUFWriter(path, "llama")
    tokens(w, "llama")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    model(os.path.join(out, "llama-f16.gguf"), "llama", GGMLQuantizationType.F16)
    model(os.path.join(out, "llama-q8_0.gguf"), "llama", GGMLQuantizationType.Q8_0)
    model(os.path.join(out, "qwen2-f32.gguf"), "qwen2", GGMLQuantizationType.F32, bias=True)
    model(os.path.join(out, "qwen3-f32.gguf"), "qwen3", GGMLQuantizationType.F32)
    # head_dim 16, theta 10000, Llama 3 scaling factor 8, original length 1024 (test_gguf works it out by hand)
    model(os.path.join(out, "llama3-rope-freqs.gguf"), "llama", GGMLQuantizationType.F16,
          rope_freqs=[1, 1, 1, 1, 3.2396418, 8, 8, 8])
    vocabulary_only(os.path.join(out, "spm-vocabulary.gguf"))


if __name__ == "__main__":
    main()
