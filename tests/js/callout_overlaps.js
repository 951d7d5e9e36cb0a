() => {
  // The graph's callouts against what they could cover, on the boxes Cytoscape draws (model units; amounts in screen
  // px). Callouts: the contagion path's tags (the shock and the assets a path passes, class `asset`), the labels drawn
  // away from their nodes (lpos "c") and their leader lines (visible edges of class `callout`, node centre to mark).
  // Each is checked against every entity node's body, every entity label (the far ones and the selected entity's
  // bold one included), every sector title and every other callout; a leader line not against its own node or label.
  // A box pair counts when it overlaps by more than half a screen pixel in both directions (its amount: the smaller
  // overlap), a leader line when more than half a pixel of it lies inside the box (its amount: that length).
  const cy = document.getElementById('graph')._cyreg.cy, z = cy.zoom(), slack = 0.5 / z;
  const LABEL = {includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false};
  const BODY = {includeNodes: true, includeEdges: false, includeLabels: false, includeOverlays: false};
  const WHOLE = {includeNodes: true, includeEdges: false, includeLabels: true, includeOverlays: false};
  const name = n => (n.style('label') || n.data('name') || n.id()).replace(/\n/g, ' ');
  const things = [];  // {kind, owner, what, b} (boxes) ...
  cy.nodes().not('.sector, .asset').filter(n => n.visible()).forEach(n => {
    things.push({kind: 'node', owner: n.id(), what: n.data('name') || n.id(), b: n.boundingBox(BODY)});
    if (n.style('label')) {
      const b = n.boundingBox(LABEL);
      if (b.w > 0 && b.h > 0) things.push({kind: n.data('lpos') === 'c' ? 'far label' : 'label', owner: n.id(), what: name(n), b: b});
    }
  });
  cy.nodes('.sector').filter(n => !!n.style('label') && n.visible()).forEach(n => {
    things.push({kind: 'title', owner: n.id(), what: name(n), b: n.boundingBox(LABEL)}); });
  const tags = cy.nodes('.asset').filter(n => n.visible()).map(n => ({kind: 'tag', owner: n.id(), what: name(n), b: n.boundingBox(WHOLE)}));
  const lines = cy.edges('.callout').filter(e => e.visible()).map(e => ({kind: 'leader line', owner: e.source().id(),
    what: name(e.source()), p: e.source().position(), q: e.target().position()}));
  const overlap = (a, b) => Math.min(Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inside = (p, q, b) => {  // length of the segment p-q inside box b (Liang-Barsky)
    let t0 = 0, t1 = 1;
    const dx = q.x - p.x, dy = q.y - p.y;
    for (const [d, lo, hi, v] of [[dx, b.x1, b.x2, p.x], [dy, b.y1, b.y2, p.y]]) {
      if (Math.abs(d) < 1e-12) { if (v <= lo || v >= hi) return 0; continue; }
      let a = (lo - v) / d, c = (hi - v) / d;
      if (a > c) [a, c] = [c, a];
      t0 = Math.max(t0, a); t1 = Math.min(t1, c);
      if (t0 >= t1) return 0;
    }
    return (t1 - t0) * Math.hypot(dx, dy);
  };
  const hits = [];
  const far = things.filter(t => t.kind === 'far label');
  const px = v => Math.round(v * z * 10) / 10;
  tags.forEach((t, k) => {
    for (const o of [...things, ...tags.slice(k + 1)]) {
      const v = overlap(t.b, o.b);
      if (v > slack) hits.push({callout: 'tag ' + t.what, over: o.kind + ' ' + o.what, px: px(v)});
    }
  });
  far.forEach(t => {
    for (const o of things) {
      if (o.owner === t.owner || (o.kind === 'far label' && far.indexOf(o) < far.indexOf(t))) continue;  // each pair once
      const v = overlap(t.b, o.b);
      if (v > slack) hits.push({callout: 'far label ' + t.what, over: o.kind + ' ' + o.what, px: px(v)});
    }
  });
  lines.forEach(l => {
    for (const o of [...things, ...tags]) {
      if (o.owner === l.owner) continue;
      const v = inside(l.p, l.q, o.b);
      if (v > slack) hits.push({callout: 'leader line of ' + l.what, over: o.kind + ' ' + o.what, px: px(v)});
    }
  });
  // how far each callout is from what it names (screen px): a tag from the node or tag its path edge leads to, a far
  // label from its node (box to node body)
  const gap = (a, b) => Math.hypot(Math.max(a.x1 - b.x2, b.x1 - a.x2, 0), Math.max(a.y1 - b.y2, b.y1 - a.y2, 0));
  const reach = [];
  cy.nodes('.asset').filter(n => n.visible()).forEach(n => {
    n.outgoers('edge').targets().forEach(m => reach.push({callout: 'tag ' + name(n), to: m.id(), px: px(gap(n.boundingBox(WHOLE), m.boundingBox(BODY)))})); });
  far.forEach(t => reach.push({callout: 'far label ' + t.what, to: t.owner, px: px(gap(t.b, cy.getElementById(t.owner).boundingBox(BODY)))}));
  return {hits: hits, tags: tags.length, far: far.length, lines: lines.length, reach: reach,
          fontPx: parseFloat(cy.nodes().not('.sector, .asset')[0].style('font-size')) * z};
}
