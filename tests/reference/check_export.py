"""`imsm export` against the real transformers: every PEFT adapter made by peft
(make_adapters.py) merged into its base by the engine, the folder loaded with
LlamaForCausalLM.from_pretrained as any other checkpoint (no missing or
unexpected weights), its logits equal to PeftModel's (reference.safetensors).

fp32: max |difference| within tolerance.WHOLE_MODEL ulps of fp32 at the largest
|logit| (the bound of every whole-model fp32 comparison with peft; the merge
adds one rounding of W + dW, and the CPU's kernels round their own way: 1e-4
absolute failed for rsLoRA on an AMX Xeon at logits ~12). bf16 (LoRA): the folder says
bfloat16 and holds bf16 tensors; its logits within 3% of the largest |logit|
(bf16 keeps 8 significant bits, 0.4% per weight, over two layers).

Usage: python check_export.py IMSM_BINARY ADAPTERS_DIR SCRATCH_DIR
Prints one line per export; exits 1 naming what differs.
"""
import json
import os
import shutil
import subprocess
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

from tolerance import WHOLE_MODEL, fp32_ulps

BF16_RELATIVE = 0.03
METHODS = ["lora", "rslora", "dora", "ia3", "adalora"]


def export(imsm, adapter, base, out, dtype):
    shutil.rmtree(out, ignore_errors=True)
    run = subprocess.run([imsm, "export", "--adapter", adapter, "--model", base, "--out", out, "--dtype", dtype, "--json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"imsm export --adapter {adapter} failed ({run.returncode}): {run.stderr.strip()}")
    return json.loads(run.stdout)


def logits_of(folder, ref):
    model, info = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        sys.exit(f"{folder}: transformers loaded it with {bad}")
    with torch.no_grad():
        return model.eval()(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"]).logits


def masked_max(a, b, mask):
    return ((a - b).abs() * mask.bool().unsqueeze(-1)).max().item()


def main():
    imsm, root, scratch = sys.argv[1:4]
    base = os.path.join(root, "base")
    failed = []
    for method in METHODS:
        ref = load_file(os.path.join(root, method, "reference.safetensors"))
        out = os.path.join(scratch, method)
        result = export(imsm, os.path.join(root, method), base, out, "f32")
        diff = masked_max(logits_of(out, ref), ref["logits"], ref["attention_mask"])
        bound = fp32_ulps(WHOLE_MODEL, ref["logits"].abs().max().item())
        print(f"{method}: merged {result['merged']} as {result['method']}, max |transformers(merged) - PeftModel| = {diff:.2e}"
              f" (bound {bound:.2e})")
        if not result["merged"] or diff > bound:
            failed.append(method)

    ref = load_file(os.path.join(root, "lora", "reference.safetensors"))
    out = os.path.join(scratch, "lora-bf16")
    export(imsm, os.path.join(root, "lora"), base, out, "bf16")
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    declared = config.get("torch_dtype", config.get("dtype"))
    with safe_open(os.path.join(out, "model.safetensors"), "pt") as f:
        dtypes = {f.get_tensor(k).dtype for k in f.keys()}
    scale = ref["logits"].abs().max().item()
    diff = masked_max(logits_of(out, ref), ref["logits"], ref["attention_mask"])
    print(f"lora bf16: config says {declared}, tensors {sorted(map(str, dtypes))}, max |difference| = {diff:.3f} "
          f"({diff / scale:.2%} of the largest |logit|)")
    if declared != "bfloat16" or dtypes != {torch.bfloat16} or diff > BF16_RELATIVE * scale:
        failed.append("lora bf16")
    if failed:
        sys.exit(f"the exported model disagrees with PeftModel for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
