"""Component ids shared by several panels (one place, so a rename cannot half-happen)."""

# stores
NETWORK = "network-store"          # {"source": "base"}, {"source": "snapshot", "name"} or {"source": "upload", "name", "z": zlib+base64 network JSON}
SCENARIO = "scenario-store"        # the current scenario as a dict (validated)
SCENARIO_EXTRAS = "scenario-extras"  # scenario fields no control shows (name, description, pool sales ...)
FRAMES = "frames-store"            # per-round classes for the animation (see graph_frames.frames)
RUN_VIEW = "run-view"              # {"run": id, "round", "outputs"}: a new run's charts and tables, drawn with its frames
RUN_ID = "run-id"                  # the id of the run last sent with its frames: the entity card and the critical nodes key on it
GRAPH_COLUMN = "graph-column"      # the headline, graph and animation bar ("computing" while a new run is on its way)
HIGHLIGHT = "highlight-store"      # {"run": id, "entity": idx, "nodes": [...], "edges": [...]} drawn on the graph (of that run only)
SELECTED = "selected-entity"       # entity id shown in the detail panel
PENDING = "pending-view"           # round / entity asked for by the URL, applied once
URL = "url"
URL_SCENARIO = "url-scenario"      # encoded scenario for the query string
URL_SINK = "url-sink"              # target of the clientside history.replaceState callback
VIEW_QUERY = "view-query"          # the query string the first page was built from (see app.page)
LINK = "link"                      # a link the first page could not apply on the server (sfm.checkLink)
PD_OVERLAY = "pd-overlay"          # {"n", "buckets"}: Monte Carlo default probabilities drawn as halos, or None

# graph and animation
GRAPH = "graph"
HOVER = "graph-hover"
ROUND = "round-slider"
ROUND_LABEL = "round-label"
PLAY = "anim-play"
STEP_BACK = "anim-back"
STEP_FWD = "anim-step"
SPEED = "anim-speed"
TICK = "anim-tick"
PD_LEGEND = "pd-legend"
PAGE_CONFIG = "page-config"        # graph_frames.page_config(): statuses and ids sfm.js reads from the server
EDGE_MIN = "edge-min"              # exposures below this (USD) are hidden

# controls
PRICE = "shock-price"              # pattern id type: {"type": PRICE, "asset": symbol}
DEPEG = "shock-depeg"              # pattern id type: {"type": DEPEG, "asset": symbol}
PRICE_PATH = "shock-price-path"    # pattern id type: the note beside a price slider whose asset moves by a path
SHOCK_SLIDERS = "shock-sliders"
DEFAULTS = "shock-defaults"
DEFAULT_ROUNDS = "shock-default-rounds"  # the boxes dating each forced failure (dashboard/forced_rounds.py)
DEFAULT_ROUND = "shock-default-round"    # pattern id type: {"type": DEFAULT_ROUND, "entity": entity id}, its round
DEFAULT_ROUND_TIME = "shock-default-round-time"  # pattern id type: the round's time beside its box
RUN = "shock-run"
LIQUIDITY = "shock-liquidity"
ORACLE_LAG = "shock-oracle-lag"
HORIZON = "shock-horizon"
CB_ON = "sg-cb-on"
CB_THRESHOLD = "sg-cb-threshold"
CB_ROUNDS = "sg-cb-rounds"
COLLATERAL = "sg-collateral"
INSURANCE = "sg-insurance"
PSM_HALT = "sg-psm-halt"
COMPARE = "sg-compare"
ADL_RULE = "sg-adl-rule"           # pattern id type: {"type": ADL_RULE, "venue": venue id} (dashboard/venues.py)
COLLATERAL_POLICY = "sg-collateral-policy"  # pattern id type: {"type": COLLATERAL_POLICY, "venue": venue id}
VENUE_GROUP = "sg-venue-group"     # pattern id type: {"type": VENUE_GROUP, "kind": ADL_RULE | COLLATERAL_POLICY}, a group of dropdowns
VENUE_RULES = "sg-venue-rules"     # the per-venue dropdowns (rebuilt when the network changes)
RESET = "controls-reset"
SCENARIO_INFO = "scenario-info"    # the scenario's name, description, changes and inputs with no control

