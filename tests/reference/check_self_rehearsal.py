"""`imsm make-rehearsal` (self-synthesized rehearsal, the set the train key
replay_self_examples replays) against transformers on SmolLM2-135M-Instruct.

The expectation, computed here from transformers alone (fp32 on both sides):
- the prompts were sampled from the model at the opening of a user's turn,
  which is apply_chat_template([user: MARK]) cut at MARK (SmolLM2: its
  default system turn, then "<|im_start|>user\\n"): every sampled token, and
  the end of turn that closed the prompt, lies in the top-p nucleus of the
  model's next-token distribution there (the probability mass of the tokens
  likelier than it is below p). Run at p = 0.5 so that a prompt drawn from
  another opening or another model would leave it; the margin 1e-3 covers
  fp32 logits summed in other orders (they differ by ~1e-5 here);
- each answer is the greedy continuation of
  apply_chat_template([user: input], add_generation_prompt=True): the same
  tokens, or the same up to a step where transformers' two likeliest logits
  are within 1e-3 of each other (a tie either side may break), and its text
  is the answer's tokens decoded without special tokens;
- the records are distinct and non-blank; the same seed writes the same
  bytes, another seed other prompts.

Usage: python check_self_rehearsal.py IMSM SMOLLM2_DIR SCRATCH
"""
import json
import os
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

TOP_P = 0.5
MARGIN = 1e-3
MAX_ANSWER = 12


def make(imsm, model, out, seed, count=5):
    args = [imsm, "make-rehearsal", "--model", model, "--out", out, "--count", str(count), "--seed", str(seed), "--top-p", str(TOP_P),
            "--max-prompt-tokens", "40", "--max-answer-tokens", str(MAX_ANSWER), "--batch-size", "8", "--dtype", "f32"]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"make-rehearsal failed: {r.stderr.strip()}")
    with open(out, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def opening_ids(tok):
    mark = "\x1fMARK\x1f"
    text = tok.apply_chat_template([{"role": "user", "content": mark}], tokenize=False)
    return tok(text[:text.index(mark)], add_special_tokens=False)["input_ids"]


def check_prompt(model, opening, record, end_of_turn):
    sampled = record["prompt_ids"] + [end_of_turn]
    ids = torch.tensor([opening + sampled])
    with torch.no_grad():
        probs = torch.softmax(model(ids).logits[0].double(), dim=-1)  # [T, vocab]
    for j, token in enumerate(sampled):
        p = probs[len(opening) + j - 1]
        above = p[p > p[token]].sum().item()
        if above >= TOP_P + MARGIN:
            sys.exit(f"prompt {record['input']!r}: token {j} ({token}) is outside the top-{TOP_P} nucleus (mass above it {above:.4f})")


def check_answer(model, tok, record, stops):
    prompt = tok.apply_chat_template([{"role": "user", "content": record["input"]}], add_generation_prompt=True, tokenize=True)
    if isinstance(prompt, dict) or hasattr(prompt, "input_ids"):
        prompt = prompt["input_ids"]
    ids = list(prompt)
    got = record["answer_ids"]
    for step in range(MAX_ANSWER):
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0, -1]
        top2 = torch.topk(logits, 2)
        want = int(top2.indices[0])
        if step >= len(got):
            sys.exit(f"answer to {record['input']!r} ended after {len(got)} tokens; transformers goes on with {want}")
        if got[step] != want:
            gap = float(top2.values[0] - top2.values[1])
            if got[step] == int(top2.indices[1]) and gap < MARGIN:
                return  # a tie broken the other way: nothing after it can be compared
            sys.exit(f"answer to {record['input']!r}: token {step} is {got[step]}, transformers' greedy {want} (gap {gap:.5f})")
        ids.append(want)
        if want in stops:
            break
    if len(got) != len(ids) - len(prompt):
        sys.exit(f"answer to {record['input']!r}: {len(got)} tokens, transformers' {len(ids) - len(prompt)}")
    text_ids = got[:-1] if got and got[-1] in stops else got
    if record["output"] != tok.decode(text_ids, skip_special_tokens=True):
        sys.exit(f"answer text {record['output']!r} is not its tokens decoded")


def main():
    imsm, model_dir, scratch = sys.argv[1:4]
    os.makedirs(scratch, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    config = json.load(open(os.path.join(model_dir, "config.json")))
    eos = config.get("eos_token_id")
    stops = set(eos if isinstance(eos, list) else [eos]) | {tok.eos_token_id}
    end_of_turn = tok.convert_tokens_to_ids("<|im_end|>")

    first = make(imsm, model_dir, os.path.join(scratch, "a.jsonl"), 7)
    inputs = [r["input"] for r in first]
    if len(first) != 5 or len(set(inputs)) != 5 or any(not s.strip() for s in inputs):
        sys.exit(f"expected 5 distinct non-blank prompts, got {inputs}")
    opening = opening_ids(tok)
    for record in first:
        check_prompt(model, opening, record, end_of_turn)
        check_answer(model, tok, record, stops)
    again = make(imsm, model_dir, os.path.join(scratch, "b.jsonl"), 7)
    if again != first:
        sys.exit("the same seed wrote another set")
    other = make(imsm, model_dir, os.path.join(scratch, "c.jsonl"), 8, count=2)
    if [r["input"] for r in other] == inputs[:2]:
        sys.exit("another seed wrote the same prompts")
    print(f"ok: 5 prompts in the top-{TOP_P} nucleus after SmolLM2's user turn, greedy answers equal transformers'; "
          f"e.g. {inputs[0]!r} -> {first[0]['output']!r}")


if __name__ == "__main__":
    main()
