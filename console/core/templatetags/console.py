"""Template helpers of every console page: ``{% paginate items as page %}`` for a list a view
hands over whole, ``{{ time|when }}`` (to the second), ``{{ delta|span }}``, ``{{ job|elapsed }}``.
"""

from django import template

from console.core import display, paging

register = template.Library()


@register.simple_tag(takes_context=True)
def paginate(context, items, size=None):
    """The page of ``items`` the request's ``?page=`` asks for (a ``console.core.paging.Page``)."""
    return paging.page_of(items, query=context["request"].GET, size=size)


register.filter("when", display.when)
register.filter("span", display.span)


@register.filter
def elapsed(job) -> str:
    return display.span(display.duration(job))