# charts and headline
HEADLINE = "headline"
MESSAGE = "message"
CHART_LOSS = "chart-loss"
ROUNDS_TABLE = "rounds-table"      # the headline figures round by round (charts.rounds_table)
CHART_DEFAULTS = "chart-defaults"
CHART_LIQ = "chart-liquidations"
CHART_PRICES = "chart-prices"
CHART_ENTITIES = "chart-entities"
CHART_BEARERS = "chart-bearers"
TIME_CHARTS = (CHART_LOSS, CHART_DEFAULTS, CHART_LIQ, CHART_PRICES)
TABS = "side-tabs"
PERPS_TABLE = "perps-table"        # per perpetuals venue: the run's waterfall (dashboard/venues.py)

# price-drop sensitivity (dashboard/sensitivity.py)
SENS_ASSET = "sens-asset"
SENS_RUN = "sens-run"
SENS_CHART = "sens-chart"
SENS_NOTE = "sens-note"
LIQ_LEVELS_RUN = "liq-levels-run"   # liquidation levels (dashboard/liquidation_levels.py)
LIQ_LEVELS = "liq-levels"
HF_DIST = "hf-dist"
PERPS_LEVELS = "perps-levels"       # perpetual positions liquidated by the asset's price move, per venue

# critical nodes, detail
CRITICAL_TABLE = "critical-table"
CRITICAL_CSV = "critical-csv"       # "Download CSV" of the critical-nodes grid
CRITICAL_MORE = "critical-more"     # the critical-nodes grid's columns shown besides the scenario's ("More columns")
CRITICAL_NOTE = "critical-note"
CRITICAL_ROWS = "critical-rows"     # the grid's box ("computing" while its rows are of another run than the frames)
CRITICAL_RUN = "critical-run"       # the id of the run the grid's rows are of
CRITICAL_SHOWN = "critical-shown"   # the ids of the runs the grid's cells on screen are of (written by the page)
DETAIL = "entity-detail"            # the entity card ("computing" while it is of another run than the frames)

# snapshots (dashboard/snapshots.py)
SNAPSHOT = "snapshot-menu"         # the shipped snapshot on screen
NAVIGATE = "snapshot-navigate"     # a refreshing dcc.Location: loads the page on another snapshot
DIFF_A = "diff-a"
DIFF_B = "diff-b"
DIFF_RUN = "diff-run"
DIFF_CHART = "diff-chart"
DIFF_TABLES = "diff-tables"

# scenarios
PRESET = "preset"
SCENARIO_DOWNLOAD_BTN = "scenario-download-btn"
SCENARIO_DOWNLOAD = "scenario-download"
SCENARIO_UPLOAD = "scenario-upload"
COPY_LINK = "copy-link"

# data upload
DATA_UPLOAD = "data-upload"
DATA_RESET = "data-reset"
DATA_STATUS = "data-status"
DATASET_NAME = "dataset-name"

# export
EXPORT_PNG = "export-png"
EXPORT_SVG = "export-svg"
SVG_DOWNLOAD = "svg-download"
REPORT_BTN = "report-btn"
REPORT_DOWNLOAD = "report-download"
PRESENT_BTN = "present-btn"          # presentation mode: the contagion path one hop at a time (dashboard/story.py)
PRESENT = "present-overlay"
PRESENT_FRAME = "present-frame"
PRESENT_CLOSE = "present-close"
STORY_BTN = "story-btn"              # the offline HTML story
STORY_DOWNLOAD = "story-download"

# Monte Carlo and sweeps
MC_RUNS = "mc-runs"
MC_SEED = "mc-seed"
MC_CONFIDENCE = "mc-confidence"
MC_DIST = "mc-dist"
MC_HORIZON = "mc-horizon"
MC_RUN = "mc-run"
MC_CANCEL = "mc-cancel"
MC_PROGRESS = "mc-progress"
MC_STATUS = "mc-status"
MC_STALE = "mc-stale"            # says so when the scenario on screen is not the one the result ran on
MC_RESULT = "mc-result"            # {"pd": [...], "n", "network", ...}: what the PD overlay needs
MC_HIST = "mc-hist"
MC_TABLES = "mc-tables"
MC_PD_SWITCH = "mc-pd-switch"
SW_X = "sweep-x"
SW_X_VALUES = "sweep-x-values"
SW_Y = "sweep-y"
SW_Y_VALUES = "sweep-y-values"
SW_RUNS = "sweep-runs"
SW_METRIC = "sweep-metric"
SW_RUN = "sweep-run"
SW_CANCEL = "sweep-cancel"
SW_PROGRESS = "sweep-progress"
SW_STATUS = "sweep-status"
SW_STALE = "sweep-stale"
SW_RESULT = "sweep-result"         # the sweep table (records) the heatmap is drawn from
SW_HEATMAP = "sweep-heatmap"
