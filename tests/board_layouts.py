"""Board layouts for ``feedkit source detect``: Korean government and CMS boards behind portal
noise, served on 127.0.0.1, with the truth about every article they show.

Each layout is a folder in ``tests/fixtures/boards/``: ``layout.toml`` (URLs, paging, encoding,
how the list shows dates and links), ``list.html`` and ``detail.html`` (Jinja2 templates that
extend one of the portal frames ``_portal_*.html``: menus, a "most read" list, notice and photo
widgets, banners, footer). The articles are generated here from a seed, so a test knows what
every page shows and can check what ``update`` stored against it: :meth:`Board.resolve` says
which article a stored URL opens (the way the site's own router would), :meth:`Board.expected`
which articles the first pages list.

The layouts were written from how real boards look (eGovFrame, Gnuboard 5, XpressEngine, the
KRDS card lists of newer city sites); ``HOLDOUT`` lists those written only after the detection
code was frozen, to measure it on pages it was never tuned on.
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from loopback_server import Site

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "boards"

# Written after the detection algorithm was frozen (see /work/notes/issue-23.md).
HOLDOUT = ("krds_article_grid", "egov_tr_onclick", "wordpress_news", "asp_table_spacers",
           "ul_rows_pinned", "cards_offset_next",
           # round 2, written after 555f259
           "responsive_labels", "tabs_two_boards", "dl_pairs", "table_grid_gallery",
           # round 3, written after 0286c9b
           "category_col", "anchor_rows_more", "two_dates")


def layout_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "layout.toml").is_file())


DEPARTMENTS = ("관광과", "문화새마을과", "복지정책과", "안전총괄과", "해양정책과", "세무과",
               "농업정책과", "건설과", "보건소", "기획감사실", "대천1동", "웅천읍", "미래전략과",
               "환경보호과")
TOPICS = ("보령머드축제", "대천해수욕장 개장", "청년 창업 지원사업", "겨울철 한파 대비",
          "어르신 일자리 사업", "스마트 경로당", "해양관광 활성화", "원산도 관광지 개발",
          "지역화폐 보령사랑상품권", "주민자치 프로그램", "폭염 대비 무더위쉼터",
          "도서관 독서문화 행사", "전통시장 활성화", "탄소중립 실천", "농업기술센터 교육",
          "보건소 건강검진", "다문화가족 지원", "청소년 진로체험", "자원봉사 한마당",
          "해양쓰레기 수거", "귀농귀촌 박람회", "공공기관 청렴도 평가", "시민 안전보험",
          "보령댐 수변공원", "상수도 노후관 교체", "성주산 자연휴양림", "천북 굴 축제")
ACTIONS = ("준비 상황 점검 회의 개최", "성황리에 마무리", "참가자 모집", "추진 계획 발표",
           "관계기관 합동 안전점검 실시", "우수기관 선정", "업무협약 체결", "현장 점검 나서",
           "시민 의견 수렴", "설명회 개최", "국비 확보", "전국 최우수 평가", "본격 운영",
           "사업 착수", "홍보 캠페인 전개")
LEADS = ("보령시, ", "보령시는 ", "", "", "[보도자료] ", "김동일 보령시장, ", "보령시의회, ")
TAILS = ("", "", "", " … 시민 참여 당부", " - 올해 처음으로 읍·면·동 전역 확대",
         "‘2024 보령 해양머드박람회’ 연계", " (6월 말까지)")


@dataclass
class Article:
    id: int
    title: str
    department: str
    when: datetime
    paragraphs: list[str]
    image: str
    files: list[tuple[str, str]]
    views: int
    pinned: bool = False


def make_articles(seed: int, count: int, pinned: int, newest: datetime) -> list[Article]:
    """``count`` articles newest first (``pinned`` of them old notices shown on every page)."""
    rng = random.Random(seed)
    out: list[Article] = []
    when = newest
    used: set[str] = set()
    for k in range(count + pinned):
        while True:
            title = (rng.choice(LEADS) + rng.choice(TOPICS) + " " + rng.choice(ACTIONS)
                     + rng.choice(TAILS)).strip()
            if title not in used:
                used.add(title)
                break
        if k < count:
            when -= timedelta(hours=rng.choice((1, 2, 3, 5, 9, 20, 26)), minutes=rng.randrange(60))
            at = when
        else:   # a notice pinned since long ago
            at = newest - timedelta(days=200 + 31 * k, hours=rng.randrange(9))
        ident = 18000 + seed * 1000 + (count + pinned - k) * 7 + rng.randrange(5)
        topic = title.split(", ")[-1][:12]
        paragraphs = [
            f"보령시는 {at.month}월 {at.day}일 {topic} 관련 내용을 발표했다고 밝혔다. "
            f"이번 사업은 {rng.choice(DEPARTMENTS)} 주관으로 추진되며 "
            f"시민 {rng.randrange(20, 900)}명이 참여할 예정이다.",
            *[f"{rng.choice(('시 관계자는', '담당 공무원은', '시장은'))} “{topic} 사업이 "
              f"{rng.choice(('시민 생활', '지역 경제', '관광 산업', '안전'))}에 보탬이 되도록 "
              f"최선을 다하겠다”며 {rng.choice(('적극적인 참여', '많은 관심', '협조'))}를 "
              f"당부했다. (문단 {n + 2}, 글번호 {ident})" for n in range(rng.randrange(1, 5))],
        ]
        image = (f"/upload/photo/{ident}_{rng.randrange(1000, 9999)}.jpg"
                 if rng.random() < 0.8 else "")
        files = [(f"{title[:14].strip()} 보도자료.hwp", f"/files/{ident}/1")]
        if rng.random() < 0.5:
            files.append((f"현장사진{ident}.jpg", f"/files/{ident}/2"))
        out.append(Article(id=ident, title=title, department=rng.choice(DEPARTMENTS), when=at,
                           paragraphs=paragraphs, image=image, files=files,
                           views=rng.randrange(3, 900), pinned=k >= count))
    return out


# --------------------------------------------------------------------------------------------
# The portal around every board: menus, widgets, footer (the same data for every layout; the
# frames lay it out differently).

MENUS = [
    ("열린시장실", ["시장 소개", "시정 방침", "민선8기 공약", "시장에게 바란다", "시장 일정",
                 "포토 갤러리", "시장 동정"]),
    ("시민참여", ["보령시에 바란다", "시민 제안", "칭찬합시다", "설문조사", "공모전", "시민 청원",
              "부조리 신고", "예산 낭비 신고", "자유게시판"]),
    ("행정정보", ["조직도", "직원 찾기", "시정 통계", "예산 공개", "계약 정보", "법무 행정",
              "자치법규", "정보공개 청구", "사전정보 공표", "행정정보 공개"]),
    ("시정소식", ["보도자료", "공지사항", "고시 공고", "입법 예고", "채용 정보", "행사 안내",
              "시정 소식지", "보령 뉴스", "카드 뉴스", "영상 소식"]),
    ("분야별정보", ["복지", "보건", "환경", "교통", "주택·건축", "농업", "어업", "경제",
               "일자리", "여성·가족", "청소년", "교육", "문화·예술", "체육"]),
    ("보령소개", ["보령의 역사", "상징물", "읍면동 안내", "오시는 길", "자매 도시",
              "보령 명예시민"]),
]
THIRD = ("안내", "현황", "신청 방법", "자료실", "자주 묻는 질문", "관련 법령", "담당자 안내")


def thirds(sub: str) -> list[str]:
    """A real city menu has a third level under most entries (hundreds of links in all)."""
    n = (len(sub) * 7 + ord(sub[0])) % 5 + 2
    return [f"{sub} {THIRD[(k + len(sub)) % len(THIRD)]}" for k in range(n)]


RELATED = ["충청남도", "보령시의회", "보령시 문화관광", "보령축제관광재단", "보령시 평생학습",
           "보령시 보건소", "보령시 농업기술센터", "보령시 시설관리공단", "보령시 도서관"]


@dataclass
class Layout:
    name: str
    meta: dict[str, Any]

    @property
    def folder(self) -> Path:
        return FIXTURES / self.name

    def get(self, key: str, default: Any = None) -> Any:
        return self.meta.get(key, default)


def load_layout(name: str) -> Layout:
    with (FIXTURES / name / "layout.toml").open("rb") as fh:
        return Layout(name, tomllib.load(fh))


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(FIXTURES)),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


@dataclass
class Board:
    """One layout's board on a loopback :class:`Site`: list pages, detail pages, truth."""

    site: Site
    layout: Layout
    articles: list[Article] = field(default_factory=list)

    def __post_init__(self) -> None:
        lay = self.layout
        self.newest = datetime.fromisoformat(lay.get("newest", "2024-06-14T16:20"))
        self.articles = make_articles(lay.get("seed", 1), lay.get("count", 34),
                                      lay.get("pinned", 0), self.newest)
        self.env = _env()
        self.by_id = {a.id: a for a in self.articles}

    # -- URLs ---------------------------------------------------------------------------------

    @property
    def list_url(self) -> str:
        return self.site.url(self.list_path_query(1))

    def list_path_query(self, page: int) -> str:
        lay = self.layout
        query = dict(lay.get("list_query", {}))
        if page > 1 and lay.get("page_path"):   # WordPress: /news/page/2/
            return lay.get("page_path").format(page=page)
        if page > 1:
            step = lay.get("per_page", 10) if lay.get("offset_paging") else 1
            first = 0 if lay.get("offset_paging") else 1
            query[lay.get("page_param", "page")] = str(first + (page - 1) * step)
        return lay.get("list_path") + (f"?{urlencode(query)}" if query else "")

    def detail_href(self, a: Article, page: int) -> str:
        """The detail page's address as the site writes it on list page ``page``."""
        lay = self.layout
        query = dict(lay.get("detail_query", {}))
        query[lay.get("id_param")] = str(a.id)
        for key, value in lay.get("detail_state", {}).items():
            query[key] = str(page) if value == "{page}" else value
        return lay.get("detail_path") + "?" + urlencode(query)

    def resolve(self, url: str) -> Article | None:
        """The article ``url`` opens on this site (None: not an article page)."""
        parts = urlsplit(url)
        if parts.path != self.layout.get("detail_path"):
            return None
        query = dict(parse_qsl(parts.query))
        for key, value in self.layout.get("detail_query", {}).items():
            if query.get(key) != value:
                return None
        try:
            return self.by_id.get(int(query.get(self.layout.get("id_param"), "")))
        except ValueError:
            return None

    # -- pages ----------------------------------------------------------------------------------

    @property
    def regular(self) -> list[Article]:
        return [a for a in self.articles if not a.pinned]

    @property
    def pinned(self) -> list[Article]:
        return [a for a in self.articles if a.pinned]

    @property
    def pages(self) -> int:
        per = self.layout.get("per_page", 10)
        return max(1, -(-len(self.regular) // per))

    def expected(self, max_pages: int) -> list[Article]:
        per = self.layout.get("per_page", 10)
        return self.pinned + self.regular[: per * max_pages]

    def render_list(self, page: int) -> str:
        per = self.layout.get("per_page", 10)
        rows = self.regular[(page - 1) * per: page * per]
        return self._render("list.html", page=page, rows=rows, pinned=self.pinned,
                            total=len(self.regular),
                            first_number=len(self.regular) - (page - 1) * per)

    def render_detail(self, a: Article) -> str:
        index = self.regular.index(a) if a in self.regular else 0
        prev_a = self.regular[index + 1] if index + 1 < len(self.regular) else None
        next_a = self.regular[index - 1] if index > 0 and not a.pinned else None
        return self._render("detail.html", a=a, prev_a=prev_a, next_a=next_a, page=1)

    def _render(self, name: str, **context: Any) -> str:
        lay = self.layout
        template = self.env.get_template(f"{lay.name}/{name}")
        most_read = sorted(self.regular, key=lambda x: -x.views)[:5]
        photos = [a for a in self.regular if a.image][:4]
        return template.render(
            lay=lay.meta, menus=MENUS, related=RELATED, most_read=most_read, photos=photos,
            pages=self.pages, href=self.detail_href, list_href=self.list_path_query,
            newest=self.newest, today=self.newest.date(), charset=lay.get("charset", "utf-8"),
            cut=_cut, thirds=thirds, **context)

    def route(self, handler) -> tuple[int, dict[str, str], bytes] | None:
        parts = urlsplit(handler.path)
        lay = self.layout
        charset = lay.get("charset", "utf-8")
        ctype = f"text/html; charset={charset}" if charset else "text/html"
        encoding = lay.get("encoding", "utf-8")
        query = dict(parse_qsl(parts.query))
        article = self.resolve(handler.path)
        if article is not None:
            body = self.render_detail(article)
            return 200, {"Content-Type": ctype}, body.encode(encoding, "xmlcharrefreplace")
        if lay.get("page_path"):
            m = re.fullmatch(re.escape(lay.get("page_path")).replace(r"\{page\}", r"(\d+)"),
                             parts.path)
            if m:
                body = self.render_list(int(m.group(1)))
                return 200, {"Content-Type": ctype}, body.encode(encoding, "xmlcharrefreplace")
        if parts.path == lay.get("list_path") and all(
                query.get(k) == v for k, v in lay.get("list_query", {}).items()):
            try:
                page = int(query.get(lay.get("page_param", "page"), "1") or 1)
            except ValueError:
                page = 1
            if lay.get("offset_paging"):
                page = int(query.get(lay.get("page_param"), "0") or 0) // lay.get("per_page") + 1
            body = self.render_list(max(1, page))
            return 200, {"Content-Type": ctype}, body.encode(encoding, "xmlcharrefreplace")
        return 404, {"Content-Type": "text/plain"}, b"not found"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n].rstrip() + "..."


def serve_board(site: Site, name: str) -> Board:
    """Put layout ``name`` on ``site`` (every path the layout does not know is a 404)."""
    board = Board(site, load_layout(name))
    site.fallback = board.route
    return board
