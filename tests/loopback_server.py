"""A real HTTP server on 127.0.0.1 for the ingest tests and the benchmark.

Routes are exact paths (with query string). A route is either fixed bytes (optionally with an
ETag / Last-Modified that the server honours with a real 304) or a function that gets the request
handler and returns (status, headers, body). Every request is logged with its headers, so tests
assert what feedkit actually sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    last_modified: str = ""
    fn: Callable[[BaseHTTPRequestHandler], Reply | None] | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    time: float
    method: str = "GET"


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Hit] = []
        self.port = 0
        self.release = threading.Event()   # set on shutdown: frees handlers that "hang"
        self.head = True    # answer HEAD requests (False: 501, as some city servers do)
        # Answers every path no route names (a whole site generated on the fly); None: 404.
        self.fallback: Callable[[BaseHTTPRequestHandler], Reply | None] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, body: bytes | str, *, content_type: str = "text/html; charset=utf-8",
             status: int = 200, etag: str = "", last_modified: str = "",
             headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = {"Content-Type": content_type} if content_type else {}
        hdrs.update(headers or {})
        self.routes[path] = Route(body=data, status=status, headers=hdrs, etag=etag,
                                  last_modified=last_modified)

    def handler(self, path: str,
                fn: Callable[[BaseHTTPRequestHandler], Reply | None]) -> None:
        self.routes[path] = Route(fn=fn)

    def hits(self, path: str) -> list[Hit]:
        return [h for h in self.log if h.path == path]

    def paths(self) -> list[str]:
        return [h.path for h in self.log]


def _make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_HEAD(self) -> None:   # what GET would answer, without the body
            if not site.head:
                site.log.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()},
                                    time.monotonic(), "HEAD"))
                self.send_error(501)
                return
            self.do_GET()

        def do_GET(self) -> None:
            site.log.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()},
                                time.monotonic(), self.command))
            route = site.routes.get(self.path)
            if route is None and site.fallback is not None:
                route = Route(fn=site.fallback)
            if route is None:
                status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
            elif route.fn is not None:
                reply = route.fn(self)
                if reply is None:   # the function wrote its own response
                    return
                status, headers, body = reply
            else:
                status, headers, body = route.status, dict(route.headers), route.body
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (route.etag and inm == route.etag) or (
                        route.last_modified and not inm and ims == route.last_modified):
                    status, body = 304, b""
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers and status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and status != 304 and self.command != "HEAD":
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class serve:
    """``with serve(site) as site:`` — a threaded server on a free loopback port."""

    def __init__(self, site: Site):
        self.site = site
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(site))
        self.server.daemon_threads = True
        self.server.block_on_close = False
        site.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self.site

    def __exit__(self, *exc: object) -> None:
        self.site.release.set()
        self.server.shutdown()
        self.server.server_close()


# -------------------------------------------------------------------------------------------------
# A synthetic eGovFrame-style board: numbered list pages (table rows) and one page per article.

DEPARTMENTS = ("세무과", "관광과", "복지정책과", "안전총괄과", "해양정책과")


@dataclass
class BoardItem:
    id: int
    title: str
    department: str
    date: str          # as the list shows it, e.g. "2025.12.09 " (trailing space, as boards do)
    detail_date: str   # as the article page shows it, e.g. "작성일 : 2025-12-09 10:30"
    body: str


class Board:
    """List pages ``/board/list.do?pageIndex=N`` and detail pages ``/board/view.do?nttId=ID``.

    Each page is served with an ETag of its content, so an unchanged page really gets a 304.
    ``encoding`` serves a transcoded copy (e.g. cp949 with ``charset=euc-kr``).
    """

    def __init__(self, site: Site, count: int, per_page: int = 5, *, prefix: str = "/board",
                 encoding: str = "utf-8", charset_header: str | None = None,
                 meta_charset: str | None = None, body_paragraphs: int = 3, etags: bool = True,
                 chrome_links: int = 0, image: str = "../upload/{id}.jpg"):
        self.site = site
        self.image = image     # the detail page's photo, relative to it; {id} is the article's
        self.per_page = per_page
        self.prefix = prefix
        self.encoding = encoding
        self.charset_header = charset_header if charset_header is not None else encoding
        self.meta_charset = meta_charset if meta_charset is not None else encoding
        self.body_paragraphs = body_paragraphs
        self.etags = etags
        # Real city pages are mostly site menu (150-270 KB); this many menu links imitate that.
        self.chrome = "<nav><ul>" + "".join(
            f'<li><a href="/menu/{i}.do" title="메뉴 {i}">시정 메뉴 {i}</a></li>'
            for i in range(chrome_links)) + "</ul></nav>" if chrome_links else ""
        self.items: list[BoardItem] = []
        self._next_id = 1000
        for _ in range(count):
            self.add(publish=False)
        self.publish()

    @property
    def list_url(self) -> str:
        return self.site.url(f"{self.prefix}/list.do")

    def detail_path(self, item: BoardItem) -> str:
        return f"{self.prefix}/view.do?nttId={item.id}"

    def add(self, title: str | None = None, *, publish: bool = True) -> BoardItem:
        """A new article on top of page 1 (as a board shows its newest post)."""
        self._next_id += 1
        n = self._next_id
        # Newer posts are later: one every 7 hours from 2025-01-01 09:00, as a board numbers them.
        when = datetime(2025, 1, 1, 9) + timedelta(hours=7 * (n - 1000))
        item = BoardItem(
            id=n,
            title=title or f"보령시, 제{n}회 머드축제 준비 상황 점검 회의 개최",
            department=DEPARTMENTS[n % len(DEPARTMENTS)],
            date=when.strftime("%Y.%m.%d "),
            detail_date=when.strftime("작성일 : %Y-%m-%d %H:%M"),
            body="".join(
                f"<p>보령시는 {n}번째 소식을 전했다. 시민 여러분의 관심 바랍니다. 문단 {k}.</p>"
                for k in range(self.body_paragraphs)),
        )
        self.items.insert(0, item)
        if publish:
            self.publish()
        return item

    def publish(self) -> None:
        pages = max(1, -(-len(self.items) // self.per_page))
        for page in range(1, pages + 2):   # one page past the end: an empty board page
            rows = self.items[(page - 1) * self.per_page: page * self.per_page]
            path = f"{self.prefix}/list.do" + ("" if page == 1 else f"?pageIndex={page}")
            self._serve(path, self._list_html(rows, page, pages))
        for item in self.items:
            self._serve(self.detail_path(item), self._detail_html(item))

    def _serve(self, path: str, text: str) -> None:
        import hashlib

        data = text.encode(self.encoding)
        ctype = "text/html" + (f"; charset={self.charset_header}" if self.charset_header else "")
        etag = f'"{hashlib.sha1(data).hexdigest()[:16]}"' if self.etags else ""
        self.site.page(path, data, content_type=ctype, etag=etag)

    def _head(self) -> str:
        meta = f'<meta charset="{self.meta_charset}">' if self.meta_charset else ""
        return (f"<!DOCTYPE html><html lang=\"ko\"><head>{meta}<title>보도자료</title></head>"
                f"<body>{self.chrome}")

    def _list_html(self, rows: list[BoardItem], page: int, pages: int) -> str:
        trs = "".join(
            f"<tr><td>{item.id}</td>"
            f'<td class="subject"><a href="view.do?nttId={item.id}">{item.title}</a>'
            f' <img src="/images/icon_new.gif" alt="새글"></td>'
            f"<td>{item.department}</td><td>{item.date}</td><td>{item.id % 97}</td></tr>"
            for item in rows)
        nxt = (f'<a class="next" href="list.do?pageIndex={page + 1}">다음</a>'
               if page < pages else "")
        return (f"{self._head()}<table class=\"board_list\"><thead><tr><th>번호</th><th>제목</th>"
                f"<th>담당부서</th><th>등록일</th><th>조회</th></tr></thead><tbody>{trs}</tbody>"
                f"</table><div class=\"paging\">{nxt}</div></body></html>")

    def _detail_html(self, item: BoardItem) -> str:
        return (f"{self._head()}<div class=\"board_view\"><h3 class=\"subject\">{item.title}</h3>"
                f"<ul class=\"info\"><li>{item.detail_date}</li><li>조회 {item.id % 97}</li></ul>"
                f"<div class=\"view_cont\">{item.body}"
                f"<p><img src=\"{self.image.format(id=item.id)}\" alt=\"현장 사진\"></p>"
                f"<script>alert('x')</script><p onclick=\"steal()\">끝.</p></div>"
                f"<div class=\"file\"><ul>"
                f"<li><a href=\"/cmm/fms/FileDown.do?atchFileId=F{item.id}&amp;fileSn=0\">"
                f"보도자료 {item.id}.hwp</a></li>"
                f"<li><a href=\"/files/{item.id}/%EB%B6%99%EC%9E%84.pdf\"></a></li>"
                f"</ul></div></div></body></html>")


def board_source(board: Board, *, details: bool = True, **extra: object) -> dict:
    """The ``[[sources]]`` table that reads a :class:`Board`."""
    src: dict = {
        "kind": "html",
        "name": "보도자료",
        "url": board.list_url,
        "selectors": {
            "item": "table.board_list tbody tr",
            "title": "td.subject a",
            "department": "td:nth-child(3)",
            "date": "td:nth-child(4)",
        },
        "page_param": "pageIndex",
        "max_pages": 10,
    }
    if details:
        src["detail"] = {
            "title": "h3.subject",
            "date": "ul.info li:first-child",
            "body": "div.view_cont",
            "image": "div.view_cont img",
            "attachments": "div.file li a",
        }
    src.update(extra)
    return src
