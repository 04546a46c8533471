#!/usr/bin/env python3
"""The rules of the house the compiler cannot see (docs/ARCHITECTURE.md).

    python3 tests/house_rules.py ROOT      # check the tree at ROOT: one line per breach, exit 1 if any
    python3 tests/house_rules.py --self-test   # plant one breach of each rule in a scratch tree, expect each found

Which folder may include which is read from the table "What each folder may
include" of ROOT/docs/ARCHITECTURE.md: every quoted include of a project
header must name its own folder or one its row allows (a folder, or a single
header), every folder with sources has a row, every row's folder has sources
and every allowance is used. Beside the table:
  a setting compared as text    `c.variant == "none"`: settings are enums once read (util/choices.h)
  core -> Qt (or Dear ImGui)   the engine builds where no Qt exists
  ui, app/workbench -> torch   the window sees plain data; followed through the project's own headers
no source file of core/, app/ or ui/ over 600 lines, and no function of
theirs over 60: a longer one is cut into named steps that read top to bottom.
"""
import os
import re
import shutil
import sys
import tempfile

MAX_LINES = 600
MAX_FUNCTION_LINES = 60
SOURCE_DIRS = ("core", "app", "ui")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
TORCH = re.compile(r"^(torch|ATen|c10|caffe2)/")
TABLE_HEADING = "## What each folder may include"
QT = re.compile(r"^(Q[A-Za-z]|qcustomplot|imgui)")
# A setting compared as text: settings are read once into enums (util/choices.h), then switched on.
SETTING_AS_TEXT = re.compile(r'\.(peft|variant|optimizer|lr_schedule|gradient_checkpointing|dtype|device|memory_cache_dtype)\s*[!=]=\s*"')


def folder_of(rel):
    """core/model/llama.cpp -> core/model; ui/x.cpp -> ui; app/imsm/main.cpp -> app/imsm."""
    parts = rel.split("/")
    return parts[0] if parts[0] == "ui" or len(parts) < 3 else "/".join(parts[:2])


def read_table(root):
    """{folder: (allowed folders, allowed headers, why)} from docs/ARCHITECTURE.md, or a problem line."""
    path = os.path.join(root, "docs", "ARCHITECTURE.md")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        at = lines.index(TABLE_HEADING)
    except (OSError, ValueError):
        return None, f"docs/ARCHITECTURE.md: no section {TABLE_HEADING!r} to read the include rules from"
    rows = [line for line in lines[at:] if line.startswith("|")]
    table = {}
    for line in rows[2:]:  # past the header and the --- row
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 4:
            return None, f"docs/ARCHITECTURE.md: include table row {line!r} has {len(cells)} cells, not 4"
        allowed_folders, allowed_headers = set(), set()
        for token in re.findall(r"`([^`]+)`", cells[1]):
            target = token if token.startswith(("ui", "app/")) else "core/" + token
            (allowed_headers if token.endswith(".h") else allowed_folders).add(target)
        for folder in re.findall(r"`([^`]+)`", cells[0]):
            table[folder] = (allowed_folders, allowed_headers, cells[3])
    return table, None


def sources(root):
    for top in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith((".h", ".cpp", ".hpp", ".cc")):
                    yield os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/")


