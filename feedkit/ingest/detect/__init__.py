"""``feedkit source detect``: a board's ``[[sources]]`` block from the list page's address alone.

Why its own package: writing CSS selectors for a board takes a web developer with the browser's
inspector open, and every redesign means doing it again. Detection reads the page the way that
developer would, but generically (nothing here knows one CMS or one city):

* :mod:`.rows` finds the repeating article rows among the portal's noise (menus, a "most read"
  list, widgets, footer) by comparing every group of like siblings and scoring how much each
  looks like a board: many rows, each with a long link text, a date, more cells;
* :mod:`.fields` lines the rows' cells up into columns and tells the title, date, department,
  teaser and thumbnail apart, and writes a selector for each that the reader evaluates the
  same way (:mod:`.css` builds selectors a person can read);
* :mod:`.links` turns ``javascript:fn_view('123')`` links into ``link_pattern`` and
  ``link_template`` from the page's own script and form, and keeps an article's address the
  same on every list page (no ``&page=2`` in it);
* :mod:`.paging` finds the page parameter or the "next" link and checks it by reading page 2;
* :mod:`.detail` compares two or three article pages: what differs from page to page is the
  article (body, date, department, lead image, attachments), what repeats is the portal;
* :mod:`.block` writes the result as a commented TOML block and adds it to ``config.toml``;
* :mod:`.run` does it in that order with the polite fetcher of ``feedkit update``, and
  previews the first articles with the very code ``update`` will run on the block.

May import what :mod:`feedkit.ingest` may; nothing outside the CLI imports it. It never
writes the store.
"""
