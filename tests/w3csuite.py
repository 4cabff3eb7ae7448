"""Runs feedkit's validator over the W3C Feed Validator's own test suite and scores it.

The suite (``testcases/`` of github.com/w3c/feedvalidator) is not in this repository: it is read
in place from ``$FEEDKIT_W3C_SUITE``, else ``../shared/w3c-feedvalidator/testcases`` beside the
checkout (or beside the folder holding it, for a git worktree), the way :mod:`realworld` finds
the real-world data. Each case is one feed whose comment says what the W3C validator reports::

    <!-- Description: ...  Expect: CODE{param:value,...} -->   CODE must be reported
    <!-- Description: ...  Expect: !CODE -->                    CODE must not be reported

``!Error`` / ``!Warning`` / ``!Message`` call the feed clean at that level. As in the W3C runner
(``src/validtest.py``), only ``testcases/<format>/<folder>/*.xml`` count, a code is met by any
special case of it (``MissingElement`` by ``MissingTitle``: :func:`feedkit.validate.kind_of`),
``!Message`` ignores ``MissingSelf`` and ``SelfDoesntMatchLocation``, and each feed's address is
``http://www.feedvalidator.org/testcases/...`` (what its self link is compared with). Of the
parameters in braces only ``element`` is compared, and only to narrow a "must not" case
(``!UndefinedElement{element:language}`` forbids an undefined ``language``, not an undefined
``<i>`` elsewhere in the feed): a problem concerns an element when its path ends at it or its
message names it.

Four kinds of case:

``expect``
    a problem the W3C validator reports; *found* when feedkit reports that code (or a special
    case of it), else *missed*.
``clean``
    ``!Error``, ``!Warning`` or ``!Message``: *flagged* when feedkit reports anything at that
    level (for ``!Warning``, at that level or worse: an error is no cleaner than a warning).
``mustnot``
    ``!CODE``: *flagged* when feedkit reports CODE (or a special case of it). ``!ValidTAG`` and
    the like always hold: feedkit logs no success events.
``success``
    ``Expect: ValidURI`` and the like: the W3C validator logs a success event (its ``Valid*``
    classes), which feedkit does not log. Scored as a must-not case of the failure the success
    stands for (``ValidURI`` forbids ``InvalidLink``), so a false alarm there is still caught;
    kept apart from the issue's three numbers, which count only the other kinds.

:data:`KNOWN_DIFFERENCES` lists the cases where feedkit deliberately differs, each with why; they
are reported but not held against the target. ``python tests/w3csuite.py`` prints the report.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = "FEEDKIT_W3C_SUITE"
FORMATS = ("atom", "rss", "rss20")
SUITE_BASE = "http://www.feedvalidator.org/testcases/"

_EXPECT = re.compile(r"<!--\s*Description:\s*(.*?)\s*Expect:\s*(!?)(\w*)(?:{(.*?)})?\s*-->", re.S)
_LEVELS = ("Error", "Warning", "Message")
# ``!Message`` in the W3C runner tolerates these two (a test feed is never at its self address).
_MESSAGE_EXEMPT = ("SelfDoesntMatchLocation", "MissingSelf")
# A success event and the failure it rules out (``Expect: ValidX`` means "no InvalidX here").
SUCCESS_MEANS_NO = {
    "ValidURI": "InvalidLink", "ValidHttpGUID": "InvalidHttpGUID",
    "ValidURLAttribute": "InvalidURIAttribute", "ValidURN": "InvalidURN",
    "ValidTAG": "InvalidTAG", "ValidW3CDTFDate": "InvalidW3CDTFDate",
    "ValidRFC2822Date": "InvalidRFC2822Date", "ValidBooleanAttribute": "InvalidBooleanAttribute",
    "ValidLanguage": "InvalidLanguage", "ValidHeight": "InvalidHeight",
    "ValidWidth": "InvalidWidth", "ValidContact": "InvalidContact",
    "ValidIntegerAttribute": "InvalidIntegerAttribute",
    "ValidMIMEAttribute": "InvalidMIMEAttribute", "ValidDay": "InvalidDay",
    "ValidHour": "InvalidHour", "ValidInteger": "InvalidInteger",
    "ValidUpdatePeriod": "InvalidUpdatePeriod",
    "ValidDoctype": "InvalidDoctype", "ValidHtml": "NotHtml",
    "ValidAtomLinkRel": "UnregisteredAtomLinkRel", "ValidCloud": "MissingAttribute",
}
# ``ValidElement`` (logged for every well-formed element) and ``ValidTitle`` rule nothing out.

#: Cases where feedkit deliberately reports something else than the W3C validator, and why.
#: Keys are case paths relative to ``testcases/``; every entry must still be a case that fails
#: without it (the suite test checks that no entry is stale).
_INFO = ("an Info note in the W3C validator (its class derives from Info, not Warning): the "
         "W3C service itself never shows Info notes (it keeps errors and warnings), and "
         "feedkit's gate fails a build on every problem it reports, so reporting it would fail "
         "feeds the W3C service calls valid")
KNOWN_DIFFERENCES: dict[str, str] = {
    "atom/3.2.3/email-simple-domain.xml":
        "UnknownHost needs a DNS lookup of the address's domain; feedkit's validator never "
        "touches the network (the gate must give the same answer offline, in CI, every time)",
    "atom/6.1/unsupported-namespace.xml": "UnsupportedNamespace is " + _INFO,
    "rss/may/missing_dclanguage.xml": "MissingDCLanguage is " + _INFO,
    "rss/may/nonstandard_prefix.xml": "NonstdPrefix is " + _INFO,
    "rss/should/system_entity.xml":
        "ContainsSystemEntity is " + _INFO + "; feedkit never loads external entities anyway",
    "rss/should/system_entity_http.xml":
        "ContainsSystemEntity is " + _INFO + "; feedkit never loads external entities anyway",
    "rss/should/xml_nonstandard_encoding_iso-8859-1.xml": "NonstdEncoding is " + _INFO,
}


def candidates() -> list[Path]:
    env = os.environ.get(ENV)
    if env:
        return [Path(env)]
    tail = Path("shared") / "w3c-feedvalidator" / "testcases"
    return [REPO.parent / tail, REPO.parents[1] / tail]


def suite_dir() -> Path | None:
    """The suite's ``testcases`` folder, or None when it is not on this machine."""
    for path in candidates():
        if (path / "atom").is_dir() and (path / "rss20").is_dir():
            return path
    return None


