() => {
  // Label boxes drawn by Cytoscape (model units) and the pairs of them that overlap; the smallest entity label on screen.
  // One copy, evaluated in the page by benchmarks/bench_dashboard.py and tests/test_dashboard_views_browser.py.
  const cy = document.getElementById('graph')._cyreg.cy;
  const boxes = [];
  cy.nodes().forEach(n => {
    if (!n.style('label')) return;
    const b = n.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false});
    if (b.w > 0 && b.h > 0) boxes.push(b);
  });
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) overlaps++;
  }
  const entities = cy.nodes().not('.sector, .asset');
  return {labels: boxes.length, overlaps: overlaps, entities: entities.length,
          entityLabels: entities.filter(n => !!n.style('label')).length,
          minFontPx: Math.min(...entities.map(n => parseFloat(n.style('font-size')) * cy.zoom())),
          defaultedUnnamed: cy.nodes('.st-defaulted').filter(n => !n.style('label')).length,
          sectors: cy.nodes('.sector').map(n => n.style('label'))};
}
