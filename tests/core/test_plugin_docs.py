"""The hook reference in docs/plugins.md is generated from the code (``python -m core.plugin_docs``)
and cannot drift from it: these tests fail when the page is out of date, and say how to fix it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from core import hookspecs, plugin_docs
from core.plugin_docs import API_MODULES, COMMAND, END, START, hook_specs, public_names, update


def test_the_reference_in_docs_plugins_md_is_generated_from_the_code() -> None:
    text = plugin_docs.DOCS.read_text(encoding="utf-8")
    assert update(text) == text, f"docs/plugins.md's hook reference is out of date: run `{COMMAND}`"


def test_every_hook_is_documented_with_its_version() -> None:
    specs = hook_specs()
    assert {"register_module", "register_case_tabs", "on_event_recorded", "load_demo_data"} <= {s.__name__ for s in specs}
    reference = plugin_docs.render_reference()
    for spec in specs:
        assert (spec.__doc__ or "").strip(), f"hook {spec.__name__} has no docstring"
        assert ".. versionadded::" in spec.__doc__, f"hook {spec.__name__} does not say when it was added"
        assert f"#### `{spec.__name__}`" in reference
    assert hookspecs.PER_ORGANISATION <= {s.__name__ for s in specs}


@pytest.mark.parametrize("module_name", API_MODULES)
def test_every_public_name_has_a_docstring(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert len(set(module.__all__)) == len(module.__all__)
    undocumented = [name for name, _, doc in public_names(module) if not doc]
    assert not undocumented, f"{module_name}: give these a docstring (or an attribute docstring): {undocumented}"


def test_the_generator_replaces_only_the_marked_block() -> None:
    page = f"# Title\n\nprose\n\n{START}\nold\n{END}\n\n## After\n"
    assert update(page, "new\n") == f"# Title\n\nprose\n\n{START}\nnew\n{END}\n\n## After\n"
    with pytest.raises(ValueError):
        update("no markers", "new\n")


def test_check_mode_names_the_command_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "plugins.md"
    page.write_text(f"intro\n{START}\nstale\n{END}\n", encoding="utf-8")
    monkeypatch.setattr(plugin_docs, "DOCS", page)
    assert plugin_docs.main(["--check"]) == 1
    assert COMMAND in capsys.readouterr().err
    assert plugin_docs.main([]) == 0
    assert plugin_docs.main(["--check"]) == 0
    assert page.read_text(encoding="utf-8").startswith("intro\n")


def test_docstrings_become_markdown() -> None:
    text = plugin_docs._docstring_markdown(
        """Do it with :class:`~core.plugin_api.Module` and ``code``.

        :param case: the case
            being shown.
        :return: a list.

        .. versionadded:: 0.2
        """
    )
    assert text == "Do it with `Module` and `code`.\n\n- `case`: the case being shown.\n- returns: a list.\n\n*Added in hooks 0.2.*"
