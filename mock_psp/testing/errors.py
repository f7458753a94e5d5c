"""Server-side errors: what the provider and the test merchant log at ERROR, collected for the test
that was running when they were logged."""

from __future__ import annotations

import logging

SERVER_LOGGERS = ("mock_psp",)  # the test merchant logs under mock_psp.test_merchant


class ServerErrorLog(logging.Handler):
    """Collects what the provider and the merchant log at ERROR or above, for the test running."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self._records: list[logging.LogRecord] = []
        self._installed = False

    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)  # Handler.handle holds self.lock around emit

    def take(self) -> list[logging.LogRecord]:
        self.acquire()
        try:
            records, self._records = self._records, []
        finally:
            self.release()
        return records

    def peek(self) -> list[logging.LogRecord]:
        self.acquire()
        try:
            return list(self._records)
        finally:
            self.release()

    def install(self) -> None:
        if not self._installed:
            for name in SERVER_LOGGERS:
                logging.getLogger(name).addHandler(self)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            for name in SERVER_LOGGERS:
                logging.getLogger(name).removeHandler(self)
            self._installed = False


_FORMAT = logging.Formatter("%(name)s [%(threadName)s] %(levelname)s: %(message)s")


def describe_records(records: list[logging.LogRecord]) -> str:
    """The records as text, each with its traceback."""
    return "\n\n".join(_FORMAT.format(record) for record in records)


class ServerErrors:
    """The server-side errors logged so far during this test (``psp_server_errors``).

    A test that provokes an error on purpose takes it with :meth:`take`, so that it
    does not fail the test::

        records = psp_server_errors.take()
        assert "unhandled error" in records[0].getMessage()
    """

    def __init__(self, log: ServerErrorLog | None):
        self._log = log

    @property
    def records(self) -> list[logging.LogRecord]:
        """The records logged so far in this test and not yet taken."""
        return self._log.peek() if self._log is not None else []

    def take(self) -> list[logging.LogRecord]:
        """Return the records logged so far and forget them: they will not fail the test."""
        return self._log.take() if self._log is not None else []

    def __len__(self) -> int:
        return len(self.records)

    def __bool__(self) -> bool:
        return bool(self.records)

    def text(self) -> str:
        return describe_records(self.records)
