"""SQLite's write queue: one writer at a time across processes and threads, forks included."""
import multiprocessing
import threading
import time

import pytest
from sqlalchemy import create_engine

from app.database import WriteQueue, write_queue


def _hold_turn(queue: WriteQueue, entered, release) -> None:
    with queue.turn():
        entered.set()
        release.wait(30)


def _entered_while_held(queue: WriteQueue, hold) -> list[str]:
    """Start a thread waiting for ``queue``'s turn while ``hold`` (a callable returning a
    release function) keeps it; what the thread did before and after the release."""
    seen: list[str] = []

    def take_turn():
        with queue.turn():
            seen.append("entered")

    release = hold()
    waiter = threading.Thread(target=take_turn)
    waiter.start()
    time.sleep(0.3)  # room for a broken queue to let it in
    before = list(seen)
    release()
    waiter.join(10)
    return [*before, "released", *seen]


def test_write_queue_holds_other_processes_back_even_forked_after_use(tmp_path):
    queue = WriteQueue(str(tmp_path / "db.sqlite3"))
    with queue.turn():  # opened here first: the forked child inherits it, must not share it
        pass
    fork = multiprocessing.get_context("fork")
    entered, release = fork.Event(), fork.Event()

    def hold():
        child = fork.Process(target=_hold_turn, args=(queue, entered, release))
        child.start()
        assert entered.wait(10)

        def let_go():
            release.set()
            child.join(10)
        return let_go

    assert _entered_while_held(queue, hold) == ["released", "entered"]


def test_write_queue_holds_other_threads_of_the_process_back(tmp_path):
    queue = WriteQueue(str(tmp_path / "db.sqlite3"))
    entered, release = threading.Event(), threading.Event()

    def hold():
        holder = threading.Thread(target=_hold_turn, args=(queue, entered, release))
        holder.start()
        assert entered.wait(10)

        def let_go():
            release.set()
            holder.join(10)
        return let_go

    assert _entered_while_held(queue, hold) == ["released", "entered"]



@pytest.mark.parametrize("url, queued", [
    ("sqlite:///{tmp}/db.sqlite3", True), ("sqlite://", False),
    ("postgresql+psycopg://postgres@127.0.0.1/none", False)])
def test_write_queue_only_for_a_sqlite_file(tmp_path, url, queued):
    engine = create_engine(url.format(tmp=tmp_path))
    assert (write_queue(engine) is not None) is queued
    engine.dispose()