def read_lines(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def includes(lines):
    return [(i + 1, m.group(1), m.group(2)) for i, line in enumerate(lines) for m in [INCLUDE.match(line)] if m]


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


def target_of(root, rel, header, table):
    """The project file a quoted include names (inferred from its first folder when absent), or None."""
    found = resolve(root, rel, header)
    if found:
        return found
    first = header.split("/")[0]
    if first in ("ui", "app"):
        return header
    if "/" in header and ("core/" + first in table or os.path.isdir(os.path.join(root, "core", first))):
        return "core/" + header
    return None


def check_table(root, graph, complete):
    table, problem = read_table(root)
    if problem:
        return [problem]
    problems, used = [], set()
    for rel, found in graph.items():
        folder = folder_of(rel)
        if folder not in table:
            problems.append(f"{rel}: its folder {folder} has no row in the include table of docs/ARCHITECTURE.md: add one")
            continue
        allowed_folders, allowed_headers, why = table[folder]
        for line, quote, header in found:
            target = target_of(root, rel, header, table) if quote == '"' else None
            if target is None or folder_of(target) == folder:
                continue
            if target in allowed_headers:
                used.add((folder, target))
            elif folder_of(target) in allowed_folders:
                used.add((folder, folder_of(target)))
            else:
                problems.append(f'{rel}:{line}: includes "{header}" ({folder} -> {folder_of(target)}), which the include '
                                f"table of docs/ARCHITECTURE.md does not allow ({why})")
    if complete:
        folders = {folder_of(rel) for rel in graph}
        for folder, (allowed_folders, allowed_headers, _) in sorted(table.items()):
            if folder not in folders:
                problems.append(f"docs/ARCHITECTURE.md: the include table has a row for {folder}, which holds no sources")
            for target in sorted(allowed_folders | allowed_headers):
                if (folder, target) not in used and folder in folders:
                    problems.append(f"docs/ARCHITECTURE.md: the include table lets {folder} include {target}, "
                                    "which nothing there does: remove it")
    return problems


NOT_A_FUNCTION = re.compile(r"^(#|//|/\*|\*|namespace|using|static_assert|struct|class|enum|union|template|typedef|extern|Q_|[}\])])")


def long_functions(lines):
    """(first line, length, signature) of each function defined at column 0 whose body is over the limit.

    A definition starts at an unindented line with '(' that is not a
    declaration; its body ends at the next line starting with '}'."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line or line[0].isspace() or NOT_A_FUNCTION.match(line) or "(" not in line:
            i += 1
            continue
        j = i
        while j < len(lines) and not lines[j].rstrip().endswith(("{", ";", "}")):
            j += 1
        if j == len(lines) or not lines[j].rstrip().endswith("{"):  # a declaration, or a one-line definition
            i = j + 1
            continue
        k = j + 1
        while k < len(lines) and not lines[k].startswith("}"):
            k += 1
        if k - i + 1 > MAX_FUNCTION_LINES:
            out.append((i + 1, k - i + 1, line.strip()[:70]))
        i = k + 1
    return out


def check(root, complete=True):
    problems = []
    graph = {}
    for rel in sources(root):
        lines = read_lines(root, rel)
        found = graph[rel] = includes(lines)
        if len(lines) > MAX_LINES:
            problems.append(f"{rel}: {len(lines)} lines, over the house limit of {MAX_LINES}: split it by concept")
        if rel.endswith(".cpp"):
            for first, length, signature in long_functions(lines):
                problems.append(f"{rel}:{first}: {signature} is {length} lines, over the house limit of {MAX_FUNCTION_LINES}: "
                                "cut it into named steps")
        for i, line in enumerate(lines):
            if SETTING_AS_TEXT.search(line):
                problems.append(f"{rel}:{i + 1}: compares a setting as text ({line.strip()[:60]}): read it once into its enum "
                                "(util/choices.h) and compare that")
        for line, quote, header in found:
            if rel.startswith("core/") and quote == "<" and QT.match(header):
                problems.append(f"{rel}:{line}: includes <{header}>: core -> Qt: the engine builds and runs where no Qt exists")
    problems += check_table(root, graph, complete)
    memo = {}
    for rel in graph:
        if rel.startswith(("ui/", "app/workbench/")):
            chain = torch_path(root, rel, graph, memo)
            if chain:
                problems.append(f"{rel}: reaches a torch header ({' -> '.join(chain)}): "
                                "ui -> torch: give the window plain data through a torch-free header")
    return problems


def plant(root, files):
    for rel, text in files.items():
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)


def expect_found(name, problems, expected):
    missed = [e for e in expected if not any(e in p for p in problems)]
    extra = [p for p in problems if not any(e in p for e in expected)]
    for p in problems:
        print("found:", p)
    if missed or extra:
        print(f"house_rules self-test FAILED ({name}): missed", missed, "unexpected", extra)
        return False
    return True


def self_test():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    planted = {
        "core/model/bad_model.cpp": '#include "peft/adapter.h"\n',
        "core/store/bad_store.cpp": '#include "model/llama.h"\n',
        "core/io/bad_io.cpp": '#include "recipes/train.h"\n',
        "core/eval/bad_eval.cpp": '#include "train/trainer.h"\n',
        "core/util/bad_qt.cpp": "#include <QString>\n",
        "core/util/bad_ui.cpp": '#include "ui/main_window.h"\n',
        "core/newthing/x.cpp": '#include "util/error.h"\n',
        "core/imsm/engine.h": "#include <torch/torch.h>\n",
        "core/recipes/wrapper.h": '#include "imsm/engine.h"\n',
        "ui/bad_view.cpp": '#include "recipes/wrapper.h"\n',
        "ui/long_file.cpp": "int x;\n" * (MAX_LINES + 1),
        "core/util/long_function.cpp": "int f(int a) {\n" + "  a += 1;\n" * MAX_FUNCTION_LINES + "  return a;\n}\n"
                                       "int g(int a) {\n" + "  a += 1;\n" * (MAX_FUNCTION_LINES - 3) + "  return a;\n}\n"
                                       "int h(int a) { return a; }\nint k(int a);\n",
        "core/recipes/fine.cpp": '#include "train/trainer.h"\n#include "model/llama.h"\n',  # recipes may
        "core/gguf/fine.cpp": '#include "model/layout.h"\n',  # a single header its row allows
        "core/recipes/bad_setting.cpp": 'bool f(const C& c) { return c.variant == "none"; }\n',
        "ui/fine_view.cpp": '#include <QString>\n#include "recipes/fine.h"\n',
    }
    expected = ["bad_model.cpp:1", "bad_store.cpp:1", "bad_io.cpp:1", "bad_eval.cpp:1", "bad_qt.cpp:1",
                "bad_ui.cpp:1", "core/newthing has no row", "ui/bad_view.cpp: reaches a torch header",
                "ui/long_file.cpp: 601 lines", "bad_setting.cpp:1: compares a setting as text",
                "long_function.cpp:1: int f(int a) { is 63 lines"]
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs"))
        shutil.copy(os.path.join(here, "docs", "ARCHITECTURE.md"), os.path.join(root, "docs", "ARCHITECTURE.md"))
        plant(root, planted)
        ok = expect_found("includes", check(root, complete=False), expected)
    # The table against the tree: an allowance nothing uses and a row without sources are drift too.
    table = (TABLE_HEADING + "\n\n| folder | may include | outside | never |\n|---|---|---|---|\n"
             "| `core/util` | — | | all |\n| `core/io` | `util` | | torch |\n| `core/gone` | `util` | | x |\n")
    with tempfile.TemporaryDirectory() as root:
        plant(root, {"docs/ARCHITECTURE.md": table, "core/util/a.h": "int a;\n", "core/io/b.cpp": "int b;\n"})
        ok = expect_found("drift", check(root), ["lets core/io include core/util", "row for core/gone"]) and ok
    with tempfile.TemporaryDirectory() as root:
        plant(root, {"core/util/a.h": "int a;\n"})
        ok = expect_found("no table", check(root), ["no section"]) and ok
    if not ok:
        return 1
    print(f"house_rules self-test: all {len(expected) + 3} planted breaches found, none else")
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
