/* sfm dashboard: the critical-nodes grid's cells of a run, and the runs its cells on screen are of.
 *
 * The grid's rows are of one run (dashboard/critical.py: each row carries its run's id in "run"), and the grid's
 * box is shown beside that run's frames only (sfm.renderRound / sfm.drawPanels, graph_frames.RUN_PANELS). The run id
 * of the rows handed to the grid is not enough to say what the grid shows: dash-ag-grid hands a new rowData to
 * AG Grid in a React effect, after the commit that set it (ag-grid-react's AgGridReactUi applies changed props in
 * useEffect through _processOnChange), and AG Grid writes a changed cell's text through React state (CellComp's
 * setRenderDetails), a render later again, while the box's class, an output of a clientside callback, may be
 * committed in between: the old run's numbers stood in an un-marked box beside the new run's round label.
 *
 * So the cells that hold numbers of the run (critical.RUN_COLUMNS) are drawn by RunCell, which says, once React has
 * written its text to the page (a layout effect: after the commit's DOM changes), which run that text is of. The runs
 * of the cells mounted are gathered per store (cellRendererParams.store, critical.RUN_CELLS) and written to it, sorted
 * and without repeats, once per change (dash_clientside.set_props, after the effects of one commit: a microtask), so
 * the box is shown only when every such cell on screen is of the run drawn. The grid's columns say
 * `equals: false`, so that every cell of a row is drawn again with its new row, equal value or not (AG Grid leaves a
 * cell whose value did not change as it was, and that cell would go on saying the old run).
 */
(function () {
  "use strict";

  const cells = {};      // store id -> Map(cell -> run id of the text it shows)
  const written = {};    // store id -> the runs last written to it (JSON)
  let due = null;        // the stores to write after the effects of this commit

  function write() {
    const stores = due;
    due = null;
    stores.forEach(function (store) {
      const runs = Array.from(new Set((cells[store] || new Map()).values())).sort();
      const key = JSON.stringify(runs);
      if (written[store] === key) return;
      written[store] = key;
      window.dash_clientside.set_props(store, {data: runs});
    });
  }

  function changed(store) {
    if (!due) { due = new Set(); queueMicrotask(write); }
    due.add(store);
  }

  // A cell of the run of its row: the value as the column formats it (the text the grid would draw without a
  // renderer), and, after each commit that writes it, its run in the store's gathering.
  function RunCell(props) {
    const React = window.React;
    const store = props.store, run = (props.data && props.data.run) || "";
    const self = React.useRef(null);
    if (self.current === null) self.current = {};
    React.useLayoutEffect(function () {
      const mine = cells[store] || (cells[store] = new Map());
      mine.set(self.current, run);
      changed(store);
      return function () { mine.delete(self.current); changed(store); };
    }, [store, run]);
    const text = props.valueFormatted !== null && props.valueFormatted !== undefined ? props.valueFormatted : props.value;
    return text === null || text === undefined ? "" : String(text);
  }

  window.dashAgGridComponentFunctions = Object.assign({}, window.dashAgGridComponentFunctions, {RunCell: RunCell});
})();
