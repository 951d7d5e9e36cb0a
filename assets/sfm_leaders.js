/* sfm dashboard: the leader lines of labels drawn away from their nodes (dashboard/graph_leaders.py).
 *
 * The graph holds one leader line per entity, always: an invisible mark and an edge from the node to it (class
 * "callout", data.ent the entity's index). sfmLeaders.patch (called by sfm.renderRound) shows the pairs of the
 * run's far labels (frames.labels.callouts), their marks moved to the label's box edge, and hides the others on
 * their nodes (class "off"), by Patch assignments only. It never adds or removes an element: dash-cytoscape writes
 * its element list back grouped (nodes, then edges) when a patch does, which breaks the order renderRound relies on.
 */
(function () {
  "use strict";

  function isCallout(el) { return String(el.classes || "").split(" ").indexOf("callout") >= 0; }

  window.sfmLeaders = {
    // Patch the leader-line pairs among elements[from..] to the labels `lab`; the number of assignments made.
    patch: function (elements, from, lab, patch) {
      const at = {};
      ((lab && lab.callouts) || []).forEach(function (el) { if (!el.data.source) at[el.data.ent] = el.position; });
      let changed = 0;
      for (let i = from; i < elements.length; i++) {
        const el = elements[i];
        if (!isCallout(el)) continue;
        const want = at[el.data.ent];
        const base = String(el.classes).split(" ").filter(function (c) { return c !== "off"; }).join(" ");
        const cls = want ? base : base + " off";
        if (el.classes !== cls) { patch.assign([i, "classes"], cls); changed++; }
        if (el.data.source) continue;
        const node = elements[el.data.ent];
        const p = want || (node && node.position);  // hidden, a mark waits on its own node
        if (p && !(el.position && el.position.x === p.x && el.position.y === p.y)) {
          patch.assign([i, "position"], {x: p.x, y: p.y});
          changed++;
        }
      }
      return changed;
    }
  };
})();
