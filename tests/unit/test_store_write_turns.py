"""Whose write goes next when several threads of one process wait for SQLite's write lock.

Under a steady stream of API writes, the scheduler's threads (webhook deliveries need
several short transactions each) must not lose every race: they are served first.
"""

from __future__ import annotations

import threading

from mock_psp.runtime.store import Store


def wait_until(predicate, limit: int = 2_000_000) -> None:
    for _ in range(limit):
        if predicate():
            return
    raise AssertionError("never happened")


def writer(store: Store, name: str, order: list[str], background: bool = False) -> threading.Thread:
    def run():
        if background:
            store.serve_in_background()
        with store.write() as db:
            db.execute("INSERT INTO turns (name) VALUES (?)", [name])
            order.append(name)

    return threading.Thread(target=run, name=name)


def test_a_background_writer_goes_before_request_writers_that_waited_longer(tmp_path):
    store = Store(str(tmp_path / "turns.db"))
    with store.write() as db:
        db.execute("CREATE TABLE turns (name TEXT)")
    order: list[str] = []
    release, holding = threading.Event(), threading.Event()

    def holder():
        with store.write():
            holding.set()
            release.wait(10)

    first = threading.Thread(target=holder)
    first.start()
    holding.wait(10)
    requests = [writer(store, f"request-{n}", order) for n in range(4)]
    for thread in requests:
        thread.start()
    wait_until(lambda: store.writers_waiting == 4)
    background = writer(store, "delivery", order, background=True)
    background.start()
    wait_until(lambda: store.writers_waiting == 5)
    release.set()
    for thread in [first, *requests, background]:
        thread.join(10)
    assert order[0] == "delivery" and sorted(order[1:]) == [f"request-{n}" for n in range(4)]
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM turns").fetchone()[0] == 5
    store.close()


def test_a_failed_write_gives_the_turn_back(tmp_path):
    store = Store(str(tmp_path / "turns.db"))
    try:
        with store.write() as db:
            db.execute("CREATE TABLE t (x)")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with store.write() as db:  # would wait forever if the turn were kept
        db.execute("CREATE TABLE t (x)")
    assert store.writers_waiting == 0
    store.close()
