"""Adapters trained and saved by the engine (test_reference's EngineAdapters)
loaded with peft's PeftModel.from_pretrained: its logits must equal the
engine's (engine_logits.safetensors beside each adapter), max |difference| within
tolerance.WHOLE_MODEL ulps of fp32 at the largest |logit| (two implementations
of a whole forward pass: rounding relative to the logits' size, on any CPU).
The adapter's effect must be 10x that bound, or equality would test nothing.

Usage: python check_engine_adapters.py DIR    (DIR/base, DIR/engine-<method>/)
Prints one line per adapter; exits 1 naming the first adapter that differs.
"""
import glob
import os
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

from tolerance import WHOLE_MODEL, fp32_ulps


def main():
    root = sys.argv[1]
    folders = sorted(glob.glob(os.path.join(root, "engine-*")))
    if len(folders) < 6:
        sys.exit(f"{root}: {len(folders)} engine adapters, expected 6 (lora, lora-top, rslora, dora, ia3, adalora): did test_reference run?")
    failed = []
    for folder in folders:
        base = LlamaForCausalLM.from_pretrained(os.path.join(root, "base"), dtype=torch.float32).eval()
        model = PeftModel.from_pretrained(base, folder).eval()
        ours = load_file(os.path.join(folder, "engine_logits.safetensors"))
        with torch.no_grad():
            logits = model(input_ids=ours["input_ids"], attention_mask=ours["attention_mask"]).logits
        keep = ours["attention_mask"].bool().unsqueeze(-1)
        diff = ((logits - ours["logits"]).abs() * keep).max().item()
        with model.disable_adapter(), torch.no_grad():
            effect = ((model(input_ids=ours["input_ids"], attention_mask=ours["attention_mask"]).logits - ours["logits"]).abs() * keep).max().item()
        bound = fp32_ulps(WHOLE_MODEL, logits.abs().max().item())
        name = os.path.basename(folder)
        print(f"{name}: max |PeftModel - engine| = {diff:.2e}, bound {bound:.2e} (adapter's effect on the logits: {effect:.3f})")
        if diff > bound or effect < 10 * bound:
            failed.append(name)
    if failed:
        sys.exit(f"PeftModel disagrees with the engine (or the adapter does nothing) for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
