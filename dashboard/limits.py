"""What one request of the page may cost: the bounds on uploads, links and networks the page draws.

Every number here was chosen from measurement (``python benchmarks/bench_load.py --limits``
prints the per-request cost against network size; the load run prints the rest):

* **Network size** (:data:`MAX_ROWS`): a network the page draws has at most 1,000
  entities, 200 assets (one slider each), 10,000 exposures, 10,000 holdings, 5,000 cohorts
  and 20,000 correlations. The heaviest request at those sizes is the Critical-nodes
  ranking (one cascade seeded by each entity: ``n x n`` losses): +206 to +247 MB in a
  worker and 1.4 to 1.8 s of CPU for 1,000 entities and 10,000 exposures, against +78 MB and
  0.35 s for 500, +647 MB and 5.5 s for 2,000 (over the budget below), and the +4.5 GB the
  issue measured for 5,000. The network store the browser sends
  back with every slider move is 0.32 MB at the bounds (compressed, was 4.1 MB of JSON;
  :func:`dashboard.state.network_store`); the run callback answers with about 0.1 MB.
  Beyond the bounds the page names the CLI and Python route (:data:`BEYOND_THE_PAGE`).
* **Memory budget**: :data:`REQUEST_MEMORY_BUDGET_MB` is the most one request may add to
  a worker with a network at the bounds. Measured by ``benchmarks/bench_load.py`` (RSS of
  the gunicorn workers from ``/proc``) and, for the ranking, by
  ``tests/test_web_bad_input.py`` in a fresh process. The largest refused inputs cost less:
  a 16 MiB CSV +101 MB, a zip-bomb network store +62 MB, a body over the cap +5 MB.
* **Bytes**: an uploaded file is at most :data:`MAX_UPLOAD_BYTES`; a request body at
  most :data:`MAX_REQUEST_BYTES` (base64 of one such file plus the page's state), set
  as Flask's ``MAX_CONTENT_LENGTH`` so a larger body is refused before it is read.
* **Links and scenario files**: a shared link's scenario is at most
  :data:`MAX_LINK_CHARS` characters and decompresses to at most
  :data:`MAX_SCENARIO_BYTES` (a bounded decompressor stops there); a scenario file is
  at most :data:`MAX_SCENARIO_BYTES`.
"""

from __future__ import annotations

import base64
import json
import zlib

from core.network import Network
from core.validation import DataValidationError, Problem, check_text_encoding

#: Rows per table of a network the page draws (beyond them: the CLI or Python).
MAX_ROWS: dict[str, int] = {
    "entities": 1_000,
    "assets": 200,
    "exposures": 10_000,
    "holdings": 10_000,
    "cohorts": 5_000,
    "correlations": 20_000,
}
#: Peak memory one request may add to a worker with a network at :data:`MAX_ROWS` (MB).
REQUEST_MEMORY_BUDGET_MB = 300
#: One uploaded file (a table or a JSON network): a network at the bounds fits in well under this.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
#: One request body: one file at the limit in base64 (4/3) plus the page's own state.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 4 * 1024 * 1024
#: A scenario file, and the decompressed JSON of a link's scenario.
MAX_SCENARIO_BYTES = 256 * 1024
#: The ``s`` parameter of a link (compressed, base64url text).
MAX_LINK_CHARS = 64 * 1024
#: The JSON of a network held in the page's network store (about 10 MB at the row bounds with the usual texts).
MAX_STORE_JSON_BYTES = 32 * 1024 * 1024

BEYOND_THE_PAGE = (
    "The page draws networks up to " + ", ".join(f"{v:,} {k}" for k, v in MAX_ROWS.items())
    + ". For a larger network use the command line on your own machine (`sfm validate`, `sfm simulate`, `sfm rank`,"
    " `sfm montecarlo` on the folder or JSON file) or Python (`core.load_network(path)`, then `core.simulate` and"
    " `core.metrics.systemic_importance`), which have no such bound."
)


def size_problems(counts: dict[str, int], file: str) -> list[Problem]:
    """Problems for every table whose row count is over :data:`MAX_ROWS`."""
    return [Problem(file, None, table, f"{n:,} rows", f"at most {MAX_ROWS[table]:,} {table} for the page. {BEYOND_THE_PAGE}", "record")
            for table, n in counts.items() if table in MAX_ROWS and n > MAX_ROWS[table]]


def check_network_size(network: Network, file: str = "upload") -> None:
    """Raise DataValidationError when the network is larger than the page draws."""
    problems = size_problems({t: len(getattr(network, t)) for t in MAX_ROWS}, file)
    if problems:
        raise DataValidationError(problems)


def check_json_size(text: str, file: str) -> None:
    """Refuse a network's JSON text whose tables hold more rows than the page draws, before validating it.

    Validation costs far more than parsing (a 20,000-entity network: about 1 s to parse,
    then most of 20 s to validate), so the row counts are read from the parsed document
    first; a document that is not a JSON object is left to core's reader to describe.
    """
    try:
        doc = json.loads(text)
    except ValueError:
        return
    except RecursionError:
        raise DataValidationError([Problem(file, None, None, None, "JSON nested at most a few hundred levels deep")]) from None
    if isinstance(doc, dict):
        counts = {t: len(doc[t]) for t in MAX_ROWS if isinstance(doc.get(t), list)}
        problems = size_problems(counts, file)
        if problems:
            raise DataValidationError(problems)