def missing_reason() -> str:
    where = " or ".join(str(p) for p in candidates())
    return (f"needs the W3C Feed Validator's test cases (not in {where}; set ${ENV}); the "
            "repository does not ship them")


@dataclass(frozen=True)
class Case:
    rel: str  # path under testcases/, e.g. "atom/3.1.1/html.xml"
    kind: str  # "expect" | "clean" | "mustnot" | "success"
    code: str  # the code the case names (for "success": the failure it rules out)
    data: bytes
    named: str  # the code exactly as the case names it (ValidURI, Error, ...)
    params: tuple[tuple[str, str], ...] = ()  # the braces: (("element", "title"), ...)


def load_cases(root: Path) -> list[Case]:
    found = []
    for fmt in FORMATS:
        for file in sorted((root / fmt).glob("*/*.xml")):
            data = file.read_bytes()
            m = _EXPECT.search(data.decode("utf-8", "replace"))
            if not m:
                raise ValueError(f"{file}: no 'Description: ... Expect: ...' comment")
            negated, code = m.group(2) == "!", m.group(3)
            params = tuple(tuple(p.strip().split(":", 1)) for p in (m.group(4) or "").split(",")
                           if ":" in p)
            rel = file.relative_to(root).as_posix()
            if code in SUCCESS_MEANS_NO and not negated:
                found.append(Case(rel, "success", SUCCESS_MEANS_NO[code], data, code, params))
            elif code.startswith("Valid") and not negated:
                continue  # ValidElement, ValidTitle: a success that rules nothing out
            elif negated:
                found.append(Case(rel, "clean" if code in _LEVELS else "mustnot", code, data,
                                  code, params))
            else:
                found.append(Case(rel, "expect", code, data, code, params))
    return found


@dataclass
class Outcome:
    case: Case
    ok: bool
    reported: tuple[str, ...]  # the codes feedkit reported (those that decided the case)
    crash: str | None = None


def _same_name(label: str, name: str) -> bool:
    """``Description`` is ``rdf:Description``; ``dc:date`` is ``date`` in the dc namespace."""
    label = re.sub(r"\[\d+\]$", "", label)
    return label == name or label.rsplit(":", 1)[-1] == name.rsplit(":", 1)[-1]


def concerns(problem, params: dict[str, str]) -> bool:
    """Does ``problem`` concern the element a case's parameters name (``element:title``, with
    ``parent:item``)? Yes when its path ends at an element of that name (under that parent), or
    its message names the element. Compared loosely (``Description`` matches
    ``rdf:Description``), so that a "must not" case narrowed by its element errs towards
    counting feedkit's problem against it."""
    element, parent = params.get("element"), params.get("parent")
    if not element:
        return True
    steps = problem.path.split(":", 2)[-1].split("/") if "/" in problem.path else []
    if steps and _same_name(steps[-1], element):
        return not parent or len(steps) < 2 or _same_name(steps[-2], parent) \
            or parent in ("root", "rdf_RDF")
    return re.search(rf"(?<![\w:-]){re.escape(element)}(?![\w-])", problem.message) is not None


