// Waldo's run page: draws the pipeline DAG, the node timeline, the node table and the
// errors from the JSON payload inlined in the page; while the run goes, polls the
// journal for node states and recolours the graph without reloading the page.
// Plain JavaScript, no dependencies: the same file works served and in a static report.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("waldo-data").textContent);
  var pollUrl = document.body.getAttribute("data-poll") || "";
  var nodeEls = [];
  var selected = -1;

  function esc(value) {
    return String(value == null ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  function short(name, max) {
    return name.length > max ? name.slice(0, max - 1) + "\u2026" : name;
  }

  function fmtDuration(seconds) {
    if (seconds == null) return "-";
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    var m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    if (m < 60) return m + "m" + (s < 10 ? "0" : "") + s + "s";
    var h = Math.floor(m / 60);
    m = m % 60;
    return h + "h" + (m < 10 ? "0" : "") + m + "m";
  }

  function fmtTime(epoch) {
    if (epoch == null) return "-";
    // The same local "YYYY-MM-DD HH:MM:SS" as the server-rendered facts and the CLI.
    var d = new Date(epoch * 1000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function cls(status) {
    return "s-" + String(status).replace(/[^a-z]/g, "");
  }

  // -- the DAG ----------------------------------------------------------------------
  function drawDag() {
    var size = data.size, w = size.w, h = size.h, nodes = data.nodes;
    var parts = [];
    parts.push('<svg id="dag-svg" xmlns="http://www.w3.org/2000/svg" width="' + size.width +
      '" height="' + size.height + '" viewBox="0 0 ' + size.width + " " + size.height + '">');
    var d = [];
    for (var e = 0; e < data.edges.length; e++) {
      var a = nodes[data.edges[e][0]], b = nodes[data.edges[e][1]];
      var x1 = a.x + w / 2, y1 = a.y + h, x2 = b.x + w / 2, y2 = b.y, my = (y1 + y2) / 2;
      d.push("M" + x1 + "," + y1 + "C" + x1 + "," + my + " " + x2 + "," + my + " " + x2 + "," + y2);
    }
    parts.push('<path class="edges" d="' + d.join("") + '"/>');
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      parts.push('<g class="node ' + cls(n.status) + '" data-i="' + i + '" transform="translate(' +
        n.x + "," + n.y + ')"><rect width="' + w + '" height="' + h + '" rx="5"/><text x="10" y="' +
        (h / 2 + 4) + '">' + esc(short(n.name, 28)) + "</text><title>" + esc(n.name) + " (" +
        esc(n.status) + ")</title></g>");
    }
    parts.push("</svg>");
    var box = document.getElementById("dag");
    box.innerHTML = parts.join("");
    nodeEls = Array.prototype.slice.call(box.querySelectorAll("g.node"));
    box.addEventListener("click", function (event) {
      var g = event.target.closest ? event.target.closest("g.node") : null;
      if (g) showNode(Number(g.getAttribute("data-i")));
    });
  }

  function recolour() {
    for (var i = 0; i < nodeEls.length; i++) {
      var want = "node " + cls(data.nodes[i].status) + (i === selected ? " selected" : "");
      if (nodeEls[i].getAttribute("class") !== want) nodeEls[i].setAttribute("class", want);
      nodeEls[i].setAttribute("data-status", data.nodes[i].status);
    }
  }

  function showNode(i) {
    selected = i;
    recolour();
    var n = data.nodes[i], box = document.getElementById("node-detail");
    var rows = [
      ["status", '<span class="badge ' + cls(n.status) + '">' + esc(n.status) + "</span>"],
      ["function", esc(n.func || "-")],
      ["reads", esc((n.inputs || []).join(", ") || "-")],
      ["writes", esc((n.outputs || []).join(", ") || "-")],
      ["started", esc(fmtTime(n.started))],
      ["duration", esc(fmtDuration(n.duration))],
      ["why", esc(n.reason || "-")]
    ];
    var html = "<h3>" + esc(n.name) + "</h3><table class=\"facts\">";
    rows.forEach(function (r) { html += "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>"; });
    html += "</table>";
    if (n.error_message) {
      html += '<pre class="traceback">' + esc((n.error_type || "") + ": " + n.error_message) +
        "\n\n" + esc(n.traceback || "") + "</pre>";
    }
    box.innerHTML = html;
    box.hidden = false;
  }

  // -- the timeline (Gantt) ------------------------------------------------------------
  function drawTimeline() {
    var started = data.nodes.filter(function (n) { return n.started != null; });
    started.sort(function (a, b) { return a.started - b.started; });
    var box = document.getElementById("timeline");
    if (!started.length) {
      box.innerHTML = '<p class="muted">No node has started yet.</p>';
      return;
    }
    var t0 = Math.min(data.run.started != null ? data.run.started : Infinity, started[0].started);
    var now = Date.now() / 1000, t1 = t0;
    function endOf(n) {  // a running node grows until now; never before its start
      var end = n.finished != null ? n.finished : (n.status === "running" ? now : n.started);
      return Math.max(end, n.started);
    }
    started.forEach(function (n) { t1 = Math.max(t1, endOf(n)); });
    if (data.run.finished != null) t1 = Math.max(t1, data.run.finished);
    var span = Math.max(t1 - t0, 0.001), label = 220, width = 760, row = 18;
    var height = started.length * row + 24;
    var parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + (label + width + 90) +
      '" height="' + height + '">'];
    for (var k = 0; k <= 4; k++) {
      var gx = label + (width * k) / 4;
      parts.push('<line class="grid" x1="' + gx + '" y1="0" x2="' + gx + '" y2="' + (height - 18) +
        '"/><text class="axis" x="' + gx + '" y="' + (height - 4) + '">' +
        esc(fmtDuration((span * k) / 4)) + "</text>");
    }
    started.forEach(function (n, i) {
      var end = endOf(n);
      var x = label + ((n.started - t0) / span) * width;
      var bw = Math.max(((end - n.started) / span) * width, 2);
      var y = i * row + 2;
      parts.push('<g class="bar ' + cls(n.status) + '"><text class="lbl" x="' + (label - 6) +
        '" y="' + (y + 12) + '">' + esc(short(n.name, 30)) + '</text><rect x="' + x + '" y="' + y +
        '" width="' + bw + '" height="' + (row - 5) + '" rx="2"/><text class="dur" x="' +
        (x + bw + 4) + '" y="' + (y + 12) + '">' + esc(fmtDuration(n.duration)) +
        "</text><title>" + esc(n.name + ": " + n.status + ", " + fmtDuration(n.duration)) +
        "</title></g>");
    });
    parts.push("</svg>");
    box.innerHTML = parts.join("");
  }

  // -- the node table and the errors ---------------------------------------------------
  function drawTable() {
    var html = "<table class=\"list\"><thead><tr><th>#</th><th>node</th><th>status</th>" +
      "<th>started</th><th>duration</th><th>why</th></tr></thead><tbody>";
    data.nodes.forEach(function (n, i) {
      html += '<tr data-node="' + esc(n.name) + '"><td>' + (i + 1) + "</td><td>" + esc(n.name) +
        '</td><td><span class="badge ' + cls(n.status) + '">' + esc(n.status) +
        "</span></td><td>" + esc(fmtTime(n.started)) + "</td><td>" + esc(fmtDuration(n.duration)) +
        "</td><td>" + esc(n.reason || "") + "</td></tr>";
    });
    document.getElementById("nodes").innerHTML = html + "</tbody></table>";
  }

  function drawErrors() {
    var html = "", run = data.run;
    if (run.error_message && run.status !== "success") {
      html += "<h3>Run: " + esc(run.error_type || "error") + "</h3><pre class=\"traceback\">" +
        esc(run.error_message) + (run.traceback ? "\n\n" + esc(run.traceback) : "") + "</pre>";
    }
    data.nodes.forEach(function (n) {
      if (n.status === "error") {
        html += "<h3>" + esc(n.name) + ": " + esc(n.error_type || "error") +
          '</h3><pre class="traceback">' + esc(n.error_message || "") +
          (n.traceback ? "\n\n" + esc(n.traceback) : "") + "</pre>";
      }
    });
    var section = document.getElementById("errors-section");
    section.hidden = !html;
    document.getElementById("errors").innerHTML = html;
  }

  // -- what each save wrote: rows, columns, nulls, size, min/max (waldo.yml `stats:`) -----
  function fmtCount(value) {
    return typeof value === "number" ? value.toLocaleString("en-US") : "-";
  }

  function fmtBytes(value) {
    if (typeof value !== "number") return "-";
    var units = ["B", "KB", "MB", "GB", "TB"], size = value, i = 0;
    while (size >= 1024 && i < units.length - 1) { size /= 1024; i += 1; }
    return (i === 0 ? size : size.toFixed(1)) + " " + units[i];
  }

  function statsDetail(stats) {
    var parts = [];
    if (stats.schema) {
      parts.push("schema: " + Object.keys(stats.schema).map(function (k) {
        return k + " " + stats.schema[k];
      }).join(", "));
    }
    if (stats.min_max) {
      parts.push("min/max: " + Object.keys(stats.min_max).map(function (k) {
        var m = stats.min_max[k];
        return k + " " + m.min + ".." + m.max;
      }).join(", "));
    }
    if (stats.sampled) parts.push("summarised on the first " + fmtCount(stats.sample_rows) + " rows");
    return parts.join("; ");
  }

  function drawDatasets() {
    var items = data.run.datasets_written || [];
    var section = document.getElementById("datasets-section");
    section.hidden = items.length === 0;
    if (!items.length) return;
    var html = "<table class=\"list\" id=\"datasets-table\"><thead><tr><th>dataset</th>" +
      "<th>by node</th><th>rows</th><th>columns</th><th>nulls</th><th>size</th>" +
      "<th>version</th><th>details</th></tr></thead><tbody>";
    items.forEach(function (d) {
      var stats = d.stats || {}, nulls = "-";
      if (stats.nulls) {
        nulls = fmtCount(Object.keys(stats.nulls).reduce(function (sum, k) {
          return sum + stats.nulls[k];
        }, 0));
      }
      html += '<tr data-dataset="' + esc(d.dataset) + '"><td>' + esc(d.dataset) + "</td><td>" +
        esc(d.node || "-") + "</td><td>" + fmtCount(stats.rows) + "</td><td>" +
        fmtCount(stats.columns) + "</td><td>" + nulls + "</td><td>" + fmtBytes(stats.bytes) +
        "</td><td>" + esc((d.version || "-").slice(0, 12)) + "</td><td>" +
        esc(statsDetail(stats)) + "</td></tr>";
    });
    document.getElementById("datasets").innerHTML = html + "</tbody></table>";
  }

  function drawHeader() {
    var run = data.run, badge = document.getElementById("run-status");
    badge.textContent = run.status;
    badge.className = "badge " + cls(run.status);
    var counts = {};
    data.nodes.forEach(function (n) { counts[n.status] = (counts[n.status] || 0) + 1; });
    var text = Object.keys(counts).sort().map(function (k) { return counts[k] + " " + k; });
    document.getElementById("node-counts").textContent = text.join(", ");
    document.getElementById("run-duration").textContent = fmtDuration(run.duration_s);
    document.getElementById("run-finished").textContent = fmtTime(run.finished);
  }

  function refresh() {
    recolour();
    drawTimeline();
    drawTable();
    drawErrors();
    drawDatasets();
    drawHeader();
  }

  // -- live updates --------------------------------------------------------------------
  function apply(live) {
    data.run = live.run;
    var running = live.run.status === "running";
    data.nodes.forEach(function (n) {
      var state = live.states[n.name] || { status: running ? "queued" : "not run" };
      ["started", "finished", "duration", "reason", "error_type", "error_message", "traceback"]
        .forEach(function (key) { n[key] = state[key] == null ? null : state[key]; });
      n.status = state.status;
    });
    refresh();
    if (selected >= 0) showNode(selected);
    return running;
  }

  function poll() {
    fetch(pollUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (live) {
        var going = apply(live);
        document.getElementById("live").textContent = going ? "live" : "";
        if (going) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  var t0 = performance.now();
  drawDag();
  refresh();
  window.waldoDrawMs = performance.now() - t0;
  requestAnimationFrame(function () {
    window.waldoReadyAt = performance.now();
    document.body.setAttribute("data-drawn", "1");
  });
  document.getElementById("fit").addEventListener("click", function () {
    var svg = document.getElementById("dag-svg");
    if (svg.getAttribute("width") === "100%") {
      svg.setAttribute("width", data.size.width);
      svg.setAttribute("height", data.size.height);
    } else {
      svg.setAttribute("width", "100%");
      svg.removeAttribute("height");
    }
  });
  // Find a node by name in a large graph: select the first match and scroll to it.
  document.getElementById("find").addEventListener("input", function (event) {
    var text = event.target.value.toLowerCase();
    if (!text) return;
    for (var i = 0; i < data.nodes.length; i++) {
      if (data.nodes[i].name.toLowerCase().indexOf(text) >= 0) {
        showNode(i);
        var box = document.getElementById("dag"), n = data.nodes[i];
        var scale = box.firstChild.getBoundingClientRect().width / data.size.width;
        box.scrollLeft = Math.max(n.x * scale - box.clientWidth / 2, 0);
        box.scrollTop = Math.max(n.y * scale - box.clientHeight / 2, 0);
        return;
      }
    }
  });
  if (pollUrl && data.run.status === "running") {
    document.getElementById("live").textContent = "live";
    setTimeout(poll, 1000);
  }
})();
