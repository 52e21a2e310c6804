/* cxmetrics dashboard: charts, the filter bar, and live updates. No build step.
 *
 * Live: the page listens to /api/v1/stream (server-sent events). On each `change` it
 * fetches its own URL with the X-CXM-Fragment header, gets the page's content rendered
 * again on the server, and swaps it in; changes arriving during a refresh are coalesced
 * into one more refresh. A hidden tab refreshes when it becomes visible again.
 */
(function () {
  "use strict";
  var content = document.getElementById("content");
  var live = document.getElementById("live");
  var liveText = live ? live.querySelector(".live-text") : null;
  var plotConfig = { displayModeBar: false, responsive: true };

  function drawCharts(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll(".chart").forEach(function (div) {
      var spec = div.querySelector("script[type='application/json']");
      if (!spec) { return; }
      var fig = JSON.parse(spec.textContent);
      var target = div.querySelector(".plot") || div;
      window.Plotly.newPlot(target, fig.data, fig.layout, plotConfig).then(function (gd) {
        gd.on("plotly_click", function (ev) {
          var p = ev && ev.points && ev.points[0];
          var href = p && p.customdata;
          if (typeof href === "string" && href.indexOf("/tickets?") === 0) { window.location.href = href; }
        });
      });
    });
  }

  function purgeCharts(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll(".chart .plot").forEach(function (el) { window.Plotly.purge(el); });
  }

  // -- filter forms: submit on change, leaving empty fields out of the URL ------------
  // (delegated: forms inside the content are replaced by live updates)
  function submitForm(form) {
    var params = new URLSearchParams();
    var period = form.elements.period;
    var custom = !period || period.tagName !== "SELECT" || period.value === "custom";
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.value === "") { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      if (el.name === "period" && period && period.tagName === "SELECT" && custom) { return; }
      if ((el.name === "from" || el.name === "to") && !custom) { return; }
      params.append(el.name, el.value);
    });
    var q = params.toString();
    window.location.href = form.getAttribute("action") + (q ? "?" + q : "");
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("filters")) { return; }
    ev.preventDefault();
    submitForm(form);
  });
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    var form = el.form;
    if (!form || !form.classList.contains("filters")) { return; }
    if (el.name === "period" && el.tagName === "SELECT") {
      var dates = document.getElementById("custom-dates");
      if (el.value === "custom") { dates.hidden = false; form.elements.from.focus(); return; }
      dates.hidden = true;
    }
    if ((el.name === "from" || el.name === "to") && !(form.elements.from.value && form.elements.to.value)) { return; }
    if (el.type === "number") { return; }  // wait for Enter or Apply
    if (el.closest && el.closest(".ms-box")) { el.closest(".ms-box").setAttribute("data-dirty", "1"); return; }
    submitForm(form);
  });

  // -- multi-selects of the filter bar: tick several values, then Apply (or click away) --
  function closeBoxes(except) {
    document.querySelectorAll("details.ms-box[open], details.views-menu[open]").forEach(function (box) {
      if (box === except) { return; }
      box.open = false;
      if (box.getAttribute("data-dirty") && box.closest("form")) { submitForm(box.closest("form")); }
    });
  }
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.classList && t.classList.contains("ms-clear")) {
      var box = t.closest(".ms-box");
      box.querySelectorAll("input[type=checkbox]").forEach(function (c) { c.checked = false; });
      box.removeAttribute("data-dirty");
      submitForm(box.closest("form"));
      return;
    }
    closeBoxes(t.closest ? t.closest("details.ms-box, details.views-menu") : null);
  });
  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (!t.classList || !t.classList.contains("ms-search")) { return; }
    var q = t.value.trim().toLowerCase();
    t.closest(".ms-pop").querySelectorAll(".ms-item").forEach(function (item) {
      item.hidden = q !== "" && item.textContent.toLowerCase().indexOf(q) < 0;
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { closeBoxes(null); }
    // Enter in a list's search box applies the ticks rather than submitting the text
    if (ev.key === "Enter" && ev.target.classList && ev.target.classList.contains("ms-search")) {
      ev.preventDefault();
      submitForm(ev.target.form);
    }
  });

  // -- tables: click a header to sort, type to filter rows (every table in the content;
  // class "no-enhance" opts a table out). A cell's data-sort holds the value behind its
  // formatted text ("2h 14m", "85.0%"); '' sorts last. A row with data-fixed stays at the
  // end (a total). Sort and search are kept per table id across live updates.
  var tableState = {};
  var SEARCH_MIN_ROWS = 6;  // fewer rows: nothing to search
  function cellText(cell) {
    var copy = cell.cloneNode(true);
    copy.querySelectorAll(".sub, details, .badge.warn").forEach(function (el) { el.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  function durationSeconds(text) {
    var m = text.match(/^([−-])?(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s)?$/);
    if (!m || !(m[2] || m[3] || m[4] || m[5])) { return null; }
    var s = (+m[2] || 0) * 86400 + (+m[3] || 0) * 3600 + (+m[4] || 0) * 60 + (+m[5] || 0);
    return m[1] ? -s : s;
  }
  function sortKey(cell) {
    if (!cell) { return null; }
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cellText(cell);
    if (raw === "" || raw === "—" || raw === "–" || raw === "-") { return null; }
    var plain = raw.replace(/[,\u202f ]/g, "").replace(/^[−]/, "-").replace(/(%|pts)$/, "");
    if (/^[+-]?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(plain)) { return parseFloat(plain); }
    var secs = durationSeconds(raw.replace(/\s+/g, ""));
    if (secs !== null) { return secs; }
    if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
      var t = Date.parse(raw.replace(" ", "T"));
      if (!isNaN(t)) { return t; }
    }
    return raw.toLowerCase();
  }
  function cellAt(row, index) {  // the cell under header `index`, counting colspans
    var at = 0;
    for (var i = 0; i < row.cells.length; i++) {
      var span = row.cells[i].colSpan || 1;
      if (index < at + span) { return span === 1 ? row.cells[i] : null; }
      at += span;
    }
    return null;
  }
  function compareKeys(a, b) {
    if (a === null || b === null) { return a === b ? 0 : a === null ? 1 : -1; }  // empty last
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }
  function sortTable(table, index, dir) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    var fixed = rows.filter(function (r) { return r.hasAttribute("data-fixed"); });
    var keyed = rows.filter(function (r) { return !r.hasAttribute("data-fixed"); }).map(function (r, i) {
      return { row: r, key: sortKey(cellAt(r, index)), i: i };
    });
    keyed.sort(function (x, y) {
      if (x.key === null || y.key === null) { return compareKeys(x.key, y.key) || x.i - y.i; }
      return (dir === "descending" ? -1 : 1) * compareKeys(x.key, y.key) || x.i - y.i;  // stable
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    fixed.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute("aria-sort", i === index ? dir : "none");
    });
  }
  function filterTable(table, query) {
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0, total = 0;
    Array.prototype.forEach.call(table.tBodies[0] ? table.tBodies[0].rows : [], function (r) {
      total += 1;
      var text = r.textContent.toLowerCase();
      var hit = terms.every(function (t) { return text.indexOf(t) >= 0; });
      r.hidden = !hit;
      if (hit) { shown += 1; }
    });
    var count = table.parentNode && document.getElementById(table.id + "-count");
    if (count) { count.textContent = terms.length ? shown + " of " + total + " rows" : total + " rows"; }
  }
  function enhanceTables(root) {
    root.querySelectorAll("table").forEach(function (table, n) {
      if (table.classList.contains("no-enhance") || table.hasAttribute("data-enhanced") || !table.tHead ||
          !table.tHead.rows.length || !table.tBodies.length) { return; }
      table.setAttribute("data-enhanced", "1");
      if (!table.id) { table.id = "table-" + n; }
      var state = tableState[table.id] || (tableState[table.id] = { index: null, dir: null, q: "" });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        if (th.colSpan > 1 || th.classList.contains("no-sort")) { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-btn";
        while (th.firstChild) { button.appendChild(th.firstChild); }
        th.appendChild(button);
        th.setAttribute("aria-sort", "none");
        button.addEventListener("click", function () {
          // numbers start high (the largest, the slowest first), text starts at A
          var first = sortKey(cellAt(table.tBodies[0].rows[0] || { cells: [] }, index));
          var dir = state.index === index ? (state.dir === "ascending" ? "descending" : "ascending")
            : (typeof first === "number" ? "descending" : "ascending");
          state.index = index;
          state.dir = dir;
          sortTable(table, index, dir);
        });
      });
      var rows = table.tBodies[0].rows.length;
      if (rows >= SEARCH_MIN_ROWS) {
        var tools = document.createElement("div");
        tools.className = "table-tools";
        var box = document.createElement("input");
        box.type = "search";
        box.className = "table-search";
        box.id = table.id + "-search";
        box.placeholder = "Search " + rows + " rows";
        box.setAttribute("aria-label", "Search the rows of this table");
        box.setAttribute("aria-controls", table.id);
        box.value = state.q;
        var count = document.createElement("span");
        count.className = "table-count muted small";
        count.id = table.id + "-count";
        count.setAttribute("aria-live", "polite");
        tools.appendChild(box);
        tools.appendChild(count);
        var wrap = table.closest(".table-wrap, .table-scroll") || table;
        wrap.parentNode.insertBefore(tools, wrap);
        box.addEventListener("input", function () { state.q = box.value; filterTable(table, box.value); });
        filterTable(table, state.q);
      }
      if (state.index !== null) { sortTable(table, state.index, state.dir); }
    });
  }

  // -- live updates -----------------------------------------------------------------
  var inFlight = false, again = false, pendingWhileHidden = false, refreshes = 0;
  function setLive(state, text) {
    if (!live) { return; }
    live.className = "live " + state;
    if (liveText) { liveText.textContent = text; }
  }
  function stamp() {
    var d = new Date();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  // the header shows the period and the data's freshness: a preset period moves with new data
  function updateHeader() {
    var meta = document.getElementById("view-meta");
    if (!meta) { return; }
    var label = document.getElementById("period-label");
    var latest = document.getElementById("data-latest");
    if (label) { label.textContent = meta.getAttribute("data-period"); }
    if (latest) { latest.textContent = meta.getAttribute("data-latest"); }
    var from = document.getElementById("f-from"), to = document.getElementById("f-to");
    if (from && to && document.activeElement !== from && document.activeElement !== to) {
      from.value = meta.getAttribute("data-from");
      to.value = meta.getAttribute("data-to");
    }
  }
  function refresh() {
    if (document.hidden) { pendingWhileHidden = true; return; }
    if (inFlight) { again = true; return; }
    inFlight = true;
    setLive("on updating", "Updating…");
    fetch(window.location.href, { headers: { "X-CXM-Fragment": "1" }, credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (resp.status === 401) {
          window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
          return null;
        }
        return resp.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) { return; }
        purgeCharts(content);
        content.innerHTML = html;
        updateHeader();
        drawCharts(content);
        enhanceTables(content);  // the swapped-in tables, with the sort and search kept
        refreshes += 1;
        document.body.setAttribute("data-refreshes", String(refreshes));
        setLive("on", "Live · updated " + stamp());
      })
      .catch(function () { setLive("", "Update failed; retrying on the next change"); })
      .then(function () {
        inFlight = false;
        if (again) { again = false; refresh(); }
      });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && pendingWhileHidden) { pendingWhileHidden = false; refresh(); }
  });
  if (live && window.EventSource) {
    var source = new EventSource("/api/v1/stream");
    source.addEventListener("open", function () { setLive("on", "Live"); });
    source.addEventListener("change", refresh);
    source.addEventListener("error", function () { setLive("", "Reconnecting…"); });
    window.addEventListener("beforeunload", function () { source.close(); });
  }

  // -- clock-bound pages (the Queue): content holding [data-refresh-s] is fetched again that
  // often without a data change (time left, who is active, move with the clock); between
  // fetches, while 'now' is the clock ([data-live='1']), each wait ([data-since-ms]) ticks
  var TICK_MS = 5000;
  function durationText(s) {  // as _format.duration: '42s', '3m 05s', '2h 14m', '2d 7h'
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (s < 60) { return Math.round(s) + "s"; }
    if (s < 3600) { return Math.floor(s / 60) + "m " + two(Math.floor(s % 60)) + "s"; }
    if (s < 86400) { return Math.floor(s / 3600) + "h " + two(Math.floor(s % 3600 / 60)) + "m"; }
    return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
  }
  function tick() {
    if (!content || document.hidden || !content.querySelector("[data-live='1']")) { return; }
    content.querySelectorAll("[data-since-ms]").forEach(function (el) {
      // never below the server's own figure (a browser clock running behind)
      var s = Math.max((Date.now() - Number(el.getAttribute("data-since-ms"))) / 1000,
                       Number(el.getAttribute("data-seconds")) || 0);
      el.textContent = durationText(s);
    });
  }
  var lastPeriodic = Date.now();
  window.setInterval(function () {
    tick();
    var every = content && content.querySelector("[data-refresh-s]");
    if (every && Date.now() - lastPeriodic >= 1000 * Number(every.getAttribute("data-refresh-s"))) {
      lastPeriodic = Date.now();
      refresh();
    }
  }, TICK_MS);

  drawCharts(document);
  if (content) { enhanceTables(content); }
})();
