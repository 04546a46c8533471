"""PEFT adapters made by the real `peft` on a tiny random Llama, and the logits
PeftModel computes with them: the references of test_reference's PeftReference.

OUT/base/ is the base model (transformers' save_pretrained, fp32). For every
method, OUT/<method>/ holds what PeftModel.save_pretrained writes
(adapter_config.json, adapter_model.safetensors) and reference.safetensors with
  input_ids [B, T] int64, attention_mask [B, T] int64 (left-padded), logits [B, T, V] f32.
Every adapter weight is random (PEFT initialises LoRA's B, (IA)³'s vectors and
AdaLoRA's E so that a fresh adapter changes nothing, which would test nothing).

Usage: python make_adapters.py OUT
"""
import os
import sys

import torch
from peft import AdaLoraConfig, IA3Config, LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

from make_models import prompts

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def methods():
    yield "lora", LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    yield "lora-top", LoraConfig(r=8, lora_alpha=16, target_modules=ALL, layers_to_transform=[1], lora_dropout=0.0)
    yield "rslora", LoraConfig(r=8, lora_alpha=16, use_rslora=True, target_modules=ALL, lora_dropout=0.0)
    yield "dora", LoraConfig(r=4, lora_alpha=8, use_dora=True, target_modules=["q_proj", "v_proj", "up_proj", "down_proj"],
                             lora_dropout=0.0)
    yield "ia3", IA3Config(target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"])
    yield "adalora", AdaLoraConfig(init_r=6, target_r=4, total_step=10, target_modules=["q_proj", "v_proj"],
                                   lora_alpha=12, lora_dropout=0.0)


def base_model():
    config = LlamaConfig(vocab_size=384, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    torch.manual_seed(7)
    model = LlamaForCausalLM(config).eval()
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if ("embed" in name or "lm_head" in name) else 0.08
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g) if "norm" in name else
                    scale * torch.randn(p.shape, generator=g))
    return model


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    base_dir = os.path.join(out, "base")
    base_model().save_pretrained(base_dir)
    ids, mask = prompts()
    for i, (name, config) in enumerate(methods()):
        model = get_peft_model(base_model(), config).eval()
        g = torch.Generator().manual_seed(100 + i)
        with torch.no_grad():
            for _, p in model.named_parameters():
                if p.requires_grad:  # the adapter's own weights: away from their no-op start
                    p.add_(0.2 * torch.randn(p.shape, generator=g))
        folder = os.path.join(out, name)
        model.save_pretrained(folder)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits
        save_file({"input_ids": ids, "attention_mask": mask, "logits": logits.float().contiguous()},
                  os.path.join(folder, "reference.safetensors"))


if __name__ == "__main__":
    main()
