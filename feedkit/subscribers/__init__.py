"""Subscribers feedkit keeps itself: the store table, the tokens in their links, the web form."""
