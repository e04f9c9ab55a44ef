"""The engine's Handlebars renderer (slack's templates; other destinations' names)."""

from __future__ import annotations

from typing import Any

import pytest

from transformer.mapping import HandlebarsError, render_handlebars


@pytest.mark.parametrize(("template", "context", "text"), [
    ("{{a}} {{{a}}}", {"a": "<&>"}, "&lt;&amp;&gt; <&>"),
    ("{{#each l}}{{this}}{{#unless @last}},{{/unless}}{{/each}}", {"l": [1, 2.5, "x"]}, "1,2.5,x"),
    ("{{missing}}|{{nul}}|{{z}}", {"nul": None, "z": 0}, "||0"),
    ("line{{newline}}next", {}, "line\nnext"),
    ("{{#with o}}{{k}}{{/with}}", {"o": {"k": "v"}}, "v"),
])
def test_render(template: str, context: dict[str, Any], text: str) -> None:
    """Templates render as Handlebars.compile(template)(context) does."""
    assert render_handlebars(template, context) == text


def test_a_template_renders_the_same_twice() -> None:
    """A compiled template is reused without carrying state between renders."""
    assert render_handlebars("{{a}}", {"a": 1}) == "1"
    assert render_handlebars("{{a}}", {"a": 2}) == "2"


@pytest.mark.parametrize("template", ["{{#if x}}", "{{#if x}}a{{/each}}", "{{else}}",
                                      "{{arr.0}}", "{{> partial}}", "{{foo bar}}"])
def test_errors(template: str) -> None:
    """What Handlebars refuses is a HandlebarsError."""
    with pytest.raises(HandlebarsError):
        render_handlebars(template, {})
