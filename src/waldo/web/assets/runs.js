// Waldo's run list: while a listed run is going, ask the journal every two seconds
// whether this page's runs changed (a run ended, a new one started) and, if so,
// redraw the list. Nothing is polled when every listed run has ended.
(function () {
  "use strict";
  var body = document.body, api = body.getAttribute("data-api");
  var shown = body.getAttribute("data-state");
  if (!api || !/(^|,)[^,]*:running(,|$)/.test(shown)) return;
  function state(runs) {
    return runs.map(function (r) { return r.run_id + ":" + r.status; }).join(",");
  }
  function poll() {
    fetch(api, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (state(data.runs) !== shown) location.reload();
        else setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
