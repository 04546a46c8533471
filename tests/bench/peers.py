#!/usr/bin/env python3
"""This engine against the tools a user would otherwise reach for, on one real
model, in one run (issue 34). Not a test: it prints figures and ratios.

  (a) training: `imsm train` (LoRA, IMSM(LoRA) over two epochs, (IA)³) against
      transformers + PEFT (LoRA, (IA)³) on the same rows, batch, rank,
      targets, optimizer (AdamW), clipping, dtype (fp32) and threads, each run
      in its own process: median step time (the first step of a run left out),
      answer and prompt tokens per second, peak RSS.
  (b) evaluation: `imsm eval` (wall time, loading included) against
      transformers' batched greedy generate (left padding, KV cache; the
      generate calls only, loading left out) on the same prompts, in fp32 on
      both sides, then bf16 on both; the fp32 answers compared: equal, or
      different only past a near-tie of the reference's logits (see
      near_tie); the bf16 ones counted alike.
  (c) batch-1 greedy decoding: `imsm generate` (fp32, bf16 and q8_0 weights;
      the median of three runs) against llama.cpp's llama-bench on the same
      model as GGUF (f16, bf16, q8_0), same threads.

  python3 tests/bench/peers.py --imsm build/bin/imsm --model .models/SmolLM2-135M-Instruct \\
      --data ../shared/data/imsm-official [--threads 2] [--parts train,eval,decode] [--gguf-dir DIR --llama-bench PATH]

tests/bench/bench_vs_peers.sh prepares the GGUFs and llama-bench and runs it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
IA3_TARGETS, IA3_FEEDFORWARD = ["k_proj", "v_proj", "down_proj"], ["down_proj"]
TRAIN = dict(rows=200, batch=8, r=16, alpha=32, dropout=0.05, lr=5e-4, max_in=128, max_out=4, clip=1.0)
EVAL = dict(examples=256, batch=32, max_new=16, max_in=256)


# ---------------------------------------------------------------- processes

def env_with_threads(threads):
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[key] = str(threads)
    return env


def run_timed(argv, env, stdin=None):
    """Runs argv; returns (each stdout line with the monotonic time it arrived, wall seconds, peak RSS MiB)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE)
    lines = [(time.monotonic(), line) for line in proc.stdout]
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"peers: {' '.join(argv[:3])} ... failed ({proc.returncode}):\n{err[-3000:]}")
    return lines, wall, usage.ru_maxrss / 1024.0


def self_command(*args):
    return [sys.executable, os.path.abspath(__file__), *args]


def read_rows(path, n):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) == n:
                break
    return rows


def write_rows(rows, path):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def ratio(ours, theirs, higher_is_better=True):
    if not ours or not theirs:
        return "n/a"
    return f"{(ours / theirs if higher_is_better else theirs / ours):.2f}x"


# ---------------------------------------------------------------- (a) training

def encode_rows(tokenizer, rows, max_in, max_out):
    """As the engine's encode_example: the prompt with special tokens, the answer without, truncated, then EOS."""
    out = []
    for r in rows:
        gold = r["output"][0] if isinstance(r["output"], list) else r["output"]
        prompt = tokenizer(r["input"], add_special_tokens=True)["input_ids"][:max_in]
        answer = tokenizer(gold, add_special_tokens=False)["input_ids"][:max_out - 1] + [tokenizer.eos_token_id]
        out.append((prompt + answer, [-100] * len(prompt) + answer))
    return out


