"""Lead images whose URL does not say what they are: asked once, remembered with the article.

City boards serve photos from addresses like ``fileDownload.do?fileId=…&fileSeq=2``. A feed
needs the image's media type for an RSS enclosure, and the feeds carry an image in every format
or in none (:func:`feedkit.site.feeds.image_type`), so without the type such an image would be
left out of all three. ``feedkit update`` asks the image's server once, with a ``HEAD`` request
through the polite fetcher (robots.txt, delays, the address rules), and keeps the answer in
:attr:`Article.image_type` (stored, and written by ``export``): an article read again with the
same image is not asked about again, and a build never touches the network.

What is kept: the ``Content-Type`` the server sent (``image/jpeg``; a ``text/html`` error page
is kept too, and means "no image"), or ``-`` when the server said the image is not there (a
4xx). A network error or a 5xx keeps nothing, so the next update asks again.
"""

from __future__ import annotations

from dataclasses import replace

from feedkit.ingest.fetch import Fetcher, FetchError, HttpStatusError
from feedkit.model import Article
from feedkit.store.articles import Store
from feedkit.text.media import image_type_of_url

GONE = "-"              # asked: the server has no image there
RETRY_WITH_GET = (405, 501)   # servers that do not answer HEAD


def needs_type(article: Article) -> bool:
    return bool(article.image) and not article.image_type and \
        image_type_of_url(article.image) is None


def with_image_types(store: Store, fetcher: Fetcher, articles: list[Article]) -> list[Article]:
    """``articles`` with :attr:`~Article.image_type` filled in where the URL does not say it:
    the stored answer when the stored article has the same image, else the server's."""
    wanted = [a for a in articles if needs_type(a)]
    if not wanted:
        return articles
    marks = ",".join("?" * len(wanted))
    stored = {id_: (image, kind) for id_, image, kind in store.db.execute(
        f"SELECT id, image, image_type FROM articles WHERE id IN ({marks})",
        [a.id for a in wanted])}
    answers: dict[str, str] = {}
    out = []
    for article in articles:
        if needs_type(article):
            image, kind = stored.get(article.id, ("", ""))
            if not (kind and image == article.image):
                if article.image not in answers:
                    answers[article.image] = ask(fetcher, article.image)
                kind = answers[article.image]
            if kind:
                article = replace(article, image_type=kind)
        out.append(article)
    return out


def ask(fetcher: Fetcher, url: str) -> str:
    """The image's media type as its server states it, :data:`GONE`, or "" (ask again later)."""
    method = "HEAD"
    for _ in range(2):
        try:
            response = fetcher.get(url, conditional=False, method=method)
        except HttpStatusError as exc:
            if exc.status in RETRY_WITH_GET and method == "HEAD":
                method = "GET"
                continue
            return GONE if 400 <= exc.status < 500 else ""
        except FetchError:
            return ""
        return response.content_type or "application/octet-stream"
    return ""
