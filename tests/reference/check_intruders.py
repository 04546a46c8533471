"""`imsm diagnose intruders` against PEFT's own intruder-dimension test
(peft.tuners.lora.intruders.reduce_intruder_dimension, which logs per LoRA
layer "NAME: Intruders: N" or "NAME: No intruders"), on the LoRA adapters
PEFT wrote for the reference tests (tests/reference/make_adapters.py: plain
LoRA on q/v, LoRA on every projection of the top layer, rsLoRA on all).
Each module's count must be equal; the least similarity among the top k,
computed here with torch from PEFT's merged weight, within 1e-5 (both sides
decompose the same fp32 matrix with the same LAPACK; the merge's sums differ
in order). Two settings: PEFT's defaults (k 10, ε 0.5) and k 4, ε 0.3.
DoRA is left out: PEFT's get_delta_weight there is B A alone, without the
magnitude rescaling its merge applies, so the two would examine different
matrices.

Usage: python check_intruders.py IMSM REFERENCE_ADAPTERS_DIR
"""
import json
import os
import subprocess
import sys

import torch
from peft import PeftModel
from peft.tuners.lora import LoraLayer
from peft.tuners.lora.intruders import reduce_intruder_dimension
from transformers import AutoModelForCausalLM

ADAPTERS = ["lora", "lora-top", "rslora"]
SETTINGS = [(10, 0.5), (4, 0.3)]


def peft_counts(base, adapter, top_k, eps):
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), adapter).eval()
    least = {}
    for name, layer in model.named_modules():
        if isinstance(layer, LoraLayer):
            W = layer.get_base_layer().weight.data
            merged = W + layer.get_delta_weight("default")
            U0 = torch.linalg.svd(W, full_matrices=False)[0]
            U1 = torch.linalg.svd(merged, full_matrices=False)[0]
            least[name.removeprefix("base_model.model.")] = float((U1.T @ U0).abs().max(dim=1).values[:top_k].min())
    lines = []
    reduce_intruder_dimension(model, top_k=top_k, threshold_epsilon=eps, logging_sink=lines.append)
    counts = {}
    for line in lines:
        name, _, rest = line.partition(": ")
        if name.startswith("base_model.model."):
            counts[name.removeprefix("base_model.model.")] = 0 if rest == "No intruders" else int(rest.split(": ")[1])
    return counts, least


def imsm_counts(imsm, base, adapter, top_k, eps):
    out = subprocess.run([imsm, "diagnose", "intruders", "--adapter", adapter, "--model", base, "--top-k", str(top_k),
                          "--threshold", str(eps), "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"imsm diagnose intruders failed on {adapter}: {out.stderr.strip()}")
    report = json.loads(out.stdout)
    return {m["module"]: m["intruders"] for m in report["modules"]}, {m["module"]: m["least_similarity"] for m in report["modules"]}


def main():
    imsm, root = sys.argv[1], sys.argv[2]
    base = os.path.join(root, "base")
    failures, seen = [], set()
    for name in ADAPTERS:
        for top_k, eps in SETTINGS:
            want, want_least = peft_counts(base, os.path.join(root, name), top_k, eps)
            got, got_least = imsm_counts(imsm, base, os.path.join(root, name), top_k, eps)
            if set(want) != set(got):
                failures.append(f"{name}: modules differ: PEFT {sorted(want)} imsm {sorted(got)}")
                continue
            for module in want:
                seen.add(want[module])
                if want[module] != got[module]:
                    failures.append(f"{name} k={top_k} eps={eps} {module}: PEFT {want[module]} intruders, imsm {got[module]}")
                if abs(want_least[module] - got_least[module]) > 1e-5:
                    failures.append(f"{name} {module}: least similarity {want_least[module]:.6f} here, {got_least[module]:.6f} imsm")
            print(f"{name}, k {top_k}, eps {eps}: {sum(want.values())} intruders in {len(want)} matrices, equal" if not failures else "")
    if len(seen) < 2:
        failures.append(f"every module had the same count ({seen}): the comparison tells nothing")
    if failures:
        print("\n".join(failures))
        return 1
    print(f"intruders equal PEFT's on {len(ADAPTERS)} adapters x {len(SETTINGS)} settings (counts seen: {sorted(seen)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
