"""Tiny random checkpoints written by transformers, and what transformers
computes with them: the references of test_reference (tests/unit/test_reference.cpp).

For every case, OUT/<case>/ holds the model as `save_pretrained` writes it
(safetensors; one case sharded) and reference.safetensors with
  input_ids       [B, T] int64   a left-padded batch of prompts (pad id 0)
  attention_mask  [B, T] int64   1 = token, 0 = padding
  hidden          [B, T, d] f32  the last hidden state (after the final norm)
  logits          [B, T, V] f32
  greedy          [B, 32] int64  greedy continuation with the KV cache
  greedy_nocache  [B, 32] int64  the same, recomputing the sequence every step
  margin          [] f32         the smallest top-1 minus top-2 logit along the greedy paths
cases.json lists the cases with their dtype.

Usage: python make_models.py OUT
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

NEW_TOKENS = 32
SMALL = dict(vocab_size=384, hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=4,
             max_position_embeddings=512, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2)


def cases():
    llama3_rope = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 16, "rope_theta": 500000.0}
    yield "llama3-tied", LlamaForCausalLM, LlamaConfig(**SMALL, num_key_value_heads=2, tie_word_embeddings=True,
                                                        rope_parameters=llama3_rope), torch.float32, None
    yield "llama3-untied-sharded", LlamaForCausalLM, LlamaConfig(**SMALL, num_key_value_heads=2,
                                                                  tie_word_embeddings=False,
                                                                  rope_parameters=llama3_rope), torch.float32, "100KB"
    yield "mistral", MistralForCausalLM, MistralConfig(**SMALL, num_key_value_heads=1, sliding_window=None,
                                                       tie_word_embeddings=False), torch.float32, None
    yield "qwen2", Qwen2ForCausalLM, Qwen2Config(**SMALL, num_key_value_heads=2, tie_word_embeddings=True,
                                                 use_sliding_window=False), torch.float32, None
    # head_dim 32 != hidden / heads (16), as in Qwen3-0.6B (128 != 64)
    yield "qwen3", Qwen3ForCausalLM, Qwen3Config(**SMALL, num_key_value_heads=2, head_dim=32, tie_word_embeddings=False,
                                                 use_sliding_window=False), torch.float32, None
    yield "llama3-bf16", LlamaForCausalLM, LlamaConfig(**SMALL, num_key_value_heads=2, tie_word_embeddings=False,
                                                        rope_parameters=llama3_rope), torch.bfloat16, None


def randomize(model, seed):
    """Every weight random (biases too: transformers initialises them to 0,
    and norms to 1), large enough that greedy decoding has clear margins."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name or "lm_head" in name:  # spread logits: clear greedy choices
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.08 * torch.randn(p.shape, generator=g))


def prompts():
    """Three prompts of different lengths, left-padded with 0."""
    rows = [[1, 17, 250, 33, 90, 4, 77, 301, 12, 5, 64], [1, 200, 3, 45], [1, 99, 100, 101, 7, 8, 9]]
    T = max(len(r) for r in rows)
    ids = torch.tensor([[0] * (T - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (T - len(r)) + [1] * len(r) for r in rows])
    return ids, mask


def greedy(model, ids, mask, use_cache):
    out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW_TOKENS, do_sample=False,
                         use_cache=use_cache, eos_token_id=None, pad_token_id=0, output_scores=True,
                         return_dict_in_generate=True)
    top2 = torch.stack(out.scores, 1).float().topk(2, dim=-1).values  # [B, new, 2]
    return out.sequences[:, ids.shape[1]:], (top2[..., 0] - top2[..., 1]).min()


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    listing = []
    for i, (name, cls, config, dtype, shard) in enumerate(cases()):
        torch.manual_seed(i)
        model = cls(config).eval()
        randomize(model, 1000 + i)
        model = model.to(dtype)
        folder = os.path.join(out_dir, name)
        model.save_pretrained(folder, max_shard_size=shard) if shard else model.save_pretrained(folder)
        ids, mask = prompts()
        with torch.no_grad():
            hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
            logits = model(input_ids=ids, attention_mask=mask).logits
            cached, margin = greedy(model, ids, mask, True)
            uncached, _ = greedy(model, ids, mask, False)
        save_file({"input_ids": ids, "attention_mask": mask, "hidden": hidden.float().contiguous(),
                   "logits": logits.float().contiguous(), "greedy": cached.contiguous(),
                   "greedy_nocache": uncached.contiguous(), "margin": margin.reshape(())},
                  os.path.join(folder, "reference.safetensors"))
        listing.append({"name": name, "dtype": str(dtype).replace("torch.", ""), "sharded": bool(shard),
                        "margin": float(margin)})
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump({"transformers": __import__("transformers").__version__, "torch": torch.__version__,
                   "cases": listing}, f, indent=1)


if __name__ == "__main__":
    main()
