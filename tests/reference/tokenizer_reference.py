"""Hugging Face reference tokenization of the parity corpus.

Writes, for every tokenizer, each corpus text's ids (with and without special
tokens) and the decoded text of those ids, as the Python `tokenizers` package
(Hugging Face's Rust library) computes them. test_tokenizer_parity compares
the engine's tokenizers with this file.

Usage: python tokenizer_reference.py CORPUS.jsonl TOKENIZERS_DIR OUT.json [NAME=DIR ...]
  TOKENIZERS_DIR: ../shared/data/tokenizers (llama3, qwen3, llama2)
  NAME=DIR: more tokenizer folders to run (e.g. one trained by this project)
"""
import json
import os
import sys

from tokenizers import Tokenizer


def gpt2_style(t):
    """Qwen 3's vocabulary and merges behind GPT-2's ByteLevel pre-tokenizer
    with its built-in regex (use_regex: true)."""
    t["normalizer"] = None
    t["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}


def metaspace(t):
    """The Mistral-style tokenizer with a Metaspace pre-tokenizer (as in
    Mistral's tokenizer.json) instead of the Prepend/Replace normalizers, and a
    ByteFallback + Metaspace decoder."""
    t["normalizer"] = None
    ms = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    t["pre_tokenizer"] = ms
    t["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, ms]}


VARIANTS = {"gpt2-style": ("qwen3", gpt2_style), "metaspace": ("llama2", metaspace)}


def main():
    corpus, fixtures, out_path, *extra = sys.argv[1:]
    extra_dirs = dict(a.split("=", 1) for a in extra)
    with open(corpus, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    out = {"reference": "tokenizers " + __import__("tokenizers").__version__, "tokenizers": []}
    for name in ["llama3", "qwen3", "llama2", *VARIANTS, *extra_dirs]:
        base = VARIANTS[name][0] if name in VARIANTS else name
        folder = extra_dirs.get(name, os.path.join(fixtures, base))
        with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
            spec = json.load(f)
        if name in VARIANTS:  # write the variant beside the output: the engine loads it from there
            VARIANTS[name][1](spec)
            variant_dir = os.path.join(os.path.dirname(os.path.abspath(out_path)), "tokenizer-variants", name)
            os.makedirs(variant_dir, exist_ok=True)
            with open(os.path.join(variant_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
                json.dump(spec, f, ensure_ascii=False)
            with open(os.path.join(folder, "tokenizer_config.json"), encoding="utf-8") as f:
                config = f.read()
            with open(os.path.join(variant_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                f.write(config)
            folder = variant_dir
        tokenizer = Tokenizer.from_str(json.dumps(spec))
        cases = []
        for text in texts:
            ids = tokenizer.encode(text).ids
            cases.append({
                "text": text,
                "ids": ids,
                "ids_plain": tokenizer.encode(text, add_special_tokens=False).ids,
                "decoded": tokenizer.decode(ids, skip_special_tokens=False) if ids else "",
                "decoded_skip": tokenizer.decode(ids, skip_special_tokens=True) if ids else "",
            })
        out["tokenizers"].append({"name": name, "dir": folder, "cases": cases})
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