def peft_train(a):
    """One PEFT run in this process: a JSON line of its step times and tokens on stdout."""
    import torch
    from peft import IA3Config, LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    if a.method == "lora":
        config = LoraConfig(r=TRAIN["r"], lora_alpha=TRAIN["alpha"], lora_dropout=TRAIN["dropout"], target_modules=TARGETS,
                            task_type="CAUSAL_LM")
    else:
        config = IA3Config(target_modules=IA3_TARGETS, feedforward_modules=IA3_FEEDFORWARD, task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=TRAIN["lr"])
    examples = encode_rows(tokenizer, read_rows(a.data, TRAIN["rows"]), TRAIN["max_in"], TRAIN["max_out"])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    steps, tokens = [], []
    for start in range(0, len(examples), TRAIN["batch"]):
        batch = examples[start:start + TRAIN["batch"]]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([x + [pad] * (width - len(x)) for x, _ in batch])  # right padding, as the engine's batches
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
        t0 = time.perf_counter()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, TRAIN["clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        steps.append(time.perf_counter() - t0)
        tokens.append(int(mask.sum()))
    print(json.dumps({"steps": steps, "tokens": tokens}))


def engine_train(a, method, variant, epochs, data, scratch, dtype="f32"):
    config = {"model_path": a.model, "data_path": data, "output_dir": os.path.join(scratch, f"{method}-{variant}-{dtype}"),
              "peft": method, "variant": variant, "num_epochs": epochs, "batch_size": TRAIN["batch"],
              "learning_rate": TRAIN["lr"], "max_input_length": TRAIN["max_in"], "max_output_length": TRAIN["max_out"],
              "max_grad_norm": TRAIN["clip"], "dtype": dtype, "device": "cpu", "seed": 1,
              "chat_template": False}  # the rows PEFT trains on: the official encoding
    if method == "lora":
        config.update(lora_r=TRAIN["r"], lora_alpha=TRAIN["alpha"], lora_dropout=TRAIN["dropout"], target_modules=TARGETS)
    else:
        config.update(target_modules=IA3_TARGETS, feedforward_modules=IA3_FEEDFORWARD)
    path = os.path.join(scratch, f"{method}-{variant}-{dtype}.json")
    with open(path, "w") as f:
        json.dump(config, f)
    lines, _, rss = run_timed([a.imsm, "--events", "train", "--config", path], env_with_threads(a.threads))
    stamps = {}  # epoch -> [(time, step)]
    for t, line in lines:
        j = json.loads(line) if line.startswith("{") else {}
        if j.get("type") == "step":
            stamps.setdefault(j["epoch"], []).append(t)
    return {epoch: [b - a_ for a_, b in zip(ts, ts[1:])] for epoch, ts in stamps.items()}, rss


def train_part(a, scratch):
    data = os.path.join(scratch, "cola-train.jsonl")
    write_rows(read_rows(os.path.join(a.data, "cola", "data_train.json"), TRAIN["rows"]), data)
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    encoded = encode_rows(tokenizer, read_rows(data, TRAIN["rows"]), TRAIN["max_in"], TRAIN["max_out"])
    tokens_per_step = statistics.mean(len(ids) for ids, _ in encoded) * TRAIN["batch"]
    print(f"(a) training: {TRAIN['rows']} CoLA rows, batch {TRAIN['batch']} (~{tokens_per_step:.0f} tokens a step), "
          f"fp32, {a.threads} threads, AdamW, clip {TRAIN['clip']}; median step over the steps after the first")
    results = {}
    for method in ("lora", "ia3"):
        lines, _, rss = run_timed(self_command("peft-train", "--model", a.model, "--data", data, "--method", method,
                                               "--threads", str(a.threads)), env_with_threads(a.threads))
        steps = json.loads(lines[-1][1])["steps"][1:]
        results[f"peft {method}"] = (statistics.median(steps), rss)
    for method, variant, epochs, dtype in (("lora", "none", 1, "f32"), ("lora", "query", 2, "f32"), ("ia3", "none", 1, "f32"),
                                           ("lora", "none", 1, "bf16")):
        per_epoch, rss = engine_train(a, method, variant, epochs, data, scratch, dtype)
        for epoch, steps in sorted(per_epoch.items()):
            name = f"imsm {method}" + ("" if variant == "none" else f" + IMSM {variant}, epoch {epoch + 1}") + \
                ("" if dtype == "f32" else f" ({dtype} base)")
            results[name] = (statistics.median(steps), rss)
    print(f"  {'run':32} {'step s':>8} {'tokens/s':>9} {'peak RSS':>10}  vs PEFT's (throughput, RSS)")
    for name, (step, rss) in results.items():
        peer = results["peft ia3" if "ia3" in name else "peft lora"]
        versus = "" if name.startswith("peft") else f"  {ratio(1 / step, 1 / peer[0])}, {ratio(rss, peer[1], False)} less"
        print(f"  {name:32} {step:8.3f} {tokens_per_step / step:9.0f} {rss:8.0f} MiB{versus}")
    return results


# ---------------------------------------------------------------- (b) evaluation

def near_tie(scores, row, step, tol_rel):
    """Whether the reference's top two logits at (row, step) are closer than tol_rel x the row's largest |logit|:
    fp32 sums over 30 layers in another order (batching, padding, kernels) move logits by that much."""
    import torch
    logits = scores[step][row]
    top = torch.topk(logits, 2).values
    return float(top[0] - top[1]) <= tol_rel * float(logits.abs().max())


def hf_generate(a):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(a.threads)
    tokenizer = AutoTokenizer.from_pretrained(a.model, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[a.dtype]
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype).eval()
    rows = read_rows(a.data, EVAL["examples"])
    answers, ties, seconds = [], [], 0.0
    for start in range(0, len(rows), EVAL["batch"]):
        prompts = [r["input"] for r in rows[start:start + EVAL["batch"]]]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, truncation=True, max_length=EVAL["max_in"])
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=EVAL["max_new"], do_sample=False, num_beams=1, use_cache=True,
                                 return_dict_in_generate=True, output_scores=True, pad_token_id=tokenizer.pad_token_id)
        seconds += time.perf_counter() - t0
        new = out.sequences[:, enc["input_ids"].shape[1]:]
        for row in range(new.shape[0]):
            answers.append(tokenizer.decode(new[row], skip_special_tokens=True))
            ties.append([s for s in range(len(out.scores)) if near_tie(out.scores, row, s, 2e-4)])
    print(json.dumps({"answers": answers, "near_ties": ties, "seconds": seconds}))


