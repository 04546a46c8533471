#!/usr/bin/env bash
# Quick start, first command: install what is missing, build, run the main job.
# The main job is the quick-start experiment (projects/quickstart.json): the
# bundled wordnet-base model fine-tuned on arithmetic word problems with LoRA,
# IMSM(LoRA), (IA)³ and IMSM((IA)³), three seeds each, evaluated on the task
# and on two knowledge probes, recorded in runs/quickstart/workspace.imsm and
# reported in runs/quickstart/report.html (about 5 minutes on 2 cores, after
# the first build).
# Runs already finished in the workspace are reused: a second run is quick.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash installer/check-disk.sh installer/quickstart.sh
bash installer/setup-debian.sh
bash installer/build.sh
# The real pretrained model every user has: SmolLM2-135M-Instruct's GGUF
# (downloaded by the set-up) imported once into a Hugging Face folder.
bash installer/setup-models.sh --import

echo "== imsm project projects/quickstart.json"
build/bin/imsm project projects/quickstart.json
echo "== report: runs/quickstart/report.html (also .md, .csv); workspace: runs/quickstart/workspace.imsm"
echo "== open it in the workbench: build/bin/imsm-workbench runs/quickstart/workspace.imsm"
