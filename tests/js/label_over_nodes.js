() => {
  // Entity labels drawn over another node's marker: each shown label's box (Cytoscape's, model units, outline
  // included) against the body of every other node on the graph (its marker and border, no label), read through
  // cy's API. A pair counts when the boxes overlap by more than `slack` model units in both directions.
  const cy = document.getElementById('graph')._cyreg.cy;
  const slack = 0.5 / cy.zoom();  // half a screen pixel: rounding, not an overlap
  const nodes = cy.nodes().not('.sector');
  const bodies = nodes.map(n => [n.id(), n.data('name') || n.id(),
                                 n.boundingBox({includeNodes: true, includeEdges: false, includeLabels: false, includeOverlays: false})]);
  const hits = [];
  let labels = 0;
  nodes.forEach(n => {
    if (!n.style('label') || n.style('display') === 'none') return;
    const a = n.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false});
    if (!(a.w > 0 && a.h > 0)) return;
    labels++;
    for (const [id, name, b] of bodies) {
      if (id === n.id()) continue;
      const dx = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), dy = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
      if (dx > slack && dy > slack)
        hits.push({label: n.style('label').replace(/\n/g, ' '), node: name, px: Math.round(Math.min(dx, dy) * cy.zoom() * 10) / 10});
    }
  });
  return {labels: labels, hits: hits, zoom: cy.zoom()};
}
