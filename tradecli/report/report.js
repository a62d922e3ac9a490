"use strict";
// The report's script: sortable tables, the searchable table of all
// markets and the per-market view (prices, orders, fills), drawn as SVG
// from the data in #report-data. Errors show at the top of the page and
// mark <html data-errors>, which the browser test checks.
(function () {
  var errs = [];
  function fail(msg) {
    errs.push(String(msg));
    var e = document.getElementById("errors");
    e.style.display = "block";
    e.textContent = "This page hit an error: " + errs.join("; ");
    document.documentElement.setAttribute("data-errors", String(errs.length));
  }
  window.addEventListener("error", function (e) { fail(e.message); });
  var consoleError = console.error;
  console.error = function () { fail([].join.call(arguments, " ")); consoleError.apply(console, arguments); };

  // The data is gzipped JSON in base64 (report.html.tmpl); start runs once
  // it is read.
  var src = document.getElementById("report-data").textContent.trim();
  if (typeof DecompressionStream !== "function") {
    fail("this browser cannot unpack the report's data (no DecompressionStream): open it in a current Chrome, Edge, Firefox or Safari");
    return;
  }
  var bin = atob(src), bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text()
    .then(function (text) { start(JSON.parse(text)); })
    .catch(function (e) { fail(e && e.stack || e); });

  function start(D) {
  var SVG = "http://www.w3.org/2000/svg";
  function col(cols) { var o = {}; cols.forEach(function (c, i) { o[c] = i; }); return o; }
  var M = col(D.mcols), O = col(D.ocols);
  var byId = {};
  D.markets.forEach(function (m) { byId[m[M.id]] = m; });
  var ordersOf = {};
  D.orders.forEach(function (o) { (ordersOf[o[O.market_id]] = ordersOf[o[O.market_id]] || []).push(o); });

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function money(v) { var s = Number(v).toFixed(2); return s === "-0.00" ? "0.00" : s; }
  function time(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z" : ""; }
  function hms(ms) { return new Date(ms).toISOString().slice(11, 19); }

  // Sorting: a click on a header sorts by that column, numbers as numbers.
  function sortable(table, onSort) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, i) {
      th.addEventListener("click", function () {
        var dir = th.getAttribute("data-dir") === "asc" ? "desc" : "asc";
        heads.forEach(function (h) { h.removeAttribute("data-dir"); });
        th.setAttribute("data-dir", dir);
        if (onSort) { onSort(i, dir); return; }
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { return cmp(a.cells[i].textContent, b.cells[i].textContent) * (dir === "asc" ? 1 : -1); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  function cmp(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && /^[-\d.]/.test(a) && /^[-\d.]/.test(b)) return x - y;
    return String(a).localeCompare(String(b));
  }
  document.querySelectorAll("table.sortable").forEach(function (t) { if (t.id !== "market-table") sortable(t); });

  // The table of all markets: filtered by the search box, sorted by a
  // header, showing the first rows (a 10,000-row table is slow to lay out).
  var LIMIT = 300;
  var mt = document.getElementById("market-table");
  var shown = [["id", "market"], ["name", "name"], ["event", "event"], ["type", "type"], ["venue", "venue"],
    ["settled_at", "settled"], ["orders", "orders"], ["orders_matched", "matched"], ["size_matched", "volume"],
    ["profit", "profit"], ["net", "net"]];
  var numeric = { orders: 1, orders_matched: 1, size_matched: 1, profit: 1, net: 1 };
  var hr = el("tr");
  shown.forEach(function (c) { hr.appendChild(el("th", numeric[c[0]] ? { class: "n" } : {}, c[1])); });
  mt.tHead.appendChild(hr);
  var order = D.markets.slice();
  function renderTable() {
    var q = document.getElementById("market-search").value.toLowerCase();
    var body = mt.tBodies[0];
    body.textContent = "";
    var n = 0, total = 0;
    order.forEach(function (m) {
      if (q && [m[M.id], m[M.name], m[M.event], m[M.venue], m[M.type]].join(" ").toLowerCase().indexOf(q) < 0) return;
      total++;
      if (n >= LIMIT) return;
      n++;
      var tr = el("tr", { "data-market": m[M.id] });
      shown.forEach(function (c) {
        var v = m[M[c[0]]];
        if (c[0] === "size_matched" || c[0] === "profit" || c[0] === "net") v = money(v);
        if (c[0] === "settled_at") v = time(v);
        var td = el("td", numeric[c[0]] ? { class: "n" } : {});
        if (c[0] === "id") td.appendChild(el("a", { href: "#market=" + m[M.id] }, v));
        else td.textContent = v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById("market-count").textContent = total + " of " + D.markets.length + " markets" + (total > n ? ", the first " + n + " shown" : "");
  }
  sortable(mt, function (i, dir) {
    var k = M[shown[i][0]];
    order.sort(function (a, b) { return cmp(a[k], b[k]) * (dir === "asc" ? 1 : -1); });
    renderTable();
  });
  document.getElementById("market-search").addEventListener("input", renderTable);
  renderTable();

  // The per-market view.
  function view(id) {
    var box = document.getElementById("market-view");
    box.textContent = "";
    var m = byId[id];
    if (!m) { if (id) box.appendChild(el("p", { class: "muted" }, "No market " + id + " in this run.")); return; }
    box.setAttribute("data-market", id);
    box.appendChild(el("h3", { id: "market-title" }, "Market " + id + (m[M.name] ? " · " + m[M.name] : "") + (m[M.event] ? " · " + m[M.event] : "")));
    var facts = [["type", m[M.type]], ["venue", m[M.venue]], ["scheduled off", time(m[M.market_time])], ["in play from", time(m[M.off_at])],
      ["settled", time(m[M.settled_at])], ["status", m[M.status]], ["orders", m[M.orders]], ["profit", money(m[M.profit])],
      ["commission", money(m[M.commission])], ["net", money(m[M.net])]];
    box.appendChild(el("p", { class: "muted" }, facts.filter(function (f) { return f[1] !== "" && f[1] !== undefined; }).map(function (f) { return f[0] + " " + f[1]; }).join(" · ")));
    var orders = ordersOf[id] || [];
    var series = D.series[id] || [];
    if (orders.length && !series.length) box.appendChild(el("p", { class: "muted" }, "No price series: the run was made without --report."));
    series.forEach(function (s) { box.appendChild(chart(m, s, orders)); });
    if (!orders.length) { box.appendChild(el("p", { class: "muted" }, "The strategy placed no orders in this market.")); return; }
    var t = el("table", { id: "market-orders", class: "sortable" });
    var cols = [["order_id", "order"], ["selection_id", "runner"], ["side", "side"], ["order_type", "type"], ["price", "price"], ["size", "size"],
      ["placed_at", "placed"], ["status", "status"], ["size_matched", "matched"], ["average_price_matched", "avg price"],
      ["size_cancelled", "cancelled"], ["size_lapsed", "lapsed"], ["size_voided", "voided"], ["runner_status", "runner status"],
      ["profit", "profit"], ["queue_ahead_at_place", "queue ahead"]];
    var h = el("tr");
    cols.forEach(function (c) { h.appendChild(el("th", {}, c[1])); });
    t.appendChild(el("thead")).appendChild(h);
    var body = t.appendChild(el("tbody"));
    orders.forEach(function (o) {
      var tr = el("tr", { "data-order": id + "/" + o[O.order_id] });
      cols.forEach(function (c) {
        var v = o[O[c[0]]];
        if (c[0] === "placed_at") v = time(v);
        if (c[0] === "selection_id") v = v + (D.runners[id + "/" + v] ? " " + D.runners[id + "/" + v] : "");
        if (c[0] === "profit") v = money(v);
        if (c[0] === "status" && o[O.violation]) v += " (" + o[O.violation] + ")";
        if (c[0] === "status" && o[O.error_code]) v += " (" + o[O.error_code] + ")";
        tr.appendChild(el("td", {}, v));
      });
      body.appendChild(tr);
    });
    box.appendChild(el("h3", {}, "Orders in this market")).after(t);
    sortable(t);
  }

  // chart draws one runner's best back, best lay and last traded price
  // (a step line each, on the tick ladder) around the strategy's orders,
  // with its orders, their fills and the off.
  function chart(m, s, orders) {
    var sel = s[0], hc = s[1], t = s[2], dt = s[3];
    // Prices are changes of tick index + 1 (0 none): add them up.
    function undelta(a) { var v = 0; return a.map(function (d) { v += d; return v - 1; }); }
    var bk = undelta(s[4]), ly = undelta(s[5]), lt = undelta(s[6]);
    var ts = [];
    dt.forEach(function (d) { t += d * 100; ts.push(t); });
    var mine = orders.filter(function (o) { return o[O.selection_id] === sel && o[O.handicap] === hc; });
    var fills = [];
    mine.forEach(function (o) { (D.fills[m[M.id] + "/" + o[O.order_id]] || []).forEach(function (f) { fills.push([f, o]); }); });
    // The window: from a few minutes before the first order (or the
    // scheduled off) to a little after the last order, fill or the off.
    var first = Infinity, last = -Infinity;
    mine.forEach(function (o) { if (o[O.placed_at]) { first = Math.min(first, o[O.placed_at]); last = Math.max(last, o[O.placed_at]); } });
    fills.forEach(function (f) { last = Math.max(last, f[0][0]); });
    [m[M.market_time], m[M.off_at]].forEach(function (x) { if (x) { first = Math.min(first, x); last = Math.max(last, x); } });
    var x0 = Math.max(ts[0], (isFinite(first) ? first : ts[0]) - 300000);
    var x1 = Math.min(ts[ts.length - 1], (isFinite(last) ? last : ts[ts.length - 1]) + 120000);
    if (!(x1 > x0)) { x0 = ts[0]; x1 = Math.max(ts[ts.length - 1], x0 + 1000); }
    var lo = Infinity, hi = -Infinity;
    function see(i) { if (i >= 0) { lo = Math.min(lo, i); hi = Math.max(hi, i); } }
    ts.forEach(function (x, i) {
      var inside = x >= x0 && x <= x1 || (x < x0 && (i + 1 === ts.length || ts[i + 1] > x0));
      if (inside) { see(bk[i]); see(ly[i]); see(lt[i]); }
    });
    mine.forEach(function (o) { if (o[O.price] > 0) see(tick(o[O.price])); });
    fills.forEach(function (f) { see(tick(f[0][1])); });
    if (!isFinite(lo)) { lo = 0; hi = 10; }
    lo = Math.max(0, lo - 2); hi = Math.min(D.ticks.length - 1, hi + 2);
    var W = 720, H = 280, L = 56, R = 12, T = 14, B = 26;
    function px(x) { return L + (x - x0) / (x1 - x0) * (W - L - R); }
    function py(i) { return T + (hi - i) / Math.max(hi - lo, 1) * (H - T - B); }
    var name = D.runners[m[M.id] + "/" + sel] || "";
    var wrap = el("div", { class: "runner" });
    wrap.appendChild(el("h3", {}, "Runner " + sel + (name ? " · " + name : "") + (hc ? " (handicap " + hc + ")" : "")));
    var svg = sv("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img",
      "aria-label": "prices and orders of runner " + sel + " in market " + m[M.id] });
    svg.appendChild(sv("rect", { class: "frame", x: L, y: T, width: W - L - R, height: H - T - B }));
    for (var k = 0; k <= 4; k++) {
      var ti = Math.round(lo + (hi - lo) * k / 4);
      svg.appendChild(sv("text", { class: "lab", x: L - 6, y: py(ti) + 4 }, String(D.ticks[ti])));
    }
    svg.appendChild(sv("text", { class: "lab x0", x: L, y: H - 8 }, hms(x0) + "Z"));
    svg.appendChild(sv("text", { class: "lab x1", x: W - R, y: H - 8, "text-anchor": "end" }, hms(x1) + "Z"));
    [[bk, "back"], [ly, "lay"], [lt, "ltp"]].forEach(function (p) {
      var d = "", prev = -1;
      for (var i = 0; i < ts.length; i++) {
        var a = Math.max(ts[i], x0), b = i + 1 < ts.length ? Math.min(ts[i + 1], x1) : x1;
        if (b < x0 || a > x1 || b < a) { prev = -1; continue; }
        var v = p[0][i];
        if (v < 0) { prev = -1; continue; }
        d += (prev < 0 ? "M" + px(a).toFixed(1) + " " : "V") + py(v).toFixed(1) + "H" + px(b).toFixed(1);
        prev = v;
      }
      if (d) svg.appendChild(sv("path", { class: "mark " + p[1], d: d }));
    });
    [[m[M.market_time], "sched", "scheduled off"], [m[M.off_at], "off", "off"]].forEach(function (v) {
      if (v[0] && v[0] >= x0 && v[0] <= x1) {
        svg.appendChild(sv("line", { class: v[1], x1: px(v[0]), x2: px(v[0]), y1: T, y2: H - B }));
        svg.appendChild(sv("text", { class: "lab x", x: px(v[0]), y: T - 3 }, v[2]));
      }
    });
    mine.forEach(function (o) {
      if (!o[O.placed_at] || !(o[O.price] > 0)) return;
      var x = px(Math.min(Math.max(o[O.placed_at], x0), x1)), y = py(tick(o[O.price]));
      var st = o[O.size_matched] >= o[O.size] ? "o-full" : o[O.size_matched] > 0 ? "o-part" : "o-none";
      var up = o[O.side] === "BACK";
      var pts = up ? [x, y - 7, x - 6, y + 4, x + 6, y + 4] : [x, y + 7, x - 6, y - 4, x + 6, y - 4];
      var tri = sv("polygon", { class: "mark order " + st, points: pts.join(" "), "data-order": m[M.id] + "/" + o[O.order_id] });
      tri.appendChild(sv("title", {}, "order " + o[O.order_id] + ": " + o[O.side] + " " + o[O.size] + " @ " + o[O.price] + ", " +
        o[O.status] + ", matched " + o[O.size_matched] + ", cancelled " + o[O.size_cancelled] + ", lapsed " + o[O.size_lapsed]));
      svg.appendChild(tri);
    });
    fills.forEach(function (f) {
      var x = px(Math.min(Math.max(f[0][0], x0), x1)), y = py(tick(f[0][1]));
      var c = sv("circle", { class: "mark fill", cx: x.toFixed(1), cy: y.toFixed(1), r: Math.min(2.5 + Math.sqrt(f[0][2]) / 2, 9).toFixed(1) });
      c.appendChild(sv("title", {}, "fill of order " + f[1][O.order_id] + ": " + f[0][2] + " @ " + f[0][1] + " at " + time(f[0][0])));
      svg.appendChild(c);
    });
    wrap.appendChild(svg);
    var lg = el("p", { class: "legend" });
    [["#2a7de1", "best back"], ["#e0609a", "best lay"], ["#333", "last traded"]].forEach(function (l) {
      var s = el("span"); s.appendChild(el("i", { style: "background:" + l[0] })); s.appendChild(document.createTextNode(l[1])); lg.appendChild(s);
    });
    lg.appendChild(el("span", {}, "▲ back ▼ lay order placed: green fully matched, amber part, white unmatched (cancelled or lapsed) · ● fill"));
    wrap.appendChild(lg);
    return wrap;
  }
  function tick(p) {
    var a = 0, b = D.ticks.length - 1;
    while (a < b) { var c = (a + b + 1) >> 1; if (D.ticks[c] <= p + 1e-9) a = c; else b = c - 1; }
    return a;
  }

  function route() {
    var h = /market=([^&]+)/.exec(location.hash);
    var id = h ? decodeURIComponent(h[1]) : "";
    if (!id) {
      // With no market chosen, show the one that lost the most.
      var worst = null;
      D.markets.forEach(function (m) { if (m[M.orders] > 0 && (!worst || m[M.net] < worst[M.net])) worst = m; });
      id = worst ? worst[M.id] : (D.markets[0] ? D.markets[0][M.id] : "");
    }
    view(id);
    document.querySelectorAll("#market-table tr.sel").forEach(function (r) { r.classList.remove("sel"); });
    var row = document.querySelector('#market-table tr[data-market="' + id + '"]');
    if (row) row.classList.add("sel");
    // "&focus" shows the market's view alone: a link to share, a page to
    // print or screenshot.
    var focus = /(^|[#&])focus\b/.test(location.hash);
    document.body.classList.toggle("focus", focus);
    if (h && !focus) document.getElementById("market-view").scrollIntoView();
  }
  window.addEventListener("hashchange", route);
  route();
  document.documentElement.setAttribute("data-ready", "1");
  // When the page became usable, in ms from navigation: docs/report.md
  // quotes it for a 10,000-market report.
  document.documentElement.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  }
})();