def judge(case: Case, problems: Iterable) -> Outcome:
    from feedkit.validate import kind_of

    problems = list(problems)
    all_codes = tuple(sorted({p.code for p in problems}))
    if case.kind == "expect":
        hits = tuple(c for c in all_codes if kind_of(c, case.code))
        return Outcome(case, bool(hits), all_codes)
    if case.kind == "clean":
        if case.code == "Message":
            bad = {p.code for p in problems if p.code not in _MESSAGE_EXEMPT}
        elif case.code == "Warning":  # clean at the warning level: no warning, and no error
            bad = set(all_codes)
        else:
            bad = {p.code for p in problems if kind_of(p.code, case.code)}
        return Outcome(case, not bad, tuple(sorted(bad)))
    params = dict(case.params) if case.kind == "mustnot" else {}
    bad = {p.code for p in problems if kind_of(p.code, case.code) and concerns(p, params)}
    return Outcome(case, not bad, tuple(sorted(bad)))


def run_case(case: Case) -> Outcome:
    from feedkit.validate import validate_feed

    try:
        problems = validate_feed(case.data, case.rel, SUITE_BASE + case.rel)
    except Exception as exc:  # a crash is a result here: the report names it
        return Outcome(case, False, (), f"{type(exc).__name__}: {exc}")
    return judge(case, problems)


@dataclass
class Report:
    outcomes: list[Outcome]
    known: dict[str, str] = field(default_factory=lambda: dict(KNOWN_DIFFERENCES))

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.kind == kind]

    def failures(self, kind: str) -> list[Outcome]:
        return [o for o in self.of(kind) if not o.ok and o.case.rel not in self.known]

    def argued(self, kind: str) -> list[Outcome]:
        return [o for o in self.of(kind) if not o.ok and o.case.rel in self.known]

    @property
    def crashes(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.crash]

    @property
    def stale_known(self) -> list[str]:
        """Known differences that no longer differ (or name no case)."""
        failing = {o.case.rel for o in self.outcomes if not o.ok}
        return sorted(rel for rel in self.known if rel not in failing)

    def found(self) -> tuple[int, int]:
        expect = self.of("expect")
        return sum(o.ok for o in expect), len(expect)

    def found_exact(self) -> tuple[int, int]:
        """Expected problems reported with exactly the code the case names."""
        expect = self.of("expect")
        return sum(o.case.code in o.reported for o in expect), len(expect)

    def numbers(self) -> dict[str, tuple[int, int]]:
        """(count, out of) for the issue's three measures, plus the success cases."""
        return {
            "expected problems found": self.found(),
            "  of which with exactly the named code": self.found_exact(),
            "clean feeds flagged": (len(self.failures("clean")) + len(self.argued("clean")),
                                    len(self.of("clean"))),
            "must-not cases reporting": (len(self.failures("mustnot"))
                                         + len(self.argued("mustnot")), len(self.of("mustnot"))),
            "success cases with a false alarm": (len(self.failures("success"))
                                                 + len(self.argued("success")),
                                                 len(self.of("success"))),
        }

    def per_code(self) -> list[tuple[str, int, int, int]]:
        """(code, found, missed, wrongly reported) per code the suite names."""
        found: Counter[str] = Counter()
        missed: Counter[str] = Counter()
        wrong: Counter[str] = Counter()
        for o in self.outcomes:
            if o.case.kind == "expect":
                (found if o.ok else missed)[o.case.code] += 1
            elif not o.ok:
                for code in o.reported or ("(crash)",):
                    wrong[code] += 1
        codes = sorted(set(found) | set(missed) | set(wrong))
        return [(c, found[c], missed[c], wrong[c]) for c in codes]

    def text(self, detail: bool = True) -> str:
        lines = ["W3C Feed Validator test suite, run through feedkit.validate", ""]
        for label, (n, total) in self.numbers().items():
            pct = f" ({100 * n / total:.1f} %)" if total else ""
            lines.append(f"  {label}: {n} of {total}{pct}")
        lines.append(f"  crashes: {len(self.crashes)}")
        lines += ["", f"  {'code':34} {'found':>6} {'missed':>6} {'wrong':>6}"]
        for code, f, m, w in self.per_code():
            lines.append(f"  {code:34} {f:6} {m:6} {w:6}")
        if detail:
            by_kind: dict[str, list[Outcome]] = defaultdict(list)
            for o in self.outcomes:
                if not o.ok:
                    by_kind[o.case.kind].append(o)
            for kind, items in sorted(by_kind.items()):
                lines += ["", f"{kind} cases not met ({len(items)}):"]
                for o in items:
                    tag = " [argued]" if o.case.rel in self.known else ""
                    got = o.crash or ", ".join(o.reported) or "nothing"
                    lines.append(f"  {o.case.rel}: {o.case.named}: got {got}{tag}")
        return "\n".join(lines)


def run_suite(root: Path) -> Report:
    return Report([run_case(case) for case in load_cases(root)])


def main(argv: list[str]) -> int:
    root = suite_dir()
    if root is None:
        print(missing_reason(), file=sys.stderr)
        return 2
    print(run_suite(root).text(detail="-q" not in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
