"""Article links that are not plain links, and links that change from page to page.

Many government boards (eGovFrame above all) link their articles as
``javascript:fn_egov_inqire_notice('BBSMSTR_000000000101', '123')`` or ``onclick="fnView('123')"``:
the function fills a hidden form and submits it, or sets ``location.href``. The address is
worked out here from the page's own script and form, the way a browser would build it:

* the function's definition is found in the page's scripts and read for what it does with its
  arguments: ``document.frm.nttId.value = nttId`` (a form field), ``frm.action = "..."`` (where
  the form goes), ``location.href = "view.do?idx=" + idx`` (a plain address);
* the form's own hidden fields are added (``bbsId``, ``menuNo``); its paging and search state
  (``pageIndex``, an empty ``searchWrd``) is not, so one article has one address;
* the result is a ``link_pattern`` that picks the call's arguments apart and a
  ``link_template`` that puts them into the address (a GET of the same fields the form posts;
  detection then fetches a few of these addresses to check they open the article).

Plain links can carry the list page they were found on (Gnuboard's ``&page=2``, XE's
``&page=2``): the same article would then get a new address on every page and be stored twice.
Such a parameter is left out the same way, through a pattern and template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

from feedkit.ingest.html_source import is_address

_CALL = re.compile(r"([A-Za-z_$][\w$.]*)\s*\(([^()]*)\)")
# One argument of a call, quoted or not: the quotes and spaces around it are skipped (\W*), so
# the pattern reads the same for fn('1', "2") and fn(1,2) and stays free of quote characters.
_ARG = r"\W*([\w.:/@-]*)\W*"
_PAGE_NAME = re.compile(r"^(?:page|pages|pageindex|pageno|page_no|pagenum|pagenumber|cpage|"
                        r"curpage|currentpage|nowpage|pg|movepage|startpage|gotopage|p)$", re.I)
_STATE_NAME = re.compile(r"^(?:search\w*|sfl|stx|sca|sop|spt|sst|sod|keyword|kwd|query|q|"
                         r"sch\w*|order\w*|sort\w*|listcnt|pagesize|recordcountperpage)$", re.I)


@dataclass
class LinkPlan:
    pattern: str = ""
    template: str = ""
    how: str = ""                 # for the block's comment


_SCRIPT = re.compile(r"^\s*(?:return\s+)?[A-Za-z_$][\w$.]*\s*\(")


def is_plain(value: str) -> bool:
    """An address (not "#", not javascript:, not an onclick's script)."""
    return is_address(value) and not _SCRIPT.match(value)


def raw_link(el: Any) -> str:
    """What a link element links to: its href when that is an address, else its onclick (a
    "#none" href with onclick="fnView('123')"), else whatever href it has."""
    href = el.get("href") or ""
    if is_plain(href) or href.strip().lower().startswith("javascript:"):
        return href
    return el.get("onclick") or href


def page_state(name: str, value: str, page_param: str = "") -> bool:
    """A query parameter that says where the list was, not which article: the page number, and
    empty search fields."""
    if name == page_param or (_PAGE_NAME.match(name) and value.isdigit()):
        return True
    return bool(_STATE_NAME.match(name)) and not value.strip()


# ---------------------------------------------------------------------------------------------
# javascript: links


def call_of(value: str) -> tuple[str, list[str]] | None:
    """``("fn_view", ["BBS1", "123"])`` for ``javascript:fn_view('BBS1', '123');``."""
    m = _CALL.search(value or "")
    if not m:
        return None
    args = [a.strip().strip("'\"") for a in _split_args(m.group(2))] if m.group(2).strip() else []
    return m.group(1), args


def _split_args(text: str) -> list[str]:
    out, cur, quote_char = [], "", ""
    for ch in text:
        if quote_char:
            cur += ch
            if ch == quote_char:
                quote_char = ""
        elif ch in "'\"":
            quote_char = ch
            cur += ch
        elif ch == ",":
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def function_body(scripts: str, name: str) -> tuple[list[str], str] | None:
    """The parameter names and body of function ``name`` in the page's scripts."""
    short = re.escape(name.split(".")[-1])
    m = re.search(rf"function\s+{short}\s*\(([^)]*)\)\s*{{", scripts) or re.search(
        rf"\b{short}\s*[:=]\s*function\s*\(([^)]*)\)\s*{{", scripts)
    if not m:
        return None
    depth, i = 1, m.end()
    while i < len(scripts) and depth:
        if scripts[i] == "{":
            depth += 1
        elif scripts[i] == "}":
            depth -= 1
        i += 1
    params = [p.strip() for p in m.group(1).split(",") if p.strip()]
    return params, scripts[m.end():i - 1]


_STRING = r"""(?:'[^'\n]*'|"[^"\n]*")"""
_EXPR = rf"""((?:\s*(?:{_STRING}|[\w$.]+(?:\([\w$.]*\))?)\s*\+?)+)"""


def expression(text: str, params: list[str]) -> str | None:
    """A string expression (``"view.do?id=" + id``) with the function's parameters as ``{1}``,
    ``{2}``; None when it uses anything else (a variable, a call) that cannot be known here."""
    out = ""
    for part in re.split(r"\+", text):
        part = part.strip().rstrip(";").strip()
        if not part:
            continue
        m = re.fullmatch(r"(?:encodeURIComponent|escape|encodeURI)\((\w+)\)", part)
        if m:
            part = m.group(1)
        if part[:1] in "'\"" and part[-1:] == part[:1]:
            out += part[1:-1].replace("{", "{{").replace("}", "}}")
        elif part in params:
            out += "{" + str(params.index(part) + 1) + "}"
        else:
            return None
    return out


def _forms_by(doc: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    names, ids = {}, {}
    for form in doc.iter("form"):
        if form.get("name"):
            names.setdefault(form.get("name"), form)
        if form.get("id"):
            ids.setdefault(form.get("id"), form)
    return names, ids


def _form_ref(text: str, aliases: dict[str, Any], names: dict[str, Any],
              ids: dict[str, Any], doc: Any) -> Any | None:
    text = text.strip()
    if text in aliases:
        return aliases[text]
    m = re.fullmatch(r"document\.(?:forms\.)?(\w+)", text) or re.fullmatch(
        r"""document\.forms\[\s*['"](\w+)['"]\s*\]""", text)
    if m:
        return _either(names, ids, m.group(1))
    m = re.fullmatch(r"document\.forms\[\s*(\d+)\s*\]", text)
    if m:
        forms = list(doc.iter("form"))
        return forms[int(m.group(1))] if int(m.group(1)) < len(forms) else None
    m = re.fullmatch(r"""(?:document\.getElementById|document\.querySelector|\$|jQuery)\(\s*"""
                     r"""['"]#?([\w-]+)['"]\s*\)(?:\[0\])?""", text)
    if m:
        return _either(ids, names, m.group(1))
    m = re.fullmatch(r"""(?:\$|jQuery|document\.querySelector)\(\s*['"]form\[name=['"]?(\w+)"""
                     r"""['"]?\]['"]\s*\)""", text)
    if m:
        return names.get(m.group(1))
    return None


def _either(first: dict[str, Any], second: dict[str, Any], key: str) -> Any | None:
    found = first.get(key)
    return found if found is not None else second.get(key)


def _field_form(doc: Any, ident: str) -> tuple[Any, str] | None:
    """The form and field name of the input whose id or name is ``ident``."""
    for el in doc.iter("input", "select", "textarea"):
        if el.get("id") == ident or el.get("name") == ident:
            form = next((a for a in el.iterancestors("form")), None)
            return form, el.get("name") or ident
    return None


def resolve_function(doc: Any, scripts: str, name: str, page_url: str) -> tuple[str, str] | None:
    """(URL template with ``{1}``, ``{2}`` for the arguments, what it does) for the function
    ``name`` a link calls; None when its body does something detection cannot follow."""
    found = function_body(scripts, name)
    if found is None:
        return None
    params, body = found
    statements = []
    for st in (s.strip() for s in re.split(r";|\n", body)):
        # $('#frm').attr('action', 'view.do').submit(): set the action, then submit.
        if st.endswith(".submit()") and st[: -len(".submit()")].endswith(")"):
            head = st[: -len(".submit()")]
            target = re.match(r"(.+?\))\.(?:attr|prop)\(", head)
            statements += [head, f"{target.group(1) if target else head}.submit()"]
        elif st:
            statements.append(st)
    names, ids = _forms_by(doc)
    aliases: dict[str, Any] = {}
    fields: dict[tuple[Any, str], str] = {}     # (form, field) -> value template
    action: dict[Any, str] = {}
    submitted = None
    for st in statements:
        m = re.fullmatch(r"(?:var|let|const)?\s*(\w+)\s*=\s*(.+)", st)
        if m and not re.search(r"\.(?:value|action)\s*$", m.group(1)):
            form = _form_ref(m.group(2), aliases, names, ids, doc)
            if form is not None:
                aliases[m.group(1)] = form
                continue
        m = re.fullmatch(rf"(?:window\.|document\.)?location(?:\.href)?\s*=\s*{_EXPR}", st) or \
            re.fullmatch(rf"(?:window\.|document\.)?location\.(?:replace|assign)\(\s*{_EXPR}\)",
                         st)
        if m:
            url = expression(m.group(1), params)
            return (urljoin(page_url, url), "sets location.href") if url is not None else None
        m = re.fullmatch(r"(.+?)\.(\w+)\.value\s*=\s*(.+)", st) or re.fullmatch(
            r"""(.+?)\[\s*['"](\w+)['"]\s*\]\.value\s*=\s*(.+)""", st)
        if m:
            form = _form_ref(m.group(1), aliases, names, ids, doc)
            if form is None:
                continue
            value = expression(m.group(3), params)
            if value is None:
                return None
            fields[(form, m.group(2))] = value
            continue
        m = re.fullmatch(r"""(?:document\.getElementById|\$|jQuery)\(\s*['"]#?([\w-]+)['"]\s*\)"""
                         r"""(?:\.value\s*=\s*(.+)|\.val\((.+)\))""", st)
        if m:
            where = _field_form(doc, m.group(1))
            value = expression(m.group(2) or m.group(3), params)
            if where is None or where[0] is None or value is None:
                return None
            fields[(where[0], where[1])] = value
            continue
        m = re.fullmatch(r"(.+?)\.action\s*=\s*(.+)", st) or re.fullmatch(
            r"""(.+?)\.(?:attr|setAttribute)\(\s*['"]action['"]\s*,\s*(.+)\)""", st)
        if m:
            form = _form_ref(m.group(1), aliases, names, ids, doc)
            value = expression(m.group(2), params)
            if form is None or value is None:
                return None
            action[form] = value
            continue
        m = re.fullmatch(r"(.+?)\.submit\(\)", st)
        if m:
            submitted = _form_ref(m.group(1), aliases, names, ids, doc)
    if submitted is None:
        return None
    return _form_url(submitted, fields, action, page_url), f"submits form {_form_name(submitted)}"


def _form_name(form: Any) -> str:
    return form.get("name") or form.get("id") or "form"


def _form_url(form: Any, fields: dict[tuple[Any, str], str], action: dict[Any, str],
              page_url: str) -> str:
    """The GET address with the form's fields: its hidden inputs (page and search state left
    out) with the function's values over them."""
    target = action.get(form) or form.get("action") or page_url
    base = urljoin(page_url, target.split("?")[0])
    query: list[tuple[str, str]] = []
    set_here = {name: value for (owner, name), value in fields.items() if owner is form}
    for el in form.iter("input"):
        name = el.get("name")
        if not name or (el.get("type") or "text").lower() not in ("hidden",):
            continue
        if name in set_here:
            query.append((name, set_here.pop(name)))
        elif not page_state(name, el.get("value") or "") and (el.get("value") or "").strip():
            query.append((name, _q(el.get("value") or "")))
    query += list(set_here.items())
    query = [(k, v) for k, v in query if not (page_state(k, v) and "{" not in v)]
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


def _q(value: str) -> str:
    return quote(value, safe="-_.~").replace("{", "{{").replace("}", "}}")


def call_pattern(name: str, nargs: int) -> str:
    return re.escape(name) + r"\(" + ",".join([_ARG] * nargs) + r"\)"


# ---------------------------------------------------------------------------------------------
# Plan


def plan(doc: Any, page_url: str, values: list[str], scripts: str,
         page_param: str = "") -> LinkPlan | None:
    """How to get each row's article address from its raw link ``values`` (href or onclick):
    an empty plan when they are plain and stable, a pattern and template when they need one,
    None when they cannot be followed."""
    if values and all(is_plain(v) for v in values):
        return _plain_plan(values, page_url, page_param)
    calls = [call_of(v) for v in values]
    if not all(calls) or len({c[0] for c in calls if c}) != 1:
        return _inline_location(values)
    name = calls[0][0]
    nargs = max(len(c[1]) for c in calls if c)
    resolved = resolve_function(doc, scripts, name, page_url)
    if resolved is None:
        return None
    url, how = resolved
    return LinkPlan(call_pattern(name, nargs), _relative(url, page_url),
                    f"javascript: {name}() {how}")


def _inline_location(values: list[str]) -> LinkPlan | None:
    pattern = r"""location(?:\.href)?\s*=\s*['"]([^'"]+)['"]"""
    if values and all(re.search(pattern, v or "") for v in values):
        return LinkPlan(pattern, "{1}", "onclick sets location.href")
    return None


def _relative(url: str, page_url: str) -> str:
    page, target = urlsplit(page_url), urlsplit(url)
    if (page.scheme, page.netloc) == (target.scheme, target.netloc):
        return url[len(f"{target.scheme}://{target.netloc}"):]
    return url


def _plain_plan(values: list[str], page_url: str, page_param: str) -> LinkPlan:
    urls = [urljoin(page_url, v.strip()) for v in values]
    parsed = [urlsplit(u) for u in urls]
    queries = [parse_qsl(p.query, keep_blank_values=True) for p in parsed]
    state = {k for q in queries for k, v in q if page_state(k, v, page_param)}
    if not state or len({p.path for p in parsed}) != 1:
        return LinkPlan()
    first = queries[0]
    varying = [k for k, _v in first
               if k not in state and len({dict(q).get(k) for q in queries}) > 1]
    if not varying or any(dict(q).keys() - dict(first).keys() - state for q in queries):
        return LinkPlan()
    pattern = r".*?".join(rf"[?&]{re.escape(k)}=([^&#]*)" for k in varying)
    parts = []
    for k, v in first:
        if k in state:
            continue
        parts.append(f"{k}={{{varying.index(k) + 1}}}" if k in varying else f"{k}={_keep(v)}")
    template = _relative(urljoin(page_url, parsed[0].path), page_url) + "?" + "&".join(parts)
    return LinkPlan(pattern, template, "the list page's number left out of article addresses "
                                       f"({', '.join(sorted(state))})")


def _keep(value: str) -> str:
    return quote(value, safe="-_.~%").replace("{", "{{").replace("}", "}}")
