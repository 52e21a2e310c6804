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
    submitForm(form);
  });

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

  drawCharts(document);
})();
