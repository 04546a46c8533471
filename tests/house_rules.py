#!/usr/bin/env python3
"""The rules of the house the compiler cannot see (docs/ARCHITECTURE.md).

    python3 tests/house_rules.py ROOT      # check the tree at ROOT: one line per breach, exit 1 if any
    python3 tests/house_rules.py --self-test   # plant one breach of each rule in a scratch tree, expect each found

Arrows that must never exist, read from #include lines:
  core -> Qt (or Dear ImGui)   the engine builds where no Qt exists
  ui, app/workbench -> torch   the window sees plain data; followed through the project's own headers
  model -> peft, imsm          adapters wrap the model from outside
  store -> model               the workspace stores numbers and text
  a component -> recipes       recipes compose components, not the reverse
  eval -> train                metrics and suites do not depend on the training loop
  core -> ui, app              nothing in the engine knows its front ends
and no source file of core/, app/ or ui/ over 600 lines.
"""
import os
import re
import sys
import tempfile

MAX_LINES = 600
SOURCE_DIRS = ("core", "app", "ui")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
TORCH = re.compile(r"^(torch|ATen|c10|caffe2)/")
COMPONENTS = ("data", "dist", "eval", "gguf", "imsm", "io", "model", "monitor", "peft", "report", "store", "tokenizer", "train", "util")

# (which files, the include that may not appear, why) for direct includes.
RULES = [
    (lambda f: f.startswith("core/"), lambda q, h: q == "<" and re.match(r"^(Q[A-Za-z]|qcustomplot|imgui)", h),
     "core -> Qt: the engine builds and runs where no Qt exists"),
    (lambda f: f.startswith("core/model/"), lambda q, h: q == '"' and re.match(r"^(peft|imsm)/", h),
     "model -> peft/imsm: adapters wrap the model's linears from outside"),
    (lambda f: f.startswith("core/store/"), lambda q, h: q == '"' and h.startswith("model/"),
     "store -> model: the workspace stores numbers and text, never tensors"),
    (lambda f: f.split("/")[:2][-1] in COMPONENTS and f.startswith("core/"),
     lambda q, h: q == '"' and h.startswith("recipes/"),
     "a component -> recipes: recipes compose components, not the reverse"),
    (lambda f: f.startswith("core/eval/"), lambda q, h: q == '"' and h.startswith("train/"),
     "eval -> train: evaluation does not depend on the training loop"),
    (lambda f: f.startswith("core/"), lambda q, h: q == '"' and re.match(r"^(ui|app)/", h),
     "core -> ui/app: the engine knows nothing of its front ends"),
]


def sources(root):
    for top in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith((".h", ".cpp", ".hpp", ".cc")):
                    yield os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/")


def includes(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    found = [(i + 1, m.group(1), m.group(2)) for i, line in enumerate(lines) for m in [INCLUDE.match(line)] if m]
    return len(lines), found


def resolve(root, rel, header):
    """The project file a quoted include names: beside the includer, under core/, or under ui/."""
    for base in (os.path.dirname(rel), "core", "ui", "app/imsm"):
        candidate = os.path.normpath(os.path.join(base, header)).replace(os.sep, "/")
        if os.path.isfile(os.path.join(root, candidate)):
            return candidate
    return None


def torch_path(root, rel, graph, memo, stack=()):
    """The chain of project headers from `rel` to a torch include, or None."""
    if rel in memo:
        return memo[rel]
    memo[rel] = None  # cycles end here
    for line, quote, header in graph.get(rel, []):
        if quote == "<" and TORCH.match(header):
            memo[rel] = [f"{rel}:{line} <{header}>"]
            return memo[rel]
        if quote == '"':
            target = resolve(root, rel, header)
            if target and target not in stack:
                chain = torch_path(root, target, graph, memo, stack + (rel,))
                if chain:
                    memo[rel] = [f'{rel}:{line} "{header}"'] + chain
                    return memo[rel]
    return None


def check(root):
    problems = []
    graph = {}
    for rel in sources(root):
        count, found = includes(root, rel)
        graph[rel] = found
        if count > MAX_LINES:
            problems.append(f"{rel}: {count} lines, over the house limit of {MAX_LINES}: split it by concept")
        for line, quote, header in found:
            for applies, forbidden, why in RULES:
                if applies(rel) and forbidden(quote, header):
                    shown = f"<{header}>" if quote == "<" else f'"{header}"'
                    problems.append(f"{rel}:{line}: includes {shown}: {why}")
    memo = {}
    for rel in graph:
        if rel.startswith(("ui/", "app/workbench/")):
            chain = torch_path(root, rel, graph, memo)
            if chain:
                problems.append(f"{rel}: reaches a torch header ({' -> '.join(chain)}): "
                                "ui -> torch: give the window plain data through a torch-free header")
    return problems


def self_test():
    planted = {
        "core/model/bad_model.cpp": '#include "peft/adapter.h"\n',
        "core/store/bad_store.cpp": '#include "model/llama.h"\n',
        "core/io/bad_io.cpp": '#include "recipes/train.h"\n',
        "core/eval/bad_eval.cpp": '#include "train/trainer.h"\n',
        "core/util/bad_qt.cpp": "#include <QString>\n",
        "core/util/bad_ui.cpp": '#include "ui/main_window.h"\n',
        "core/imsm/engine.h": "#include <torch/torch.h>\n",
        "core/recipes/wrapper.h": '#include "imsm/engine.h"\n',
        "ui/bad_view.cpp": '#include "recipes/wrapper.h"\n',
        "ui/long_file.cpp": "int x;\n" * (MAX_LINES + 1),
        "core/recipes/fine.cpp": '#include "train/trainer.h"\n#include "model/llama.h"\n',  # recipes may
        "ui/fine_view.cpp": '#include <QString>\n#include "recipes/fine.h"\n',
    }
    expected = ["bad_model.cpp:1", "bad_store.cpp:1", "bad_io.cpp:1", "bad_eval.cpp:1", "bad_qt.cpp:1",
                "bad_ui.cpp:1", "ui/bad_view.cpp: reaches a torch header", "ui/long_file.cpp: 601 lines"]
    with tempfile.TemporaryDirectory() as root:
        for rel, text in planted.items():
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        problems = check(root)
    missed = [e for e in expected if not any(e in p for p in problems)]
    extra = [p for p in problems if not any(e in p for e in expected)]
    for p in problems:
        print("found:", p)
    if missed or extra:
        print("house_rules self-test FAILED: missed", missed, "unexpected", extra)
        return 1
    print(f"house_rules self-test: all {len(expected)} planted breaches found, none else")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    problems = check(argv[1])
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} breaches of the house rules (docs/ARCHITECTURE.md)")
        return 1
    print(f"house rules hold: {sum(1 for _ in sources(argv[1]))} files of core/, app/, ui/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