def read_data_url(contents: object, name: str, limit: int, expected: str) -> str:
    """The text of a ``dcc.Upload`` data URL: at most ``limit`` bytes of UTF-8 (a BOM is dropped).

    A file over the limit is refused from the length of its base64 text, before anything
    is copied or decoded; ``expected`` says what the file should have been.
    """
    if not isinstance(contents, str) or "," not in contents:
        raise DataValidationError([Problem(name, None, None, None, expected)])
    start = contents.index(",") + 1
    n_b64 = len(contents) - start
    if n_b64 > (limit + 2) // 3 * 4:
        raise too_large(name, n_b64 * 3 // 4, limit)
    try:
        data = base64.b64decode(contents[start:], validate=True)
    except ValueError:
        raise DataValidationError([Problem(name, None, None, None, f"{expected} (its upload is not valid base64)")]) from None
    text, prob = check_text_encoding(data, name)
    if prob:
        raise DataValidationError([prob])
    return text or ""


def too_large(file: str, size: int, limit: int, column: str | None = None) -> DataValidationError:
    """The error for an input of ``size`` bytes over its ``limit``."""
    return DataValidationError([Problem(file, None, column, f"{size:,} bytes", f"at most {limit:,} bytes")])


def inflate(data: bytes, limit: int, file: str, column: str | None = None) -> bytes:
    """zlib-decompress ``data``, refusing output longer than ``limit`` bytes (a bounded decompressor).

    ``zlib.decompress`` would expand a few hundred kB into gigabytes (a "zip bomb"); a
    ``decompressobj`` with ``max_length`` stops at the bound, so the cost of a bad input
    is at most ``limit`` bytes.
    """
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error:
        raise DataValidationError([Problem(file, None, column, None, "text compressed by sfm (it does not decompress)")]) from None
    if len(out) > limit or d.unconsumed_tail:
        raise DataValidationError([Problem(file, None, column, f"more than {limit:,} bytes once decompressed",
                                           f"at most {limit:,} bytes once decompressed")])
    if not d.eof:
        raise DataValidationError([Problem(file, None, column, None, "complete compressed text (it is cut short)")])
    return out




# -- the server ----------------------------------------------------------------

#: What a refused request body tells the page (Flask's own 413 page is HTML, which the Dash renderer cannot show).
TOO_LARGE_MESSAGE = (
    f"This request is larger than the server accepts ({MAX_REQUEST_BYTES / 2**20:.0f} MiB), so it was not read and nothing "
    f"was changed. An uploaded file may be at most {MAX_UPLOAD_BYTES / 2**20:.0f} MiB; drop the tables one at a time, "
    f"or use the command line for a larger network. {BEYOND_THE_PAGE}"
)
#: A refused body is read and dropped up to this many bytes, so the client reads the answer instead of a reset connection.
DRAIN_BYTES = 8 * MAX_REQUEST_BYTES


def bound_requests(app) -> None:
    """Set the server's request-body cap and its answer, and keep the Python version out of ``_dash-config``.

    * Flask's ``MAX_CONTENT_LENGTH`` = :data:`MAX_REQUEST_BYTES`: Werkzeug refuses a
      larger body before reading it (the cap is not only the browser's ``max_size``).
    * A refused callback request (``/_dash-update-component``) is answered ``200`` with
      a Dash ``sideUpdate`` that puts :data:`TOO_LARGE_MESSAGE` in the page's message
      area: the renderer drops the body of any non-200 answer, so a 413 would leave
      the user with nothing. Header ``X-SFM-Refused: 413`` says what happened. Any other
      path gets a plain-text ``413``.
    * ``_dash-config`` (embedded in every page) carries ``sys.version`` by default;
      the renderer only reads it in the debug tools, so it is dropped.
    """
    import json

    import flask
    from dash import html
    from plotly.utils import PlotlyJSONEncoder

    from . import ids

    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @server.errorhandler(413)
    def _too_large(_exc):
        _drain(flask.request.environ)
        if flask.request.path.endswith("/_dash-update-component"):
            alert = html.Div(TOO_LARGE_MESSAGE, className="alert alert-error", role="alert")
            body = {"multi": True, "response": {}, "sideUpdate": {ids.MESSAGE: {"children": alert}}}
            resp = flask.Response(json.dumps(body, cls=PlotlyJSONEncoder), status=200, mimetype="application/json")
            resp.headers["X-SFM-Refused"] = "413"
            return resp
        return flask.Response(TOO_LARGE_MESSAGE + "\n", status=413, mimetype="text/plain")

    config = app._config
    app._config = lambda: {k: v for k, v in config().items() if k != "python_version"}


def _drain(environ) -> None:
    """Read and drop a refused body (at most DRAIN_BYTES), so the client is not cut off while it still sends."""
    stream = environ.get("wsgi.input")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if stream is None or (not length and not environ.get("wsgi.input_terminated")):
        return
    left = min(length, DRAIN_BYTES) if length else DRAIN_BYTES
    while left > 0:
        chunk = stream.read(min(1 << 16, left))
        if not chunk:
            break
        left -= len(chunk)


__all__ = ["MAX_ROWS", "REQUEST_MEMORY_BUDGET_MB", "MAX_UPLOAD_BYTES", "MAX_REQUEST_BYTES", "MAX_SCENARIO_BYTES",
           "MAX_LINK_CHARS", "MAX_STORE_JSON_BYTES", "BEYOND_THE_PAGE", "size_problems", "check_network_size", "check_json_size", "inflate", "read_data_url",
           "too_large", "TOO_LARGE_MESSAGE", "bound_requests"]
