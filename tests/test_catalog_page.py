"""docs/destinations.md is generated from the definitions and stays in step with them."""

from __future__ import annotations

from pathlib import Path

from transformer._catalog import load_catalog
from transformer._catalog_page import README_END, README_START, readme_table, render

DOC = Path(__file__).resolve().parent.parent / "docs" / "destinations.md"


def test_page_has_a_row_and_a_section_per_destination() -> None:
    """Every destination gets a table row and a section naming its definition and events."""
    catalog = load_catalog()
    page = render(catalog, {"webhook": {"cases": 3, "strict": 2, "semantic": 3}})
    for name, dest in catalog.destinations.items():
        assert f"| `{name}` |" in page
        assert f"## {name}\n" in page
        assert f"`{dest.definition_name}`" in page
    assert "3/3 semantic, 2/3 strict" in page


def test_checked_in_page_lists_every_destination() -> None:
    """The committed page was regenerated after the last destination was added."""
    text = DOC.read_text()
    missing = [name for name in load_catalog().destinations if f"## {name}\n" not in text]
    assert not missing, f"run `transformer catalog > docs/destinations.md` (missing: {missing})"


README = DOC.parent.parent / "README.md"


def test_readme_table_has_a_row_per_destination() -> None:
    """The README table names each destination with its event types and batching."""
    catalog = load_catalog()
    table = readme_table(catalog)
    assert table.startswith(README_START) and table.rstrip().endswith(README_END)
    for name in catalog.destinations:
        assert f"| `{name}` |" in table
    assert "| `mp` | track, page, alias, identify, group, screen | batched, up to 2000 events |" in table


def test_checked_in_readme_table_is_current() -> None:
    """README.md's table is what `transformer catalog --readme-table` prints now."""
    text = README.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    assert text[start:end] + "\n" == readme_table(load_catalog()), (
        "regenerate README.md's destination table with `transformer catalog --readme-table`")
