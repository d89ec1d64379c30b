"""Send many messages over several SMTP connections at once, results back in the caller's thread."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from typing import TypeVar

from digest.config import Settings
from digest.smtp import Mailer, SendResult, SmtpUnavailable

log = logging.getLogger(__name__)
K = TypeVar("K")


def send_all(
    settings: Settings,
    messages: Iterable[tuple[K, EmailMessage]],
    on_result: Callable[[K, SendResult], None],
) -> None:
    """Send over settings.smtp_connections connections; call on_result in the caller's thread.

    `messages` is consumed lazily, one item at a time under a lock, from the worker threads. A
    connection that fails ends its worker (its message is reported "retry"); the others go on.
    Raise SmtpUnavailable only when every connection failed; any other error (from `messages`,
    say) stops all workers and is raised here.
    """
    source = iter(messages)
    lock = threading.Lock()
    stop = threading.Event()
    results: queue.Queue[tuple[K, SendResult] | BaseException | None] = queue.Queue()

    def take() -> tuple[K, EmailMessage] | None:
        with lock:
            return None if stop.is_set() else next(source, None)

    def work() -> None:
        try:
            with Mailer(settings) as mailer:
                while (item := take()) is not None:
                    key, message = item
                    try:
                        results.put((key, mailer.send(message)))
                    except SmtpUnavailable as exc:  # the server vanished: retry this one later
                        results.put((key, SendResult("retry", None, str(exc))))
                        raise
        except BaseException as exc:  # handed to the caller's thread, which re-raises
            if not isinstance(exc, SmtpUnavailable):
                stop.set()
            results.put(exc)
            return
        results.put(None)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(settings.smtp_connections)]
    for worker in workers:
        worker.start()
    try:
        errors = _collect(results, len(workers), on_result)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    fatal = [error for error in errors if not isinstance(error, SmtpUnavailable)]
    if fatal or len(errors) == len(workers):
        raise (fatal or errors)[0]
    for error in errors:
        log.warning("one SMTP connection gave up (%s); the others sent the rest", error)


def _collect(
    results: queue.Queue[tuple[K, SendResult] | BaseException | None],
    workers: int,
    on_result: Callable[[K, SendResult], None],
) -> list[BaseException]:
    """Hand each result to on_result until every worker has finished; return their errors."""
    errors: list[BaseException] = []
    finished = 0
    while finished < workers:
        item = results.get()
        if item is None or isinstance(item, BaseException):
            finished += 1
            if item is not None:
                errors.append(item)
            continue
        on_result(*item)
    return errors
