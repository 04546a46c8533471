"""`imsm export --format gguf` against llama.cpp's own tools and library.

On SmolLM2-135M-Instruct (the set-up's import) with a LoRA trained here (fp32):
  - the f16 export equals what llama.cpp's convert_hf_to_gguf.py writes from
    the merged Hugging Face export: every tensor byte for byte, every
    metadata key but general.* naming;
  - q8_0 and q4_k_m equal what llama-quantize writes from the f32 export,
    byte for byte (the same tensor types, ggml's same quantizers), and the
    calibrated q4_k_m what llama-quantize --imatrix writes with the
    export's imatrix.gguf;
  - the importance matrix equals the mean squared inputs of every linear that
    PyTorch forward hooks see in transformers on the same rows (fp32 on both
    sides, sums over a few thousand tokens: relative 1e-3 of each weight's
    largest column);
  - llama.cpp (its library: tests/llama_cpp/llama_consumer) decodes 8 prompts
    greedily to the engine's fp32 tokens on the merged folder from the f32
    and the f16 file, and from the base's f32 file with the GGUF LoRA; the
    base alone answers otherwise on at least one (the adapter matters);
  - llama.cpp's perplexity on a fixed text (GSM8K's test questions, windows
    of 512): q8_0 within 1% of f16, the calibrated q4_k_m within 5% (the
    uncalibrated one is printed: this model's weights come from a Q4_1 file,
    which K-quants round again);
  - tokenizer.chat_template is the base's template, the BOS/EOS ids are
    transformers' tokenizer's.
And tiny random Qwen3 and Llama 3.2-style models with their families' real
tokenizers (no Q/K permutation and per-head norms; rope_freqs and the
llama-bpe split): the f32 export equals convert_hf_to_gguf.py's f32 file.

Usage: python check_gguf_export.py IMSM LLAMA_CONSUMER LLAMA_CPP_DIR MODEL_DIR SCRATCH SHARED_DATA
Prints one line per check; exits 1 naming what differs.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from check_gguf_import import run, tiny_model

PROMPTS = ["The capital of France is",
           "Is the following sentence grammatical? \"The boys was running.\" Answer:",
           "Question: What is 12 plus 7?\nAnswer:",
           "<|im_start|>user\nWho wrote Hamlet?<|im_end|>\n<|im_start|>assistant\n",
           "Once upon a time, in a small village,",
           "Translate to French: good morning",
           "def fibonacci(n):",
           "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nName three colors.<|im_end|>\n"
           "<|im_start|>assistant\n"]
NEW_TOKENS = 24
CALIBRATION_ROWS = 128
NAMING = {"general.name", "general.basename", "general.finetune", "general.size_label", "quantize.imatrix.file"}
failed = []


def reader(path):
    from gguf import GGUFReader
    return GGUFReader(path)


def compare_files(label, mine, theirs, skip=NAMING, close=()):
    """Every tensor byte for byte and every metadata key outside `skip` equal;
    tensors in `close` within 4 ulp of fp32 (see the Llama 3 case)."""
    a, b = reader(mine), reader(theirs)
    fa = {k: f.contents() for k, f in a.fields.items() if not k.startswith("GGUF.") and k not in skip}
    fb = {k: f.contents() for k, f in b.fields.items() if not k.startswith("GGUF.") and k not in skip}
    for k in sorted(set(fa) | set(fb)):
        if fa.get(k) != fb.get(k):
            failed.append(f"{label}: metadata {k} differs: imsm {str(fa.get(k))[:80]!r}, llama.cpp {str(fb.get(k))[:80]!r}")
    ta, tb = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}
    if set(ta) != set(tb):
        failed.append(f"{label}: tensor names differ: only imsm {sorted(set(ta) - set(tb))[:3]}, only llama.cpp {sorted(set(tb) - set(ta))[:3]}")
    def same(n):
        x, y = np.asarray(ta[n].data), np.asarray(tb[n].data)
        if ta[n].tensor_type != tb[n].tensor_type:
            return False
        if n in close:
            return bool(np.all(np.abs(x - y) <= 4 * np.spacing(np.abs(y).astype(np.float32))))
        return np.array_equal(x.view(np.uint8), y.view(np.uint8))
    differ = [n for n in ta if n in tb and not same(n)]
    if differ:
        failed.append(f"{label}: {len(differ)} of {len(ta)} tensors differ, first {differ[0]} "
                      f"({ta[differ[0]].tensor_type.name} vs {tb[differ[0]].tensor_type.name})")
    types = {}
    for t in a.tensors:
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    print(f"{label}: {len(ta)} tensors {types}, {len(fa)} metadata keys: equal to llama.cpp's file" if not differ else f"{label}: differs")


def export(imsm, out, *args):
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(run([imsm, "export", "--out", out, "--json", *args]))


def train_lora(imsm, model, scratch, shared):
    rows = [json.loads(l) for l in open(os.path.join(shared, "imsm-official", "cola", "data_train.json"))][:64]
    data = os.path.join(scratch, "train.jsonl")
    with open(data, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    config = os.path.join(scratch, "train.json")
    out = os.path.join(scratch, "run")
    shutil.rmtree(out, ignore_errors=True)
    with open(config, "w") as f:
        json.dump({"model_path": model, "data_path": data, "output_dir": out, "peft": "lora", "variant": "none", "lora_r": 8,
                   "lora_alpha": 16, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                   "num_epochs": 1, "batch_size": 8, "learning_rate": 2e-3, "max_input_length": 64, "max_output_length": 8,
                   "dtype": "f32", "seed": 1}, f)
    run([imsm, "train", "--config", config])
    return os.path.join(out, "adapter")


def llama_greedy(consumer, scratch, gguf, lora=None):
    prompts = os.path.join(scratch, "prompts.json")
    with open(prompts, "w") as f:
        json.dump(PROMPTS, f)
    out = run([consumer, "greedy", gguf, prompts, str(NEW_TOKENS)] + ([lora] if lora else []))
    return [json.loads(l)["ids"] for l in out.splitlines()]


def engine_greedy(imsm, model):
    return [json.loads(run([imsm, "generate", "--model", model, "--prompt", p, "--max-new-tokens", str(NEW_TOKENS), "--dtype", "f32",
                            "--json"]))["ids"] for p in PROMPTS]


F16_MARGIN = 0.05


def compare_f16_greedy(got, engine, merged_hf):
    """f16 weights (and llama.cpp's f16 activations) move a logit of ~20 by a few 1e-3: the f16 file must give the
    engine's tokens up to the first step where transformers' fp32 top-1 leads the top-2 by less than F16_MARGIN
    (there either token is right); most steps must be compared."""
    tok = AutoTokenizer.from_pretrained(merged_hf)
    model = AutoModelForCausalLM.from_pretrained(merged_hf, dtype=torch.float32).eval()
    compared, total = 0, 0
    for i, p in enumerate(PROMPTS):
        ids = tok(p, return_tensors="pt").input_ids
        with torch.no_grad():
            logits = model(torch.cat([ids, torch.tensor([engine[i]])], 1)).logits[0, ids.shape[1] - 1:-1]
        top = logits.topk(2).values
        margins = (top[:, 0] - top[:, 1]).tolist()
        n = next((k for k, m in enumerate(margins) if m < F16_MARGIN), len(engine[i]))
        compared, total = compared + n, total + len(engine[i])
        if got[i][:n] != engine[i][:n]:
            failed.append(f"greedy f16: prompt {i} {p!r}: llama.cpp {got[i][:n]}, engine {engine[i][:n]}")
    if compared < total // 2:
        failed.append(f"greedy f16: only {compared} of {total} tokens lead by {F16_MARGIN} or more; change the seed")
    print(f"greedy f16: llama.cpp's tokens equal the engine's on all {compared} of {total} tokens before a near tie "
          f"(a lead under {F16_MARGIN})")


def perplexity(consumer, gguf, text):
    return json.loads(run([consumer, "perplexity", gguf, text, "512"]))["perplexity"]


def hooks_importance(model_dir, imsm_rows):
    """Mean squared inputs of every nn.Linear (and the LM head) over the rows, through forward hooks."""
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    sums, tokens = {}, 0

    def hook(name):
        def f(_, inputs, __):
            x = inputs[0].detach().double()
            sums[name] = sums.get(name, 0) + (x * x).sum(dim=(0, 1))
        return f
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Linear):
            m.register_forward_hook(hook("model.embed_tokens.weight" if name == "lm_head" and model.config.tie_word_embeddings
                                         else name + ".weight"))
    with torch.no_grad():
        for ids in imsm_rows:
            model(torch.tensor([ids]))
            tokens += len(ids)
    return {k: (v / tokens).float().numpy() for k, v in sums.items()}, tokens


def compare_importance(scratch, merged_hf, tokenizer_dir, shared, imatrix_path):
    from gguf import GGUFReader
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    rows = [json.loads(l) for l in open(os.path.join(shared, "imsm-official", "cola", "data_train.json"))][:CALIBRATION_ROWS]
    # As the engine encodes a training row: the prompt with special tokens, the answer without, then EOS.
    ids = [tok(r["input"])["input_ids"] + tok(r["output"] if isinstance(r["output"], str) else r["output"][0],
                                              add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for r in rows]
    want, tokens = hooks_importance(merged_hf, ids)
    r = GGUFReader(imatrix_path)
    tensors = {t.name: np.asarray(t.data, dtype=np.float32).reshape(-1) for t in r.tensors}
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    worst, count = 0.0, 0
    from_hf = {}
    for hf, mean in want.items():
        from_hf[gguf_name(hf)] = mean
    for name, mean in from_hf.items():
        got_sum, got_count = tensors.get(name + ".in_sum2"), tensors.get(name + ".counts")
        if got_sum is None or got_count is None:
            failed.append(f"imatrix: no entry {name}")
            continue
        if int(got_count[0]) != tokens:
            failed.append(f"imatrix: {name} counts {int(got_count[0])} tokens, the rows have {tokens}")
        err = float(np.max(np.abs(got_sum / got_count[0] - mean)) / max(float(np.max(np.abs(mean))), 1e-30))
        worst, count = max(worst, err), count + 1
    if worst > 1e-3:
        failed.append(f"imatrix: a weight's mean squares differ from PyTorch's hooks by {worst:.2e} of its largest (bound 1e-3)")
    print(f"imatrix: {count} weights, {tokens} tokens: mean squared inputs equal transformers' forward hooks within {worst:.1e} "
          f"of each weight's largest")


def gguf_name(hf):
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
    if hf in fixed:
        return fixed[hf]
    layer, rest = hf[len("model.layers."):].split(".", 1)
    names = {"self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
             "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
             "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}
    return f"blk.{layer}.{names[rest]}"


def main():
    imsm, consumer, llama_cpp, model, scratch, shared = sys.argv[1:7]
    os.makedirs(scratch, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.path.join(llama_cpp, "src", "gguf-py"), NO_LOCAL_GGUF="1")
    sys.path.insert(0, env["PYTHONPATH"])
    convert = os.path.join(llama_cpp, "src", "convert_hf_to_gguf.py")
    quantize = os.path.join(llama_cpp, "build", "bin", "llama-quantize")
    adapter = train_lora(imsm, model, scratch, shared)
    calibration = os.path.join(shared, "imsm-official", "cola", "data_train.json")
    s = lambda name: os.path.join(scratch, name)
    export(imsm, s("hf"), "--adapter", adapter, "--dtype", "f32")
    files = {q: export(imsm, s(q), "--adapter", adapter, "--format", "gguf", "--quant", q)["file"] for q in ("f32", "f16", "q8_0", "q4_k_m")}
    files["q4_k_m+imatrix"] = export(imsm, s("q4_k_m-imatrix"), "--adapter", adapter, "--format", "gguf", "--quant", "q4_k_m",
                                     "--calibration", calibration, "--calibration-rows", str(CALIBRATION_ROWS))["file"]
    lora = export(imsm, s("lora"), "--adapter", adapter, "--format", "gguf", "--adapter-only", "--quant", "f32")["file"]
    base = export(imsm, s("base"), "--model", model, "--format", "gguf", "--quant", "f32")["file"]

    run([sys.executable, convert, s("hf"), "--outtype", "f16", "--outfile", s("convert.f16.gguf")], env=env)
    compare_files("f16 vs convert_hf_to_gguf.py", files["f16"], s("convert.f16.gguf"))
    for q in ("Q8_0", "Q4_K_M"):
        run([quantize, files["f32"], s(f"quantize.{q}.gguf"), q])
        compare_files(f"{q.lower()} vs llama-quantize", files[q.lower()], s(f"quantize.{q}.gguf"))
    imatrix = os.path.join(s("q4_k_m-imatrix"), "imatrix.gguf")
    run([quantize, "--imatrix", imatrix, files["f32"], s("quantize.imatrix.gguf"), "Q4_K_M"])
    compare_files("q4_k_m --calibration vs llama-quantize --imatrix", files["q4_k_m+imatrix"], s("quantize.imatrix.gguf"))
    compare_importance(scratch, s("hf"), model, shared, imatrix)

    engine = engine_greedy(imsm, s("hf"))
    for label, got in (("f32", llama_greedy(consumer, scratch, files["f32"])),
                       ("base f32 + GGUF LoRA", llama_greedy(consumer, scratch, base, lora))):
        wrong = [i for i in range(len(PROMPTS)) if got[i] != engine[i]]
        if wrong:
            failed.append(f"greedy {label}: prompt {wrong[0]} {PROMPTS[wrong[0]]!r}: llama.cpp {got[wrong[0]]}, engine {engine[wrong[0]]}")
        print(f"greedy {label}: llama.cpp's tokens equal the engine's on {len(PROMPTS) - len(wrong)} of {len(PROMPTS)} prompts")
    compare_f16_greedy(llama_greedy(consumer, scratch, files["f16"]), engine, s("hf"))
    changed = sum(a != b for a, b in zip(llama_greedy(consumer, scratch, base), engine))
    if changed == 0:
        failed.append("the trained LoRA changes no greedy answer: the comparison would not see a missing adapter")
    print(f"the base alone answers otherwise on {changed} of {len(PROMPTS)} prompts")

    rows = [json.loads(l) for l in open(os.path.join(shared, "imsm-official", "GSM8K", "data_test.json"))][:80]
    with open(s("text.txt"), "w") as f:
        f.write("\n\n".join(r["input"] for r in rows))
    ppl = {q: perplexity(consumer, files[q], s("text.txt")) for q in ("f16", "q8_0", "q4_k_m", "q4_k_m+imatrix")}
    for q, bound in (("q8_0", 0.01), ("q4_k_m+imatrix", 0.05)):
        if ppl[q] / ppl["f16"] - 1 > bound:
            failed.append(f"perplexity {q} {ppl[q]:.4f} is {100 * (ppl[q] / ppl['f16'] - 1):.2f}% above f16's {ppl['f16']:.4f} (bound {100 * bound:g}%)")
    print("perplexity (llama.cpp, GSM8K test questions): " +
          ", ".join(f"{q} {v:.4f} ({100 * (v / ppl['f16'] - 1):+.2f}%)" for q, v in ppl.items()))

    tok = AutoTokenizer.from_pretrained(model)
    f = reader(files["f16"]).fields
    template = json.load(open(os.path.join(model, "tokenizer_config.json"))).get("chat_template")
    if f["tokenizer.chat_template"].contents() != template:
        failed.append("tokenizer.chat_template differs from the base's tokenizer_config.json")
    ids = (f["tokenizer.ggml.bos_token_id"].contents(), f["tokenizer.ggml.eos_token_id"].contents())
    if ids != (tok.bos_token_id, tok.eos_token_id):
        failed.append(f"BOS/EOS ids {ids}, transformers' tokenizer {(tok.bos_token_id, tok.eos_token_id)}")
    print(f"chat template ({len(template)} characters) and BOS/EOS {ids} equal the base's")

    for kind in ("qwen3", "llama3"):
        source = s(f"{kind}-hf")
        tiny_model(shared, source, kind)
        run([sys.executable, convert, source, "--outtype", "f32", "--outfile", s(f"{kind}.convert.gguf")], env=env)
        mine = export(imsm, s(kind), "--model", source, "--format", "gguf", "--quant", "f32")["file"]
        if kind == "qwen3":
            compare_files(f"{kind} f32 vs convert_hf_to_gguf.py", mine, s(f"{kind}.convert.gguf"))
            continue
        # The converter names the pre-tokenizer by the hash of a test text's ids, which this copy of Llama 3's
        # tokenizer shares with Smaug-Llama-3 ("smaug-bpe", merges not ignored); the export reads the file's own
        # "ignore_merges": true, which llama.cpp's "llama-bpe" honours. The rope_freqs divisors: the converter
        # computes the frequencies in float32 with torch's pow, the export in double, then rounds (1 ulp apart).
        pre = reader(mine).fields["tokenizer.ggml.pre"].contents()
        if pre != "llama-bpe":
            failed.append(f"llama3: tokenizer.ggml.pre {pre!r}, expected llama-bpe (the tokenizer ignores merges)")
        compare_files(f"{kind} f32 vs convert_hf_to_gguf.py", mine, s(f"{kind}.convert.gguf"), NAMING | {"tokenizer.ggml.pre"},
                      close={"rope_freqs.weight"})
    if failed:
        sys.exit("the GGUF export disagrees with llama.cpp:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