def eval_part(a, scratch):
    results = {}
    for dtype in ("f32", "bf16"):
        print(f"(b) evaluation: {EVAL['examples']} prompts a set, batch {EVAL['batch']}, greedy, {EVAL['max_new']} new tokens, "
              f"{dtype} on both sides")
        for name, task in (("webq", "webq"), ("mrpc", "mrpc")):
            results[f"{name} {dtype}"] = eval_one(a, scratch, name, task, dtype)
    return results


def eval_one(a, scratch, name, task, dtype):
    data = os.path.join(scratch, f"{name}.jsonl")
    write_rows(read_rows(os.path.join(a.data, name, "data_test.json"), EVAL["examples"]), data)
    lines, _, hf_rss = run_timed(self_command("hf-generate", "--model", a.model, "--data", data, "--threads", str(a.threads),
                                              "--dtype", dtype), env_with_threads(a.threads))
    hf = json.loads(lines[-1][1])
    predictions = os.path.join(scratch, f"{name}.{dtype}.predictions.jsonl")
    _, wall, rss = run_timed([a.imsm, "eval", "--model", a.model, "--dataset", data, "--task", task, "--batch-size",
                              str(EVAL["batch"]), "--max-new-tokens", str(EVAL["max_new"]), "--max-input-length",
                              str(EVAL["max_in"]), "--dtype", dtype, "--chat-template", "off",  # generate's bare prompts
                              "--predictions", predictions, "--json"],
                             env_with_threads(a.threads))
    ours = [r["answer"] for r in read_rows(predictions, EVAL["examples"])]
    equal = sum(x == y for x, y in zip(ours, hf["answers"]))
    tied = sum(x != y and bool(t) for x, y, t in zip(ours, hf["answers"], hf["near_ties"]))
    differ = len(ours) - equal - tied
    n = len(ours)
    print(f"  {name}: imsm eval {n / wall:6.1f} examples/s (wall {wall:.1f} s with loading, peak {rss:.0f} MiB); "
          f"transformers generate {n / hf['seconds']:6.1f} examples/s ({hf['seconds']:.1f} s without loading, "
          f"peak {hf_rss:.0f} MiB): {ratio(n / wall, n / hf['seconds'])}")
    if dtype == "f32":
        print(f"    answers: {equal}/{n} equal, {tied} past a near-tie of the reference's logits, {differ} otherwise different")
    else:  # two bf16 implementations round differently: agreement, not equality
        print(f"    answers: {equal}/{n} the same (bf16 rounds differently in each; fp32 above is the equality check)")
    return n / wall, n / hf["seconds"], differ if dtype == "f32" else 0


