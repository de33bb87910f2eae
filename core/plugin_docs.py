"""Generate the reference part of ``docs/plugins.md`` from the code, so the two cannot drift.

The reference is written between ``<!-- reference:start -->`` and ``<!-- reference:end -->``;
the rest of the page is prose and left alone::

    python -m core.plugin_docs          # rewrite the block in docs/plugins.md
    python -m core.plugin_docs --check  # exit 1 if the block is out of date (what the test does)

It renders every hook spec of :mod:`core.hookspecs` (signature, first result or not, per
organisation or not, deprecations, docstring), every contribution dataclass of
:mod:`core.contributions`, and every name in ``core.plugin_api.__all__`` and
``ledger.api.__all__`` with its signature and the first paragraph of its docstring.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from core import contributions, hookspecs

START = "<!-- reference:start -->"
END = "<!-- reference:end -->"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
COMMAND = "python -m core.plugin_docs"
API_MODULES = ("core.plugin_api", "ledger.api")
"""The modules whose ``__all__`` a plugin may import (by name: core does not import the ledger)."""


# --- reStructuredText docstrings to Markdown ----------------------------------------------------


def _inline(text: str) -> str:
    """``code`` and Sphinx roles (``:class:`~a.B```) to Markdown code spans."""
    text = re.sub(r":(?:class|func|data|mod|meth|attr|exc):`~?([^`]+)`", lambda m: f"`{_role_target(m)}`", text)
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _role_target(match: re.Match[str]) -> str:
    target = match.group(1)
    return target.rsplit(".", 1)[-1] if match.group(0).split("`")[1].startswith("~") else target


def _docstring_markdown(doc: str | None) -> str:
    """A docstring as Markdown: prose paragraphs, then ``:param:`` and ``:return:`` as a list,
    ``versionadded``/``versionchanged``/``deprecated`` directives as notes."""
    lines = inspect.cleandoc(doc or "").splitlines()
    prose: list[str] = []
    fields: list[list[str]] = []  # [kind, name, text]
    notes: list[str] = []
    current: list[str] | None = None
    for line in lines:
        field = re.match(r":(param|return|returns|raises)\s*([\w.]*):\s*(.*)", line)
        directive = re.match(r"\.\. (versionadded|versionchanged|deprecated):: (\S+)\s*(.*)", line)
        if field:
            current = [field.group(1), field.group(2), field.group(3)]
            fields.append(current)
        elif directive:
            kind, version, rest = directive.groups()
            word = {"versionadded": "Added in", "versionchanged": "Changed in", "deprecated": "Deprecated in"}[kind]
            current = [f"*{word} hooks {version}.*", "", rest]
            notes.append(current)  # type: ignore[arg-type]
        elif current is not None and line.startswith(" ") and line.strip():
            current[2] = f"{current[2]} {line.strip()}".strip()
        else:
            current = None
            prose.append(line)
    out = _inline("\n".join(prose).strip()).replace("::\n", ":\n")
    if fields:
        out += "\n\n" + "\n".join(_field_line(kind, name, text) for kind, name, text in fields)
    for note in notes:
        text = f"{note[0]} {_inline(note[2])}".strip()  # type: ignore[index]
        out += f"\n\n{text}"
    return _literal_blocks(out.strip())


def _field_line(kind: str, name: str, text: str) -> str:
    if kind == "param":
        return f"- `{name}`: {_inline(text)}"
    if kind == "raises":
        return f"- raises `{name}`: {_inline(text)}"
    return f"- returns: {_inline(text)}"


def _literal_blocks(text: str) -> str:
    """Indented blocks after a paragraph ending in ``:`` (reST ``::``) become fenced code."""
    out: list[str] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("    ") and (block or (out and out[-1] == "" and len(out) > 1 and out[-2].endswith(":"))):
            block.append(line[4:])
            continue
        if block:
            out.extend(["```python" if "(" in "".join(block) else "```", *block, "```"])
            block = []
        out.append(line)
    return "\n".join(out).strip()


def _first_paragraph(doc: str | None) -> str:
    paragraph = inspect.cleandoc(doc or "").split("\n\n", 1)[0]
    return _inline(" ".join(line.strip() for line in paragraph.splitlines()))


# --- signatures ---------------------------------------------------------------------------------


def _annotation(value: Any) -> str:
    """An annotation as written (``from __future__ import annotations``) or, when evaluated,
    with the module paths left out."""
    if value is inspect.Parameter.empty:
        return ""
    if isinstance(value, str):
        return value
    return re.sub(r"\b(?:[a-z_][\w]*\.)+(?=[A-Za-z_])", "", inspect.formatannotation(value))


def _default(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    text = repr(value)
    return "…" if " at 0x" in text or len(text) > 60 else text


def _signature(obj: Callable[..., Any]) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(…)"
    parts: list[str] = []
    star_done = False
    for parameter in signature.parameters.values():
        if parameter.name.startswith("_"):
            continue  # core's own use (``post(_reverses_id=...)``), not part of the API
        if parameter.kind is parameter.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        prefix = {parameter.VAR_POSITIONAL: "*", parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "")
        star_done = star_done or parameter.kind is parameter.VAR_POSITIONAL
        text = prefix + parameter.name
        if parameter.annotation is not parameter.empty:
            text += f": {_annotation(parameter.annotation)}"
        if parameter.default is not parameter.empty:
            text += f" = {_default(parameter.default)}"
        parts.append(text)
    returns = "" if inspect.isclass(obj) else _annotation(signature.return_annotation)
    return f"({', '.join(parts)})" + (f" -> {returns}" if returns else "")


# --- where a re-exported name comes from, and attribute docstrings -------------------------------


def _imported_from(module: ModuleType) -> dict[str, str]:
    """``{name: module it is imported from}`` for a re-exporting module, read from its source."""
    tree = ast.parse(Path(module.__file__ or "").read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = node.module
    return found


def _attribute_docstring(module_name: str, name: str) -> str | None:
    """The string literal right after ``name = ...`` at the top level of ``module_name``."""
    module = sys.modules[module_name]
    body = ast.parse(Path(module.__file__ or "").read_text()).body
    for node, following in zip(body, body[1:]):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                return str(following.value.value)
    return None


def _is_routine(obj: object) -> bool:
    return inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.ismethod(obj)


def public_names(module: ModuleType) -> Iterator[tuple[str, str, str]]:
    """``(name, heading, first docstring paragraph)`` for each name of ``module.__all__``, sorted."""
    sources = _imported_from(module)
    for name in sorted(module.__all__, key=str.lower):
        obj = getattr(module, name)
        source = sources.get(name, module.__name__)
        if inspect.isclass(obj):
            kind = "enum" if issubclass(obj, enum.Enum) else "exception" if issubclass(obj, Exception) else "class"
            if dataclasses.is_dataclass(obj) and obj.__module__ != contributions.__name__:
                heading, doc = f"class `{name}{_signature(obj)}`", obj.__doc__
            else:
                heading, doc = f"{kind} `{name}`", obj.__doc__
        elif _is_routine(obj):
            heading, doc = f"`{name}{_signature(obj)}`", obj.__doc__
        else:
            doc = _attribute_docstring(source, name)
            heading = f"`{name}`"
        yield name, heading, _first_paragraph(doc)


# --- the reference ------------------------------------------------------------------------------


def hook_specs() -> list[Callable[..., Any]]:
    """The hook specs of :mod:`core.hookspecs` in the order they are written."""
    marker = f"{contributions.PROJECT}_spec"
    specs = [obj for obj in vars(hookspecs).values() if inspect.isfunction(obj) and hasattr(obj, marker)]
    return sorted(specs, key=lambda fn: fn.__code__.co_firstlineno)


def _hook_section(spec: Callable[..., Any]) -> str:
    opts = getattr(spec, f"{contributions.PROJECT}_spec")
    first = ("yes: the first non-`None` answer is the result" if opts.get("firstresult")
             else "no: the result is the list of every module's answer")
    per_org = ("yes: only core and the modules the organisation enabled are called"
               if spec.__name__ in hookspecs.PER_ORGANISATION else "no: every loaded module is called")
    lines = [f"#### `{spec.__name__}`", "", "```python", f"def {spec.__name__}{_signature(spec)}", "```", "",
             f"- first result: {first}", f"- per organisation: {per_org}", ""]
    if opts.get("warn_on_impl"):
        lines += [f"**Deprecated:** {opts['warn_on_impl']}", ""]
    for argument, warning in sorted((opts.get("warn_on_impl_args") or {}).items()):
        lines += [f"**Deprecated argument `{argument}`:** {warning}", ""]
    lines += [_docstring_markdown(spec.__doc__), ""]
    return "\n".join(lines)


def _contribution_section(cls: type) -> str:
    lines = [f"#### `{cls.__name__}`", "", _docstring_markdown(cls.__doc__), "", "| field | type | default |", "|---|---|---|"]
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f"`{_default(f.default)}`"
        elif f.default_factory is not dataclasses.MISSING:
            default = "(computed)"
        else:
            default = "required"
        lines.append(f"| `{f.name}` | `{_annotation(f.type).replace('|', '&#124;')}` | {default} |")
    return "\n".join(lines) + "\n"


def render_reference() -> str:
    """The Markdown of the reference block (without the markers)."""
    contribution_classes = sorted(
        (obj for obj in vars(contributions).values()
         if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and obj.__module__ == contributions.__name__),
        key=lambda cls: inspect.getsourcelines(cls)[1],
    )
    parts = [
        f"*Generated by `{COMMAND}` from the code; do not edit by hand.*",
        "",
        f"### Hooks (`core.hookspecs`, hooks {hookspecs.HOOKS_VERSION})",
        "",
        _first_paragraph(hookspecs.__doc__),
        "",
        *(_hook_section(spec) for spec in hook_specs()),
        "### Contributions (`core.plugin_api`)",
        "",
        "The frozen dataclasses hooks return.",
        "",
        *(_contribution_section(cls) for cls in contribution_classes),
    ]
    for module in map(importlib.import_module, API_MODULES):
        parts += [f"### `{module.__name__}`", "", _first_paragraph(module.__doc__), ""]
        parts += [f"- {heading}: {doc}" if doc else f"- {heading}" for _, heading, doc in public_names(module)]
        parts.append("")
    return "\n".join(parts).strip() + "\n"


def update(text: str, reference: str | None = None) -> str:
    """``text`` (the page) with the block between the markers replaced by the reference."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"the page needs one {START} before one {END}")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{reference or render_reference()}{END}{after}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the reference in docs/plugins.md, or with ``--check`` say whether it is current."""
    args = sys.argv[1:] if argv is None else argv
    text = DOCS.read_text(encoding="utf-8")
    new = update(text)
    if "--check" in args:
        if new != text:
            print(f"{DOCS} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        DOCS.write_text(new, encoding="utf-8")
        print(f"updated {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
