"""The templates' ``_()`` and ``ngettext()``: Jinja's new-style gettext, answered faster."""

from __future__ import annotations

import pytest
from jinja2 import Environment, StrictUndefined

from flywheel.kit import i18n
from flywheel.web.pages import templates


def render(source: str, language: str, **values: object) -> str:
    with i18n.use_language(language):
        return templates.from_string(source).render(**values)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh", "客户 · 年利率（%） · 截至 &lt;b&gt;"),
        ("en", "Customers · Annual interest (%) · as of &lt;b&gt;"),
    ],
)
def test_translates_formats_and_escapes_the_values(language: str, expected: str) -> None:
    source = (
        '{{ _("Customers") }} · {{ _("Annual interest (%%)") }} · {{ _("as of %(day)s", day=day) }}'
    )

    # Twice: the second answer comes from the kept translations.
    assert render(source, language, day="<b>") == expected
    assert render(source, language, day="<b>") == expected


def test_the_same_text_as_jinjas_own_new_style_gettext_inside_loops() -> None:
    own = Environment(extensions=["jinja2.ext.i18n"], autoescape=True, undefined=StrictUndefined)
    own.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    source = (
        "{% for n in counts %}{{ _('Customers') }} {{ _('as of %(day)s', day=day) }} "
        "{{ ngettext('%(num)s day', '%(num)s days', n) }};{% endfor %}"
    )
    values = {"counts": [1, 2, 30], "day": "A & B"}
    for language in ("zh", "en"):
        with i18n.use_language(language):
            expected = own.from_string(source).render(**values)
            assert templates.from_string(source).render(**values) == expected
    # The last language's text: the plural forms and the escaped value are there.
    assert "1 day;" in expected
    assert "30 days;" in expected
    assert "A &amp; B" in expected


def test_plain_text_templates_get_plain_text() -> None:
    plain = templates.overlay(autoescape=False)

    with i18n.use_language("en"):
        text = plain.from_string("{{ _('as of %(day)s', day=day) }}").render(day="A & B")

    assert text == "as of A & B"