# ---------------------------------------------------------------- (c) decoding

PROMPT = "Write a long story about a dragon who learns to read, with many characters and places."


def decode_part(a, scratch):
    print(f"(c) batch-1 greedy decoding, {a.threads} threads, {a.decode_tokens} new tokens")
    results = {}
    for name, flags in (("f32", ["--dtype", "f32"]), ("bf16", ["--dtype", "bf16"]), ("q8_0", ["--quant", "q8_0"])):
        runs = []  # three runs, the median: the machine is shared
        for _ in range(3):
            lines, _, _ = run_timed([a.imsm, "generate", "--model", a.model, "--prompt", PROMPT, "--max-new-tokens",
                                     str(a.decode_tokens), "--ignore-eos", "--json"] + flags, env_with_threads(a.threads))
            runs.append(json.loads(lines[-1][1]))
        ours = sorted(runs, key=lambda r: r["tokens_per_second"])[1]
        results[f"imsm {name}"] = ours["tokens_per_second"]
        print(f"  imsm generate {name:4}: {ours['tokens_per_second']:6.1f} tokens/s ({len(ours['ids'])} tokens; median of 3)")
    best = max(results.values())
    for fmt in ("f16", "bf16", "q8_0"):
        gguf = os.path.join(a.gguf_dir, f"smollm2.{fmt}.gguf") if a.gguf_dir else ""
        if not gguf or not os.path.exists(gguf) or not a.llama_bench:
            print(f"  llama.cpp {fmt}: no GGUF or llama-bench (run tests/bench/bench_vs_peers.sh)")
            continue
        proc = subprocess.run([a.llama_bench, "-m", gguf, "-p", "0", "-n", str(a.decode_tokens), "-t", str(a.threads),
                               "-r", "3", "-o", "json"], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  llama.cpp {fmt}: llama-bench failed ({proc.returncode}): {proc.stderr.strip()[-200:]}")
            continue
        tps = json.loads(proc.stdout)[0]["avg_ts"]
        results[f"llama.cpp {fmt}"] = tps
        print(f"  llama.cpp {fmt:5}: {tps:6.1f} tokens/s: imsm's fastest {ratio(best, tps)}")
    return results


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", default="all", choices=["all", "peft-train", "hf-generate"])
    p.add_argument("--imsm", default="build/bin/imsm")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="the official splits' folder (all), or one JSON-lines file (children)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--method", default="lora")
    p.add_argument("--parts", default="train,eval,decode")
    p.add_argument("--gguf-dir", default="")
    p.add_argument("--llama-bench", default="")
    p.add_argument("--decode-tokens", type=int, default=128)
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"], help="hf-generate: the model's dtype")
    a = p.parse_args(argv)
    a.model = os.path.abspath(a.model)
    if a.command == "peft-train":
        return peft_train(a)
    if a.command == "hf-generate":
        return hf_generate(a)
    with tempfile.TemporaryDirectory() as scratch:
        parts = a.parts.split(",")
        if "train" in parts:
            train_part(a, scratch)
        if "eval" in parts:
            eval_part(a, scratch)
        if "decode" in parts:
            decode_part(a, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
