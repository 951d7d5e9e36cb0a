/* sfm dashboard: the graph and the round on screen (per-frame work stays in the browser).
 *
 * renderRound  patches node/edge `classes` of the cytoscape elements for one round of the
 *              precomputed cascade (frames store), the charts' round marker and the headline
 *              figures at that round (headlineAt, the twin of headline.headline_at); a new run's
 *              charts and tables (run-view store) and the round slider's range in the same output
 *              set as its frames; the contagion path only when it is of the frames' run, and the
 *              entity card and critical-nodes grid marked computing while they are of another run (the
 *              grid's: that of its cells on screen, assets/sfm_run_cells.js).
 * drawPanels   the same for the panels' own answers (the entity card's highlight, the grid's run).
 * hover        the hover box (name, type, equity, status at the round on screen).
 * pdOverlay    Monte Carlo default probabilities as halos on the graph (switch on the Monte Carlo tab).
 * edgeThreshold, generateImage (PNG download): the graph's exposure filter and picture.
 * The graph is fitted to its box again after the window is resized. dcc.Graph loads the partial plotly.js bundle
 * of assets/ (see below). The animation and address bars' callbacks are assets/sfm_controls.js, the page's own
 * behaviour (notices, lazy bundles) assets/sfm_page.js; they use the helpers this file shares (window.sfmParts).
 */
