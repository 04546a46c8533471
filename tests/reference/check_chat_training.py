"""Training examples in the chat format (`imsm tokenize --examples`, what
`imsm train` trains on) against transformers' apply_chat_template, for the
templates of SmolLM2 (ChatML with a default system message), Llama 3 and Qwen3
(../shared/data/tokenizers).

The expectation, computed here from transformers alone: the prompt is
apply_chat_template([user], add_generation_prompt=True, tokenize=True); the
whole row is apply_chat_template([user, assistant], tokenize=True), which must
start with the prompt; the answer is the rest of the row through its first
special token (transformers' added tokens marked special: the template's end
of turn, <|im_end|> or <|eot_id|>), so what the template writes after it (a
newline, Llama 3's next header) is not trained on. Labels are
-100 on the prompt and the ids on the answer. Also checked: a prompt over
max_input_length keeps the template's closing tokens (the user's text is
cut), an answer over max_output_length keeps its stop token, and "off"
is the official encoding (the tokenizer's BOS + prompt, answer, EOS).
Every comparison is of integer ids: equal, exactly.

Usage: python check_chat_training.py IMSM SMOLLM2_DIR SHARED_DATA SCRATCH
"""
import json
import os
import subprocess
import sys

from transformers import AutoTokenizer

EXAMPLES = [
    {"input": " Given a sentence, judge the grammatical acceptability of the sentence with yes or no.\n"
              "Sentence:Our friends won't buy this analysis.\nOutput:", "output": "yes"},
    {"input": "Question: what does Grün mean? 東京は?\nAnswer:", "output": "green, and Tokyo is the capital of Japan."},
    {"instruction": "Summarise the text.", "input": "The cat sat on the mat all day long.", "output": "A cat rested."},
]


def stop_ids(tok, folder):
    stops = []
    config = os.path.join(folder, "config.json")
    if os.path.exists(config):
        eos = json.load(open(config)).get("eos_token_id")
        stops += eos if isinstance(eos, list) else ([eos] if eos is not None else [])
    if tok.eos_token_id is not None:
        stops.append(tok.eos_token_id)
    return stops


def prompt_of(example):
    return (example["instruction"] + "\n" + example["input"]) if "instruction" in example else example["input"]


def expected(tok, folder, example, max_in=512, max_out=512):
    user = [{"role": "user", "content": prompt_of(example)}]
    prompt = list(tok.apply_chat_template(user, add_generation_prompt=True, tokenize=True, return_dict=False))
    full = list(tok.apply_chat_template(user + [{"role": "assistant", "content": example["output"]}], tokenize=True,
                                        return_dict=False))
    assert full[:len(prompt)] == prompt, "the template renders the prompt differently inside the row"
    answer = full[len(prompt):]
    special = {i for i, t in tok.added_tokens_decoder.items() if t.special} | set(stop_ids(tok, folder))
    end = next(i for i, t in enumerate(answer) if t in special)
    answer = answer[:end + 1]
    if len(answer) > max_out:
        answer = answer[:max_out - 1] + answer[-1:]
    if len(prompt) > max_in:  # the user's text loses its end; the template's closing tokens stay
        text = tok.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
        content = prompt_of(example).strip()  # as templates write it, some trimmed (Llama 3)
        closing = text[text.rfind(content) + len(content):]
        k = len(tok(closing, add_special_tokens=False)["input_ids"])
        prompt = prompt[:max_in - k] + prompt[-k:]
    return prompt + answer, [-100] * len(prompt) + answer, len(prompt)


def official(tok, example):
    prompt = tok(prompt_of(example))["input_ids"]
    answer = tok(example["output"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    return prompt + answer, [-100] * len(prompt) + answer, len(prompt)


def imsm_rows(imsm, folder, data, *flags):
    r = subprocess.run([imsm, "tokenize", "--tokenizer", folder, "--examples", data, *flags], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return [json.loads(line) for line in r.stdout.splitlines()]


def main():
    imsm, smollm2, shared, scratch = sys.argv[1:5]
    os.makedirs(scratch, exist_ok=True)
    data = os.path.join(scratch, "examples.jsonl")
    with open(data, "w") as f:
        for e in EXAMPLES:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    models = {"SmolLM2": smollm2, "Llama 3": os.path.join(shared, "tokenizers", "llama3"),
              "Qwen3": os.path.join(shared, "tokenizers", "qwen3")}
    failed, checked = [], 0
    for label, folder in models.items():
        tok = AutoTokenizer.from_pretrained(folder)
        cases = [("chat", [], lambda e: expected(tok, folder, e)),
                 ("chat, short limits", ["--max-input-length", "24", "--max-output-length", "3"],
                  lambda e: expected(tok, folder, e, 24, 3)),
                 ("a template file", ["--chat-template", os.path.join(scratch, "template.jinja")], lambda e: expected(tok, folder, e))]
        with open(os.path.join(scratch, "template.jinja"), "w") as f:
            f.write(tok.chat_template)
        if label == "SmolLM2":  # the official encoding needs the tokenizer's EOS as the model's
            cases.append(("off", ["--chat-template", "off"], lambda e: official(tok, e)))
        for name, flags, expect in cases:
            try:
                rows = imsm_rows(imsm, folder, data, *flags)
            except RuntimeError as err:
                failed.append(f"{label}, {name}: imsm failed: {err}")
                continue
            for i, (row, example) in enumerate(zip(rows, EXAMPLES)):
                ids, labels, query_len = expect(example)
                got = (row["ids"], row["labels"], row["query_len"])
                if got != (ids, labels, query_len):
                    failed.append(f"{label}, {name}, example {i}:\n    imsm {got}\n    hf   {(ids, labels, query_len)}")
                checked += 1
            if len(rows) != len(EXAMPLES):
                failed.append(f"{label}, {name}: {len(rows)} rows for {len(EXAMPLES)} examples")
    print(f"chat training rows: {checked} examples of {len(models)} models' templates, ids and labels equal transformers'"
          if not failed else "chat training rows differ")
    for f in failed:
        print("  " + f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
