"""``{% field_input bound_field %}``: a text input or select drawn straight from a bound field.

The ranges builder has hundreds of small inputs (XGBoost: 46 rows of 5); Django's widget
templates cost a template render per input and per option, most of the page's time. This draws
the same HTML (name, id, value, the widget's attributes, ``aria-invalid``) in Python.
"""

from __future__ import annotations

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def field_input(field: forms.BoundField) -> SafeString:
    attrs = {**field.field.widget.attrs, "name": field.html_name, "id": field.auto_id}
    if field.errors:
        attrs["aria-invalid"] = "true"
    if field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_helptext"
    value = field.value()
    text = "" if value is None else str(value)
    if isinstance(field.field, forms.ChoiceField):
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, " selected" if str(choice) == text else "", label)
                for choice, label in field.field.choices
            ),
        )
        return format_html("<select{}>{}</select>", _attributes(attrs), options)
    return format_html('<input type="text"{} value="{}">', _attributes(attrs), text)


def _attributes(attrs: dict) -> SafeString:
    return format_html_join(
        "",
        ' {}="{}"',
        ((key, value) for key, value in attrs.items() if value not in (None, False, True)),
    ) + format_html_join("", " {}", ((key,) for key, value in attrs.items() if value is True))
