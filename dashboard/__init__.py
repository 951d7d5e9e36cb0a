"""sfm dashboard: a Dash page over :mod:`core`.

One module per panel of the page:

``graph``      the interconnection graph, its legend, the round-by-round animation
``graph_svg``  the graph drawn as an SVG file (the SVG export and the report's picture)
``controls``   shock sliders and safeguards
``cascade``    runs the engine when a control moves; feeds graph, charts and headline
``charts``     systemic-impact charts and headline figures
``chart_svg``  static pictures of the charts, shown until plotly.js has loaded (the first paint)
``critical``   the table of systemic importance and vulnerability
``detail``     one entity: balance sheet, exposures, state per round, contagion path
``montecarlo`` Monte Carlo (loss distribution, VaR/ES, default probabilities) and parameter sweeps, in the background
``scenarios``  presets, scenario download / upload, the state in the URL
``upload``     bring your own network (CSV tables or one JSON file)
``export``     PNG / SVG of the graph and the one-page HTML report
``state``      per-user state helpers (stores, URL codec, cached engine runs), error guard
``limits``     what one request may cost: upload, body, link and network-size bounds, the body cap's answer
``jobs``       the background job store: private folder, signing secret, limits, notices for the page
``job_managers`` the background-callback managers over it (forked processes on diskcache, or Celery on Redis)
``store_gate``   the job store's check at a server's start, before the page's modules load
``app``        the app factory ``create_app``, the first page (``page``) and ``run``

The model lives in :mod:`core`; nothing here computes a cascade by itself.
"""
