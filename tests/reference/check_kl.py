"""`imsm diagnose kl` against transformers + PEFT: KL(base || tuned) at each
answer token of a task's rows, on a LoRA that imsm trains here on the bundled
model (16 rows, lr 2e-2: far enough from the base for a KL well above 0).

The expectation, computed here: the rows' ids and labels as `imsm tokenize
--examples` encodes them (the training format), the base's logits (PEFT's
disable_adapter) and the tuned model's on every row, KL summed over the
vocabulary at each position t whose next label is scored, then the mean over
all such tokens and the standard error of the rows' own means. fp32 on both
sides, sums in other orders: the means agree to 1e-5 relative plus 1e-7.
Also run: an IMSM(LoRA) adapter (no reference computes its mix): a finite,
positive KL.

Usage: python check_kl.py IMSM BUNDLED_MODEL SCRATCH
"""
import json
import math
import os
import subprocess
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM


def run(args):
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed: {out.stderr.strip()}")
    return out.stdout


def train(imsm, model, scratch, name, extra):
    data = os.path.join(scratch, "rows.jsonl")
    with open(data, "w") as f:
        for i in range(16):
            f.write(json.dumps({"input": f"Repeat: cat {i}", "output": f"cat {i}"}) + "\n")
    config = {"model_path": model, "data_path": data, "max_input_length": 32, "max_output_length": 16, "peft": "lora",
              "lora_r": 4, "lora_alpha": 8, "num_epochs": 2, "batch_size": 8, "learning_rate": 2e-2,
              "output_dir": os.path.join(scratch, name), **extra}
    path = os.path.join(scratch, name + ".json")
    with open(path, "w") as f:
        json.dump(config, f)
    run([imsm, "train", "--config", path])
    return os.path.join(scratch, name, "adapter"), data


def reference(imsm, model, adapter, data):
    rows = [json.loads(line) for line in run([imsm, "tokenize", "--tokenizer", model, "--examples", data]).splitlines()]
    peft_model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32), adapter).eval()
    total, tokens, means = 0.0, 0, []
    with torch.no_grad():
        for row in rows:
            ids = torch.tensor([row["ids"]])
            tuned = torch.log_softmax(peft_model(input_ids=ids).logits[0].double(), -1)  # [T, V]
            with peft_model.disable_adapter():
                base = torch.log_softmax(peft_model(input_ids=ids).logits[0].double(), -1)
            scored = [t for t in range(len(row["ids"]) - 1) if row["labels"][t + 1] != -100]
            kl = [(base[t].exp() * (base[t] - tuned[t])).sum().item() for t in scored]
            if kl:
                total += sum(kl)
                tokens += len(kl)
                means.append(sum(kl) / len(kl))
    m = sum(means) / len(means)
    se = math.sqrt(sum((v - m) ** 2 for v in means) / (len(means) - 1) / len(means))
    return total / tokens, se, tokens, len(means)


def engine(imsm, model, adapter, data):
    return json.loads(run([imsm, "diagnose", "kl", "--adapter", adapter, "--model", model, "--data", data, "--json"]))


def main():
    imsm, model, scratch = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    lora, data = train(imsm, model, scratch, "lora", {"variant": "none"})
    want_mean, want_se, want_tokens, want_examples = reference(imsm, model, lora, data)
    got = engine(imsm, model, lora, data)
    failures = []
    if got["tokens"] != want_tokens or got["examples"] != want_examples:
        failures.append(f"tokens/rows: imsm {got['tokens']}/{got['examples']}, reference {want_tokens}/{want_examples}")
    for key, want in (("mean", want_mean), ("std_error", want_se)):
        if abs(got[key] - want) > 1e-5 * abs(want) + 1e-7:
            failures.append(f"{key}: imsm {got[key]:.8f}, reference {want:.8f}")
    if want_mean < 0.01:
        failures.append(f"the LoRA's KL {want_mean:.5f} is too small to tell anything")
    imsm_adapter, _ = train(imsm, model, scratch, "imsm", {"mode": 5})
    mixed = engine(imsm, model, imsm_adapter, data)
    if not (math.isfinite(mixed["mean"]) and mixed["mean"] > 0):
        failures.append(f"IMSM(LoRA): KL {mixed['mean']} is not a positive number")
    if failures:
        print("\n".join(failures))
        return 1
    print(f"KL(base || LoRA) {got['mean']:.6f} ± {got['std_error']:.6f} over {got['tokens']} tokens of {got['examples']} rows, "
          f"equal to transformers + PEFT's {want_mean:.6f} ± {want_se:.6f}; IMSM(LoRA)'s mix {mixed['mean']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
