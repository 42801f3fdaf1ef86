"""The Jinja2 pages riskplan writes (the report, the public page), in the reader's language.

One environment for both, so every template gets the same gettext (`{{ _("...") }}`,
`{% trans %}`) from riskplan's catalogs and the same escaping.
"""

from __future__ import annotations

import jinja2

from riskplan.i18n import _, get_language, ngettext


def template_environment() -> jinja2.Environment:
    """Jinja2 with the i18n extension and riskplan's catalogs, looked up at render time."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("riskplan", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), keep_trailing_newline=True,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=True)
    return env


def html_lang() -> str:
    """The `lang` attribute of a page in the current language (browsers pick fonts by it)."""
    return "zh-CN" if get_language() == "zh" else "en"
