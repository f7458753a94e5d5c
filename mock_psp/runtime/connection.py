"""Ending a connection without an answer: how the app asks the server for a network failure."""

from __future__ import annotations


class DropConnection(Exception):
    """Raised through the WSGI stack; mock_psp.server's gateway ends the connection.

    ``reset``: abort with a TCP reset, nothing more sent. Otherwise what was already
    written goes out and the connection closes normally (a FIN), leaving the client
    with a short or missing answer. Under Flask's test client the exception reaches the
    test, which is how the HTTP-tier tests see it."""

    def __init__(self, reset: bool, why: str = ""):
        super().__init__(why or ("connection reset" if reset else "connection closed"))
        self.reset = reset