(function () {
  "use strict";

  // plotly.js: dcc.Graph uses window.Plotly, or else loads window._dashPlotlyJSURL once the first chart
  // mounts, i.e. after the graph and the controls are drawn. Dash points that at plotly's full bundle
  // (4.8 MB); point it at the partial bundle beside this file instead (1.5 MB, same version, the trace
  // types the dashboard draws; assets/VENDORED.md). dash-renderer sets the URL when the app mounts, so the
  // property ignores later writes. (Were the bundle a plain asset script, its evaluation would hold up
  // the first paint of the graph.)
  const here = document.currentScript && document.currentScript.src;
  if (here && !window.Plotly) {
    const plotlyUrl = here.replace(/sfm\.js(\?.*)?$/, "plotly-cartesian.min.js");
    Object.defineProperty(window, "_dashPlotlyJSURL", {configurable: true, get: function () { return plotlyUrl; }, set: function () {}});
  }

  // The status vocabulary, the time charts and the component ids come from the server (graph.page_config, in the
  // frames and in the page-config store): nothing here repeats them. The last ones seen serve the window's handlers.
  let graphId = "graph";

  function nu() { return window.dash_clientside.no_update; }

  function triggeredAll() {
    return (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id.split(".")[0]; });
  }

  function usd(x) {
    if (x === null || x === undefined || isNaN(x)) return "–";
    const sign = x < 0 ? "−" : "";
    let a = Math.abs(x);
    const units = [["tn", 1e12], ["bn", 1e9], ["M", 1e6], ["k", 1e3]];
    for (const [u, d] of units) {
      if (a >= d) { const v = a / d; return sign + "$" + v.toFixed(v < 10 ? 2 : 1) + u; }
    }
    const dollars = a.toFixed(0);
    return (dollars === "0" ? "" : sign) + "$" + dollars;  // a figure that rounds to $0 has no sign (core/formatting.py usd)
  }

  // a share that is not zero but rounds to zero reads "< 0.1%", not "0.0%" (core/formatting.py pct writes the same)
  function pct(x) {
    if (x === null || x === undefined || isNaN(x)) return "–";
    const v = 100 * x;
    if (v !== 0 && Math.abs(v) < 0.05) return v > 0 ? "< 0.1%" : "> −0.1%";
    return v.toFixed(1) + "%";
  }

  // A Dash component as JSON (what a clientside callback returns for `children`).
  function el(type, props) { return {type: type, namespace: "dash_html_components", props: props}; }

  // The helpers the other assets share (assets/sfm_controls.js).
  window.sfmParts = {nu: nu, el: el};

  // The headline cards at round r, from the spec the server sends in the frames (headline.headline_spec):
  // the same cards, text and classes as headline.headline_at draws on the first page.
  function headlineAt(spec, round) {
    const n = spec.n, out = [];
    const fmt = function (f, x) { return f === "count" ? Math.round(x) + " of " + n : usd(x); };
    const delta = function (f, x) { return f === "count" ? String(Math.round(x)) : usd(x); };
    const at = function (v, r) { return v[Math.max(0, Math.min(r, v.length - 1))]; };
    for (const f of spec.figures) {
      const vals = f.values, last = vals.length - 1;
      const r = Math.max(0, Math.min(round || 0, last));
      const v = vals[r];
      const sub = f.key === "total_loss_usd" ? " · marked, " + pct(at(spec.share, r)) + " of equity" : (f.sub || "");
      const when = r === last ? "final, round " + last : "at round " + r + " · final " + fmt(f.fmt, vals[last]);
      const body = [el("Div", {children: [f.label, el("Span", {children: sub, className: "kpi-sub"})], className: "kpi-label"}),
                    el("Div", {children: fmt(f.fmt, v), className: "kpi-value", id: "kpi-" + f.key})];
      // a second measure of the figure under it (headline.COMPANIONS: bad debt marked, under bad debt at par)
      if (f.also) body.push(el("Div", {children: fmt(f.fmt, at(f.also.values, r)) + " " + f.also.word, className: "kpi-also",
                                       id: "kpi-" + f.also.key}));
      body.push(el("Div", {children: when, className: "kpi-when"}));
      // a marked figure below its worst point so far says where that was (headline.peak_line)
      if (f.peak && f.peak[r] > v) body.push(el("Div", {children: "peak " + usd(f.peak[r]) + " at round " + f.peak_round[r], className: "kpi-peak"}));
      if (f.base !== null && f.base !== undefined) {
        const b = at(f.base, r), d = v - b;
        const cls = d < 0 ? "better" : d > 0 ? "worse" : "same";
        body.push(el("Div", {children: (d < 0 ? "−" : "+") + delta(f.fmt, Math.abs(d)) + " vs no safeguards (" + delta(f.fmt, b) + ")",
                             className: "kpi-delta " + cls}));
      }
      out.push(el("Div", f.title ? {children: body, className: "kpi", title: f.title} : {children: body, className: "kpi"}));
    }
    if (spec.note) out.push(el("Div", {children: spec.note, className: "kpi-foot"}));
    return out;
  }

  // An element's classes from its facts, by the server's rules (graph_frames.CLASS_RULES: [fact, template] in order;
  // a false fact adds nothing), and a template's {name} fields filled in (graph_frames.fill): the one definition of
  // both is on the server.
  function writeClasses(rules, facts) {
    const out = [];
    for (const rule of rules) {
      const v = facts[rule[0]];
      if (v) out.push(rule[1].split("{}").join(String(v)));
    }
    return out.join(" ");
  }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) { return String(values[k]); });
  }

  function marker(r) {
    return {type: "line", xref: "x", yref: "paper", x0: r, x1: r, y0: 0, y1: 1,
            line: {color: "#000", width: 1.5, dash: "dot"}};
  }

  // The run whose frames the graph shows (set when renderRound draws them): the run panels are shown beside it only.
  let drawnRun = null;

  // The run the critical-nodes grid is of (graph_frames.grid_run): that of its cells on screen (``shown``, the runs
  // assets/sfm_run_cells.js writes once the cells are drawn), none while they are of several, and with no such cell
  // on screen, that of the rows it was handed (``criticalRun``).
  function gridRun(criticalRun, shown) {
    if (!shown || !shown.length) return criticalRun || null;
    return shown.length === 1 ? shown[0] : null;
  }

  // The class of each run panel (graph_frames.RUN_PANELS: the entity card, whose run is its highlight's, and the
  // critical-nodes grid, gridRun), with the computing class while it is of another run than ``run`` (no_update when
  // not ``due``).
  function runPanels(page, hl, criticalRun, shown, run, due) {
    const runs = [hl ? hl.run : null, gridRun(criticalRun, shown)];
    return page.run_panels.map(function (base, k) {
      if (!due) return nu();
      return runs[k] === run ? base : base + " " + page.computing;
    });
  }

  // The patch of the graph's elements for round r of the frames: every node's and edge's classes (by the server's rules),
  // the run's labels and leader lines, and the contagion path of ``hl`` with its hops through assets, when ``hl`` is of
  // the frames' run (graph_frames.of_run); {patch, counts of each status}, or null when the elements are not this network's.
  function drawElements(frames, r, hl, pdOverlay, elements) {
    const STATUSES = frames.page.statuses;
    const n0 = frames.n, m0 = frames.m;  // the elements are this network's: n nodes, then m edges (then sector titles)
    if (!elements || elements.length < n0 + m0 || (m0 && !elements[n0].data.source) || (n0 && elements[n0 - 1].data.source)) return null;
    const stale = !!(hl && hl.run && frames.run && hl.run !== frames.run);
    if (stale) hl = null;  // a path found in another run is not drawn
    const status = frames.status[r] || "";
    const lit = new Set(frames.lit[r] || []);
    const n = frames.n;
    const pathNodes = new Set((hl && hl.nodes) || []);
    const pathEdges = new Set((hl && hl.edges) || []);
    const sel = hl && hl.entity !== undefined ? hl.entity : null;
    const pd = pdOverlay && pdOverlay.buckets && pdOverlay.buckets.length === n ? pdOverlay.buckets : "";
    const patch = new window.dash_clientside.Patch();
    const RULES = frames.page.classes, counts = {};
    STATUSES.forEach(function (name) { counts[name] = 0; });
    const lab = frames.labels;
    let relabelled = false;
    let changed = 0;
    for (let i = 0; i < frames.n + frames.m; i++) {  // (the sector titles follow the edges)
      let cls;
      if (i < n) {
        const s = +status[i] || 0;
        counts[STATUSES[s]]++;
        cls = writeClasses(RULES.node, {status: STATUSES[s], path: pathNodes.has(i), selected: i === sel,
                                        pd: pd && pd[i] !== "0" ? pd[i] : ""});
        if (lab) {  // the run's labels (graph_labels.place_labels): the affected entities named first
          const d = elements[i].data;
          if (d.label !== lab.text[i]) { patch.assign([i, "data", "label"], lab.text[i]); changed++; relabelled = true; }
          if (d.lpos !== lab.pos[i]) { patch.assign([i, "data", "lpos"], lab.pos[i]); changed++; relabelled = true; }
          ["mx", "my"].forEach(function (k) {  // a label drawn away from its node: its offset (graph_labels.FAR)
            const v = lab[k] ? lab[k][i] : 0;
            if ((d[k] || 0) !== v) { patch.assign([i, "data", k], v); changed++; relabelled = true; }
          });
        }
      } else {
        const j = i - n;
        cls = writeClasses(RULES.edge, {lit: lit.has(j), path: pathEdges.has(j)});
      }
      if ((elements[i].classes || "") !== cls) { patch.assign([i, "classes"], cls); changed++; }
    }
    // after the sector titles: one leader line per entity, shown for the labels drawn away from their nodes, moved and
    // shown or hidden by patch, never added or removed (assets/sfm_leaders.js)
    if (window.sfmLeaders) changed += window.sfmLeaders.patch(elements, n0 + m0, lab, patch);
    // then the path's hops through the shock and assets (detail.path_extras)
    const want = (hl && hl.extras) || [];
    let first = elements.length;
    while (first > n0 + m0 && String(elements[first - 1].classes || "").split(" ").indexOf("extra") >= 0) first--;
    const have = elements.slice(first);
    if (stale) {
      // hidden (class off), not removed, until the path of this run comes: a removal makes dash-cytoscape regroup its
      // elements (nodes first), and the next patch by position would miss them
      have.forEach(function (e, k) {
        const c = String(e.classes || "");
        if (c.split(" ").indexOf("off") < 0) { patch.assign([first + k, "classes"], (c + " off").trim()); changed++; }
      });
    } else if (JSON.stringify(have.map(function (e) { return e.data.id; })) !== JSON.stringify(want.map(function (e) { return e.data.id; }))) {
      for (let i = elements.length - 1; i >= first; i--) patch.delete([i]);
      if (want.length) patch.extend([], want);
      changed++;
    } else {
      have.forEach(function (e, k) {  // the same hops: shown again
        if ((e.classes || "") !== (want[k].classes || "")) { patch.assign([first + k, "classes"], want[k].classes || ""); changed++; }
      });
    }
    if (relabelled) { setTimeout(fitGraph, 60); }  // new labels change the drawing's extent: fit it to the box again
    return {patch: changed ? patch.build() : nu(), counts: counts};
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    sfm: {
      headlineAt: headlineAt,

      renderRound: function (round, frames, pdOverlay, view, hl, criticalRun, elements, criticalShown) {
        if (!frames || !frames.page) { throw window.dash_clientside.PreventUpdate; }
        const N_TIME_CHARTS = frames.page.time_charts.length, ID = frames.page.ids;
        graphId = ID.graph;
        const R = frames.rounds;
        // A new run (cascade.view_store) arrives with its frames: its charts and tables are drawn in this output set, with
        // the round it opens on and the slider's range, never before or after it; a view of another run draws nothing.
        const fired = triggeredAll();
        const fresh = fired.indexOf(ID.run_view) >= 0;
        const outs = fresh && view && view.outputs && view.run === frames.run ? view.outputs : null;
        const r = Math.max(0, Math.min((outs && view.round !== undefined && view.round !== null ? view.round : round) || 0, R - 1));
        const N_VIEW = frames.page.view_outputs;
        // after the view: the slider's value, max and marks (graph_frames.RUN_OUTPUTS), then each run panel's class
        // (graph_frames.RUN_PANELS), written whenever new frames are drawn
        const slider = outs ? [r, R - 1, frames.marks || nu()] : [nu(), nu(), nu()];
        const newFrames = fresh || fired.indexOf(ID.frames) >= 0;
        const tail = function (markers, panels) {
          const after = slider.concat(panels);
          if (!outs) return markers.concat(Array(N_VIEW - N_TIME_CHARTS).fill(nu())).concat(after);
          return outs.slice(0, N_TIME_CHARTS).map(function (f) {
            return Object.assign({}, f, {layout: Object.assign({}, f.layout, {shapes: [marker(r)]})});
          }).concat(outs.slice(N_TIME_CHARTS)).concat(after);
        };
        const head = frames.headline ? headlineAt(frames.headline, r) : nu();
        const drawn = drawElements(frames, r, hl, pdOverlay, elements);
        if (!drawn) { return [nu(), nu(), head].concat(tail(Array(N_TIME_CHARTS).fill(nu()), runPanels(frames.page, null, null, null, null, false))); }
        drawnRun = frames.run;
        const times = frames.times || [];
        const when = r < times.length ? fill(frames.page.when, {time: times[r]}) : "";
        const label = fill(frames.page.round_label, Object.assign({round: r, last: R - 1, when: when}, drawn.counts));
        const figs = [];
        for (let k = 0; k < N_TIME_CHARTS; k++) {
          const fp = new window.dash_clientside.Patch();
          fp.assign(["layout", "shapes"], [marker(r)]);
          figs.push(fp.build());
        }
        return [drawn.patch, label, head].concat(tail(figs, runPanels(frames.page, hl, criticalRun, criticalShown, frames.run, newFrames)));
      },

      // The entity card's highlight or the critical-nodes grid's run arrives (their own server answers, after the run),
      // or the grid's cells on screen change run (criticalShown): draw the path on the graph and show the panels only
      // when they are of the run drawn, else mark them computing.
      // (Apart from renderRound, which reads them as State: as its Inputs, Dash would hold the new run's drawing back
      // until both answers are in.) New frames not yet drawn are left to renderRound.
      drawPanels: function (hl, criticalRun, criticalShown, round, frames, pdOverlay, elements) {
        if (!frames || !frames.page) { throw window.dash_clientside.PreventUpdate; }
        const run = drawnRun === null ? frames.run : drawnRun;  // (the first page is drawn by the server)
        const panels = runPanels(frames.page, hl, criticalRun, criticalShown, run, true);
        if (run !== frames.run) return [nu()].concat(panels);
        const r = Math.max(0, Math.min(round || 0, frames.rounds - 1));
        const drawn = drawElements(frames, r, hl, pdOverlay, elements);
        return [drawn ? drawn.patch : nu()].concat(panels);
      },

      edgeThreshold: function (value, sheet) {
        // One rule hides the exposures below the threshold; a later one keeps the edges that carry a loss or a path.
        const keep = (sheet || []).filter(function (r) { return !r.threshold; });
        if (!value) return keep;
        return keep.concat([{selector: "edge[amount < " + value + "]", style: {display: "none"}, threshold: true},
                            {selector: "edge.lit, edge.path", style: {display: "element"}, threshold: true}]);
      },

      hover: function (d, frames, round) {
        if (!d) { return ""; }
        let s = d.name + " (" + d.id + ")\n" + d.kind;  // type and chain, as the card says them (graph_legend.kind_label)
        if (frames && frames.page && d.idx < frames.n && frames.status.length) {
          const r = Math.max(0, Math.min(round || 0, frames.rounds - 1));
          const st = frames.page.statuses[+frames.status[r][d.idx] || 0];
          s += "\nequity " + usd(frames.equity[r][d.idx]) + " at round " + r + " · " + st;
        }
        s += "\nequity before the shock " + usd(d.equity) + " · total assets " + usd(d.assets);
        return s;
      },

      pdOverlay: function (on, result) {
        const show = !!(on && on.length && result && result.buckets);
        return [show ? {n: result.n, buckets: result.buckets} : null, !show];
      },

      generateImage: function (nPng, scenario, label, config, frames) {
        // PNG only: the SVG is drawn on the server (dashboard/graph_svg.py), which spares the page
        // dash-cytoscape's 1.4 MB "extra" bundle that its own SVG export needs. The picture gets a band on
        // top, as the SVG: the scenario's name, the round on screen and its time, and the legend the server
        // sends (graph.legend_items, in the page config).
        if (!nPng || !config) return nu();
        const el = document.getElementById(config.ids.graph), cy = el && el._cyreg && el._cyreg.cy;
        if (!cy) return nu();
        // the scenario's name as the page shows it (the frames' title, dashboard/controls_scenario.py scenario_title)
        const name = (frames && frames.title) || (scenario && scenario.name) || "scenario";
        const heading = name + " · " + String(label || "").split(" · ")[0].toLowerCase();
        const img = new Image();
        img.onload = function () {
          const s = 2, pad = 16 * s, fs = 18 * s, fl = 14 * s, band = pad + 1.4 * fs + 1.4 * fl;
          const canvas = document.createElement("canvas");
          canvas.width = Math.max(img.width, 900 * s);
          canvas.height = Math.ceil(img.height + band);
          const g = canvas.getContext("2d");
          g.fillStyle = "#ffffff"; g.fillRect(0, 0, canvas.width, canvas.height);
          g.textBaseline = "top"; g.fillStyle = "#222222"; g.font = "600 " + fs + "px Helvetica, Arial, sans-serif";
          g.fillText(heading, pad, pad);
          g.font = fl + "px Helvetica, Arial, sans-serif";
          let x = pad;
          const y = pad + 1.4 * fs;
          (config.legend || []).forEach(function (item) {
            g.fillStyle = item[0]; g.beginPath(); g.arc(x + fl / 2, y + fl / 2, fl / 2, 0, 2 * Math.PI); g.fill();
            g.fillStyle = "#222222"; g.fillText(item[1], x + 1.3 * fl, y);
            x += 1.3 * fl + g.measureText(item[1]).width + 1.2 * fl;
          });
          g.drawImage(img, 0, band);
          const a = document.createElement("a");
          a.href = canvas.toDataURL("image/png"); a.download = "sfm-graph.png";
          document.body.appendChild(a); a.click(); a.remove();
        };
        img.src = cy.png({full: true, bg: "#ffffff", scale: 2});
        return nu();
      }
    }
  });

  // Fit the graph to its box again when the window changes size (debounced), and when the run's labels change.
  function fitGraph() {
    const el = document.getElementById(graphId);
    const cy = el && el._cyreg && el._cyreg.cy;
    if (cy) { cy.resize(); cy.fit(undefined, 24); }
  }
  let resizeTimer = null;
  function refit() { clearTimeout(resizeTimer); resizeTimer = setTimeout(fitGraph, 150); }
  window.addEventListener("resize", refit);
  // The graph's box also changes size while the page settles (the headline, the charts and the fonts arrive after
  // the graph is first drawn): fit again whenever the box's size changes.
  if (typeof ResizeObserver !== "undefined") {
    let size = "";
    const boxObserver = new ResizeObserver(function (entries) {
      const r = entries[0].contentRect, now = Math.round(r.width) + "x" + Math.round(r.height);
      if (now !== size) { size = now; refit(); }
    });
    const watch = new MutationObserver(function () {
      const box = document.querySelector(".graph-canvas");
      if (box) { boxObserver.observe(box); watch.disconnect(); }
    });
    watch.observe(document.documentElement, {childList: true, subtree: true});
  }
})();
