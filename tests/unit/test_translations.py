"""The Welsh catalogue is complete and current: every string the code and the templates show
has a Welsh translation (not empty, not fuzzy), none is left over from removed code, and the
committed .mo is the .po compiled. `make translations` fixes what it can; a translator does
the rest."""

from __future__ import annotations

import copy
import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("translations", ROOT / "deploy/translations.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("translations", module)
    spec.loader.exec_module(module)
    module.extract = functools.cache(module.extract)  # one extraction for the whole module
    return module


def test_every_string_has_a_welsh_translation_and_the_catalogue_is_current() -> None:
    tool = _tool()
    found = tool.problems(tool.extract(), tool.load())
    assert found == [], "\n".join(found)


def test_the_check_fails_on_a_new_string_an_empty_or_fuzzy_one_and_a_stale_one() -> None:
    tool = _tool()
    template = copy.deepcopy(tool.extract())
    catalog = tool.load()
    template.add("A string added without a translation")
    catalog.add("A string the code no longer has", "Llinyn")
    some = next(m for m in catalog if m.id and isinstance(m.id, str) and m.id != "Home")
    some.string = ""
    catalog["Home"].flags.add("fuzzy")
    found = "\n".join(tool.problems(template, catalog))
    assert "missing from the Welsh catalogue: 'A string added without a translation'" in found
    assert f"not translated: {some.id!r}" in found
    assert "fuzzy (check and unmark): 'Home'" in found
    assert "no longer in the code (run make translations): 'A string the code no longer has'" in (
        found
    )
    assert "messages.po is not in the form make translations writes" in found


def test_placeholders_must_match_between_english_and_welsh() -> None:
    tool = _tool()
    catalog = tool.load()
    template = Catalog()
    for message in catalog:
        if message.id:
            template.add(message.id)
    catalog["Hello, %(name)s"].string = "Helo, %(enw)s"
    found = "\n".join(tool.problems(template, catalog))
    assert "'Hello, %(name)s'" in found, found


def test_templates_and_code_are_extracted() -> None:
    ids = {m.id for m in _tool().extract() if isinstance(m.id, str)}
    assert "Skip to main content" in ids  # base.html
    assert "due today" in ids  # presenters.py
    assert "Choose a language" in ids  # the switch
