// Runs a function of assets/sfm.js in node, without a browser: `node run_sfm.js < {"fn": name, "args": [...]}`.
// The page objects sfm.js touches when it loads are stubbed; the functions under test use none of them.
"use strict";
const fs = require("fs");
const path = require("path");
const asset = function (name) { return fs.readFileSync(path.join(__dirname, "..", "..", "assets", name), "utf8"); };
const noop = function () {};
// Dash's Patch, recording its operations (what the page would apply to the property).
function Patch() { this.ops = []; }
Patch.prototype.assign = function (loc, value) { this.ops.push(["assign", loc, value]); return this; };
Patch.prototype.delete = function (loc) { this.ops.push(["delete", loc]); return this; };
Patch.prototype.extend = function (loc, value) { this.ops.push(["extend", loc, value]); return this; };
Patch.prototype.build = function () { return {__patch: this.ops}; };
global.window = {addEventListener: noop, dash_clientside: {no_update: {no_update: true}, Patch: Patch, callback_context: {triggered: []}}};
global.document = {currentScript: null, addEventListener: noop, documentElement: {classList: {add: noop}},
                   querySelectorAll: function () { return []; }, getElementById: function () { return null; }};
global.MutationObserver = function () { this.observe = noop; this.disconnect = noop; };
new Function(asset("sfm.js"))();
new Function(asset("sfm_leaders.js"))();  // renderRound's leader lines (loaded after sfm.js on the page too)
const req = JSON.parse(fs.readFileSync(0, "utf8"));
// the inputs that fired the callback (Dash's callback_context.triggered), by "component_id.property"
window.dash_clientside.callback_context.triggered = (req.triggered || []).map(function (p) { return {prop_id: p}; });
const out = window.dash_clientside.sfm[req.fn].apply(null, req.args);
process.stdout.write(JSON.stringify(out));
