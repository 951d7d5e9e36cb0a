/* sfm dashboard: the page's own behaviour, apart from the clientside callbacks.
 *
 * toast        a short notice at the foot of the page (window.sfmToast).
 * lazy bundles the component libraries the first page leaves out (dashboard/bundles.py) load when a tab that needs
 *              them is about to open (window.sfmLoadBundle).
 * The slider's number box says when a value typed beyond the slider's range was clamped, a file input is emptied
 * once its files are read (so that choosing the same file again uploads it again), and the charts' static pictures
 * of the first paint are hidden for good once plotly.js has drawn every chart.
 */
(function () {
  "use strict";

  // A short notice at the foot of the page (role=status, so screen readers say it too); `sticky` keeps it
  // until the next one (a link to copy by hand).
  let toastTimer = null;
  function toast(text, sticky) {
    let t = document.getElementById("sfm-toast");
    if (!t) {
      t = document.createElement("div");
      t.id = "sfm-toast";
      t.setAttribute("role", "status");
      document.body.appendChild(t);
    }
    t.textContent = text;
    t.className = "toast show";
    clearTimeout(toastTimer);
    if (!sticky) toastTimer = setTimeout(function () { t.className = "toast"; }, 4000);
  }
  window.sfmToast = toast;

  // Component bundles the first page leaves out (dashboard/bundles.py: window.sfmLazyBundles, namespace -> URLs) load
  // when the pointer or the focus reaches a tab marked needs-<namespace>; a click on such a tab waits for them
  // (the tab would render components whose library is not there yet), then is made again.
  const bundleLoads = {};
  function loaded(ns) { return !!window[ns] && !window[ns].__sfmDeferred; }
  // Until then a placeholder namespace answers the renderer's look-ups of the library's component types (it looks up
  // every component of the layout when the page opens, drawn or not): each type draws nothing.
  function placeholder() { return null; }
  Object.keys(window.sfmLazyBundles || {}).forEach(function (ns) {
    if (!window[ns]) {
      window[ns] = new Proxy({}, {get: function (t, k) {
        return k === "__sfmDeferred" ? true : typeof k === "string" && /^[A-Z]/.test(k) ? placeholder : undefined;
      }});
    }
  });
  function loadBundle(ns) {
    if (loaded(ns)) return Promise.resolve();
    if (!bundleLoads[ns]) {
      const urls = (window.sfmLazyBundles || {})[ns] || [];
      bundleLoads[ns] = urls.reduce(function (done, url) {
        return done.then(function () {
          return new Promise(function (resolve, reject) {
            const s = document.createElement("script");
            s.src = url; s.async = false;
            s.onload = resolve;
            s.onerror = function () { delete bundleLoads[ns]; reject(new Error("could not load " + url)); };
            document.head.appendChild(s);
          });
        });
      }, Promise.resolve());
    }
    return bundleLoads[ns];
  }
  function neededBy(target) {
    const tab = target && target.closest ? target.closest("[class*='needs-']") : null;
    if (!tab) return null;
    const names = String(tab.className).split(/\s+/).filter(function (c) { return c.indexOf("needs-") === 0; })
      .map(function (c) { return c.slice(6); }).filter(function (ns) { return !loaded(ns); });
    return names.length ? {tab: tab, names: names} : null;
  }
  ["pointerover", "focusin", "touchstart"].forEach(function (type) {
    window.addEventListener(type, function (e) {
      const need = neededBy(e.target);
      if (need) need.names.forEach(function (ns) { loadBundle(ns).catch(function () {}); });
    }, {capture: true, passive: true});
  });
  window.addEventListener("click", function (e) {
    const need = neededBy(e.target);
    if (!need) return;
    e.preventDefault(); e.stopPropagation();  // before React sees it: the tab opens once its libraries are there
    const target = e.target;
    Promise.all(need.names.map(loadBundle)).then(function () { target.click(); },
      function (err) { toast("This tab could not load: " + err.message + ". Reload the page to try again.", true); });
  }, true);
  window.sfmLoadBundle = loadBundle;

  // A value typed into a slider's number box beyond the slider's range is clamped by the slider: say so.
  document.addEventListener("change", function (e) {
    const t = e.target;
    if (!t || t.tagName !== "INPUT" || t.type !== "number") return;
    if (!t.closest(".dash-slider-container")) return;
    const v = parseFloat(t.value), lo = parseFloat(t.min), hi = parseFloat(t.max);
    if (isNaN(v) || isNaN(lo) || isNaN(hi) || (v >= lo && v <= hi)) return;
    const field = t.closest(".field");
    const lab = field && field.querySelector(".field-label");
    const label = lab && lab.firstChild ? lab.firstChild.textContent : "This slider";  // (the hint follows in a <small>)
    const to = v < lo ? lo : hi;
    toast(label + ": " + String(v).replace("-", "−") + " is outside the range " + String(lo).replace("-", "−") + " to " +
          String(hi).replace("-", "−") + "; set to " + String(to).replace("-", "−") + ".");
  }, true);

  // Let the same file be chosen twice: a file input whose value does not change fires no change event.
  // (dcc.Upload copies the files synchronously while the event is dispatched; the value is emptied after.)
  document.addEventListener("change", function (e) {
    const t = e.target;
    if (t && t.tagName === "INPUT" && t.type === "file") { setTimeout(function () { t.value = ""; }, 0); }
  }, true);

  // The static chart pictures are for the first paint only (dashboard/chart_svg.py): once plotly.js has drawn
  // every chart, hide them for good, so that a side tab shown again never flashes the first page's pictures.
  const firstPaint = new MutationObserver(function () {
    const boxes = document.querySelectorAll(".chart-box");
    if (boxes.length && Array.prototype.every.call(boxes, function (b) { return b.querySelector(".main-svg"); })) {
      document.documentElement.classList.add("charts-live");
      firstPaint.disconnect();
    }
  });
  firstPaint.observe(document.documentElement, {childList: true, subtree: true});
})();
