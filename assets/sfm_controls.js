/* sfm dashboard: the clientside callbacks of the animation bar and of the address bar.
 *
 * animate      play / pause / step and the interval's ticks (one callback owns the round while animating).
 * speed        the interval's period from the speed menu.
 * writeUrl     keeps the address bar in step with the view (history.replaceState).
 * checkLink    hands the link to the server when the first page was not built from it.
 * copyLink     copies the link to the view (or shows it, to copy by hand).
 * They join the "sfm" namespace of assets/sfm.js (loaded before this file: Dash loads the assets in name order), whose
 * helpers they use (window.sfmParts); the notice at the foot of the page is assets/sfm_page.js's (window.sfmToast).
 */
(function () {
  "use strict";

  const parts = window.sfmParts;
  const nu = parts.nu, el = parts.el;

  function triggered() {
    const t = window.dash_clientside.callback_context.triggered || [];
    return t.length ? t[0].prop_id.split(".")[0] : "";
  }

  function toast(text, sticky) { window.sfmToast(text, sticky); }

  Object.assign(window.dash_clientside.sfm, {
    // the Entity tab's "Clear selection": hidden while nothing is selected (dashboard/detail.py)
    hiddenWithoutSelection: function (entity) { return !entity; },
    animate: function (nPlay, nBack, nFwd, nTick, disabled, round, max, config) {
      const t = triggered(), id = config.ids;
      const r = round || 0, m = max || 0;
      // the button's faces (graph_frames.PLAY_FACES): a CSS icon, hidden from screen readers, and the word
      const face = function (f) {
        return [el("Span", {className: f[0], "aria-hidden": "true"}), f[1]];
      };
      const PLAY = face(config.play_faces.play), PAUSE = face(config.play_faces.pause);
      if (t === id.play) {
        if (disabled) { return [r >= m ? 0 : nu(), m === 0, m === 0 ? PLAY : PAUSE]; }
        return [nu(), true, PLAY];
      }
      if (t === id.back) { return [Math.max(0, r - 1), true, PLAY]; }
      if (t === id.step) { return [Math.min(m, r + 1), true, PLAY]; }
      if (t === id.tick) {
        if (disabled) { return [nu(), nu(), nu()]; }
        if (r >= m) { return [nu(), true, PLAY]; }
        return r + 1 >= m ? [r + 1, true, PLAY] : [r + 1, false, nu()];
      }
      return [nu(), nu(), nu()];
    },

    speed: function (ms) { return ms || 700; },

    writeUrl: function (s, cmp, r, e) {
      const params = new URLSearchParams();
      // the snapshot on screen stays in the link (the page is reloaded to change it: dashboard/snapshots.py)
      const snapshot = new URLSearchParams(window.location.search).get("snapshot");
      if (snapshot) params.set("snapshot", snapshot);
      if (s) params.set("s", s);
      if (cmp && cmp.length) params.set("cmp", "1");
      if (r) params.set("r", String(r));
      if (e) params.set("e", e);
      const q = params.toString();
      const url = window.location.pathname + (q ? "?" + q : "");
      if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", url);
      }
      return url;
    },

    checkLink: function (search, applied) {
      // The first page is built on the server from the link (app.page); only when that did not
      // happen (no Referer header on the layout request) does the link go to the server again.
      if (search === undefined || search === null) { return nu(); }
      const strip = function (q) { return (q || "").replace(/^\?/, ""); };
      return strip(search) === strip(applied) ? nu() : window.location.href;
    },

    copyLink: function (n) {
      const href = window.location.href;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(href).then(function () { toast("Link copied to the clipboard."); },
                                                 function () { toast("Copy this link: " + href, true); });
      } else {
        toast("Copy this link: " + href, true);
      }
      return "Link to this view: " + href;
    }
  });
})();
