"""The Welsh catalogue: extract every string from the code and templates, update
shared/translations/cy/LC_MESSAGES/messages.po, and compile messages.mo.

    python deploy/translations.py           # extract + update + compile (`make translations`)
    python deploy/translations.py --check   # exit 1 listing what is missing, empty, fuzzy,
                                            # stale or uncompiled (tests/unit/test_translations.py)

The .po is written sorted by msgid, without source locations and with a fixed header date, so
two branches that add strings in different places merge as two separate hunks. New strings
arrive with an empty msgstr (no fuzzy guessing): translate them, then run it again to compile.
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "shared/translations/cy/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# Only the header fields that say what the catalogue is: no dates that change on every run.
FIXED_DATE = datetime(2026, 12, 1, tzinfo=UTC)


def extract() -> Catalog:
    """Every msgid in the code and the templates, as babel.cfg maps them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(project="Bridges", creation_date=FIXED_DATE, fuzzy=False)
    for _, _, message, _, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, context=context)
    return template


def load() -> Catalog:
    with PO.open("rb") as handle:
        return read_po(handle, locale="cy")


def dump_po(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, sort_output=True, omit_header=False, no_location=True, width=100)
    return out.getvalue()


def dump_mo(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def _key(message_id: object) -> str:
    return message_id if isinstance(message_id, str) else str(tuple(message_id))  # type: ignore[arg-type]


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    found = []
    wanted = {_key(m.id) for m in template if m.id}
    have = {_key(m.id): m for m in catalog if m.id}
    for key in sorted(wanted):
        message = have.get(key)
        strings = (
            []
            if message is None
            else (list(message.string) if isinstance(message.string, tuple) else [message.string])
        )
        if message is None:
            found.append(f"missing from the Welsh catalogue: {key!r}")
        elif message.fuzzy:
            found.append(f"fuzzy (check and unmark): {key!r}")
        elif not all(strings):
            found.append(f"not translated: {key!r}")
    for key in sorted(set(have) - wanted):
        found.append(f"no longer in the code (run make translations): {key!r}")
    for message, errors in catalog.check():
        for error in errors:
            found.append(f"{_key(message.id)!r}: {error}")
    if dump_po(catalog) != PO.read_bytes():
        found.append("messages.po is not in the form make translations writes: run it")
    if not MO.exists() or dump_mo(catalog) != MO.read_bytes():
        found.append("messages.mo is out of date with messages.po: run make translations")
    return found


def update() -> Catalog:
    template = extract()
    catalog = load() if PO.exists() else Catalog(locale="cy", project="Bridges")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.creation_date = FIXED_DATE
    catalog.revision_date = FIXED_DATE
    catalog.project, catalog.version = "Bridges", "1"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "Bridges"
    catalog.language_team = "Cymraeg"
    catalog.copyright_holder = "Bridges"
    catalog.fuzzy = False
    catalog.header_comment = (
        "# Welsh (Cymraeg) messages of Bridges: `make translations` refreshes it."
    )
    PO.parent.mkdir(parents=True, exist_ok=True)
    PO.write_bytes(dump_po(catalog))
    catalog = load()
    MO.write_bytes(dump_mo(catalog))
    return catalog


def main(argv: list[str]) -> int:
    if "--check" in argv:
        found = problems(extract(), load())
        for line in found:
            print(line)
        return 1 if found else 0
    catalog = update()
    untranslated = [m.id for m in catalog if m.id and not m.string]
    print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages, {len(untranslated)} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
