"""What a panel whose run is a background job shares (the Monte Carlo and the sweep): the buttons and progress
bar while it runs, the progress reporter, and the notice in the status slot when the job is refused, lost,
cancelled or fails (:func:`dashboard.jobs.notice_of`)."""

from __future__ import annotations

from typing import Any

from dash import Output, html, no_update

from core.validation import DataValidationError

from . import jobs


#: Milliseconds between the page's polls of a running job (progress bar updates).
POLL_MS = 250


def _running(run_id: str, cancel_id: str, progress_id: str) -> list[tuple[Output, Any, Any]]:
    return [(Output(run_id, "disabled"), True, False), (Output(cancel_id, "disabled"), False, True),
            (Output(f"{progress_id}-box", "style"), {"visibility": "visible"}, {"visibility": "hidden"})]


def _job_notice(what: str, n_outputs: int, status: int):
    """``on_error`` of a background callback: the job store's notice (refused, lost, cancelled, too large) or a plain
    message for a failure outside the callback, in the status slot; the last result stays."""
    def handle(exc: Exception) -> list[Any]:
        found = jobs.notice_of(exc)
        if found is None:  # Dash's message carries the job's traceback: for the log, not the page
            import logging

            logging.getLogger("sfm.dashboard").error("%s failed in its job: %s", what, exc)
            kind, text = "failed", f"The {what} failed on the server (the details are in its log). Press Run to try again."
        else:
            kind, text = found
        out: list[Any] = [no_update] * n_outputs
        out[status] = html.Div(text, className=f"alert alert-{'info' if kind == 'cancelled' else 'warning'} job-{kind}",
                               role="status" if kind == "cancelled" else "alert")
        return out
    return handle


def _reporter(set_progress):
    def report(done: int, total: int) -> None:
        set_progress([str(done), str(max(total, 1)), f"{done:,} of {total:,} runs"])
    return report


def _log(exc: BaseException, what: str) -> None:
    if not isinstance(exc, DataValidationError):
        import logging

        logging.getLogger("sfm.dashboard").exception("%s failed", what)
