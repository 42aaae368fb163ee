#!/usr/bin/env python3
"""Print the project's import graph between apps and check the house's floors.

Usage: python scripts/import_graph.py [--modules]

It reads the source with `ast` (nothing is imported or run), so it works on any
checkout. Rules checked (STYLE.md, "Floors"):

- the catalogue (`marketplace`) imports none of versions, reviews, upgrades, mirror, storefront;
- `core` imports no app;
- no selector module imports a service module;
- `versions` imports `upgrades` only in its publish hook (`versions/hooks.py`);
- nothing but Django imports `config`;
- no module-level import cycle between modules;
- no file named like a suffix of a layer (`views_*.py`, `*_selectors.py`, `api_*.py`, ...).

Exits 1 when a rule is broken, so it can run in the test suite.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["core", "accounts", "marketplace", "versions", "reviews", "upgrades", "mirror", "storefront", "demo", "config"]
# Which app may import which (transitively lower floors); anything not listed is an upward import.
ALLOWED = {
    "core": set(),
    # People (profiles, tokens, the verified-address and two-factor rules): just above core.
    "accounts": {"core"},
    "marketplace": {"core", "accounts"},
    "versions": {"core", "accounts", "marketplace"},
    "reviews": {"core", "accounts", "marketplace", "versions"},
    "upgrades": {"core", "accounts", "marketplace", "versions"},
    "mirror": {"core", "accounts", "marketplace", "versions", "upgrades"},
    "storefront": {"core", "accounts", "marketplace", "versions", "upgrades"},
    # Project wiring: the demo data and config may import every app.
    "demo": set(APPS) - {"config", "demo"},
    "config": set(APPS),
}
# The one documented upward link, versions/hooks.py: a published version starts its rollout
# (upgrades), and a review decision e-mails the vendor (reviews: its task and e-mail).
HOOKS = {("versions", "upgrades"): {"versions.hooks"}, ("versions", "reviews"): {"versions.hooks"}}
BAD_NAME = re.compile(
    r"^(views|api|models|selectors|services|forms|admin|urls)_\w+\.py$|^\w+_(selectors|views|services)\.py$|^beta_\w+\.py$|^\w+_beta\.py$"
)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def iter_modules():
    for app in APPS:
        base = ROOT / app
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield path


def imports_of(path: Path, modname: str):
    """Yield (imported module, is_module_level) for first-party imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    module_level_nodes = set()
    for node in tree.body:
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
            module_level_nodes.add(id(sub))
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = modname.split(".") if is_pkg else modname.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            if target.split(".")[0] in APPS:
                yield target, id(node) in module_level_nodes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", action="store_true", help="print module-level edges too")
    args = parser.parse_args()

    modules = {module_name(p): p for p in iter_modules()}
    edges = defaultdict(set)  # module -> modules (module level only, for cycles)
    app_edges = defaultdict(lambda: defaultdict(int))
    problems = []
    for name, path in modules.items():
        app = name.split(".")[0]
        for target, module_level in imports_of(path, name):
            # Resolve "pkg.attr" to the longest known module.
            resolved = target
            while resolved and resolved not in modules:
                resolved = resolved.rpartition(".")[0]
            if not resolved:
                continue
            tapp = resolved.split(".")[0]
            if module_level and resolved != name:
                edges[name].add(resolved)
            if tapp == app:
                if ".selectors" in name and ".services" in resolved:
                    problems.append(f"selector imports a service: {name} -> {resolved}")
                continue
            app_edges[app][tapp] += 1
            if tapp == "config" and app != "config":
                problems.append(f"imports config: {name} -> {resolved}")
            elif tapp not in ALLOWED.get(app, set()) and name not in HOOKS.get((app, tapp), set()):
                problems.append(f"upward import: {name} -> {resolved}")
            if ".selectors" in name and ".services" in resolved:
                problems.append(f"selector imports a service: {name} -> {resolved}")
    for path in modules.values():
        if BAD_NAME.match(path.name) and path.name not in {"admin.py"}:
            problems.append(f"file named by suffix, not by subject: {path.relative_to(ROOT)}")

    # Module-level cycles (Tarjan's strongly connected components).
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []
    counter = [0]

    def strongconnect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(modules):
        if v not in index:
            strongconnect(v)
    for comp in sccs:
        # A package importing its own submodules in __init__ is not a cycle worth reporting
        # unless a submodule imports the package back for something else; report all, plainly.
        problems.append("module-level import cycle: " + " -> ".join(comp))

    print("App import graph (importer -> imported: number of import statements)")
    for app in APPS:
        if app_edges.get(app):
            targets = ", ".join(f"{t}: {n}" for t, n in sorted(app_edges[app].items()))
            print(f"  {app:12} -> {targets}")
    if args.modules:
        print("\nModule-level edges")
        for name in sorted(edges):
            for target in sorted(edges[name]):
                print(f"  {name} -> {target}")
    print()
    problems = list(dict.fromkeys(problems))
    if problems:
        print(f"{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    print("ok: every import runs downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
