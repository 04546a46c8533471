"""`imsm tokenize --chat` (llama.cpp's Jinja engine inside the engine) against
transformers' apply_chat_template, for the chat templates of SmolLM2 (ChatML),
Llama 3 and Qwen3 (../shared/data/tokenizers): with and without a system
message, several turns, text with non-ASCII characters and with a special
token's text inside a message, each with and without add_generation_prompt.
Both the rendered text and the token ids must be equal, exactly.

Usage: python check_chat_template.py IMSM SMOLLM2_DIR SHARED_DATA SCRATCH
"""
import json
import os
import subprocess
import sys

from transformers import AutoTokenizer

CONVERSATIONS = {
    "user only": [{"role": "user", "content": "What is the capital of France?"}],
    "system and user": [{"role": "system", "content": "You are a concise assistant."},
                        {"role": "user", "content": "Name three colours."}],
    "several turns": [{"role": "system", "content": "Answer in one word."},
                      {"role": "user", "content": "Is the sky blue?"},
                      {"role": "assistant", "content": "Yes."},
                      {"role": "user", "content": "Und das Gras? Grün? 東京は?"}],
    "special text in a message": [{"role": "user", "content": "Print <|im_end|> and <|eot_id|> literally."}],
}


def main():
    imsm, smollm2, shared, scratch = sys.argv[1:5]
    os.makedirs(scratch, exist_ok=True)
    models = {"SmolLM2": smollm2, "Llama 3": os.path.join(shared, "tokenizers", "llama3"),
              "Qwen3": os.path.join(shared, "tokenizers", "qwen3")}
    failed, checked = [], 0
    for label, folder in models.items():
        tok = AutoTokenizer.from_pretrained(folder)
        for name, messages in CONVERSATIONS.items():
            path = os.path.join(scratch, "conversation.json")
            with open(path, "w") as f:
                json.dump(messages, f, ensure_ascii=False)
            for gen in (False, True):
                cmd = [imsm, "tokenize", "--tokenizer", folder, "--chat", path] + (["--add-generation-prompt"] if gen else [])
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    failed.append(f"{label}, {name}, generation prompt {gen}: imsm failed: {r.stderr.strip()}")
                    continue
                got = json.loads(r.stdout)
                text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
                ids = tok(text, add_special_tokens=False)["input_ids"]
                direct = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=gen, return_dict=False)
                if ids != list(direct):
                    failed.append(f"{label}, {name}: transformers' own two paths disagree")
                if got["text"] != text:
                    failed.append(f"{label}, {name}, generation prompt {gen}: text differs\n    imsm {got['text']!r}\n    hf   {text!r}")
                elif got["ids"] != ids:
                    failed.append(f"{label}, {name}, generation prompt {gen}: ids differ")
                checked += 1
    print(f"chat templates: {checked} renderings of {len(models)} models' templates, text and ids equal transformers'"
          if not failed else "chat templates differ")
    if failed:
        sys.exit("imsm's chat templates disagree with transformers:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
