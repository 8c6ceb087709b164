"use strict";
// The operator console: one shell, four pages picked by path, each refreshing its own JSON from /console/api.
(function () {
  const api = "/console/api";
  const page = (location.pathname.split("/")[2] || "fleet");
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function call(path, options) {
    const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (init.method && init.method !== "GET") init.headers["X-Wxkf-Console"] = "1";
    const response = await fetch(api + path, init);
    if (response.status === 401) {
      location.href = "/console/login";
      throw new Error("signed out");
    }
    const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
    if (!response.ok) throw new Error((body && (body.detail || body.title)) || ("HTTP " + response.status));
    return body;
  }

  function showError(error) {
    const banner = $("load-error");
    if (error) {
      banner.textContent = "Could not refresh: " + error.message;
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  function every(ms, task) {
    let timer = null;
    async function run() {
      try {
        await task();
        showError(null);
      } catch (error) {
        if (error.message !== "signed out") showError(error);
      }
      timer = setTimeout(run, ms);
    }
    run();
    return () => { clearTimeout(timer); run(); };
  }

  // "12 s ago", "4 min ago", with the absolute time in the tooltip.
  function ago(iso, suffix) {
    if (!iso) return el("span", { class: "muted" }, "—");
    const when = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z");
    return el("time", { datetime: when.toISOString(), title: when.toLocaleString() }, duration((Date.now() - when) / 1000) + (suffix === undefined ? " ago" : suffix));
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
    return Math.floor(seconds / 86400) + " d " + Math.floor((seconds % 86400) / 3600) + " h";
  }

  function cell(label, content, cls) {
    return el("td", { "data-label": label, class: cls }, el("span", { class: "cell" }, content));
  }

  function setCells(row, cells) {
    // The last cell (actions) is kept, so a button being clicked is never swapped out underneath.
    while (row.cells.length > 1) row.deleteCell(0);
    const actions = row.cells[0];
    for (const c of cells) row.insertBefore(c, actions);
  }

  // ---------- Fleet ----------
  function fleetPage() {
    const body = $("fleet-table").tBodies[0];
    const rows = new Map();
    const filters = () => {
      const query = new URLSearchParams();
      if ($("filter-corp").value.trim()) query.set("corp", $("filter-corp").value.trim());
      if ($("filter-kfid").value.trim()) query.set("kfId", $("filter-kfid").value.trim());
      if ($("filter-state").value) query.set("state", $("filter-state").value);
      return query.toString();
    };
    const refresh = every(2000, async () => {
      const puppets = await call("/fleet?" + filters());
      const seen = new Set();
      for (const p of puppets) {
        seen.add(p.kfId);
        let row = rows.get(p.kfId);
        if (!row) {
          const button = el("button", { type: "button", class: "button small test-event", "data-kfid": p.kfId }, "Send test event");
          button.addEventListener("click", () => sendTestEvent(p.kfId, button));
          row = el("tr", { "data-kfid": p.kfId }, el("td", { "data-label": "" }, el("span", { class: "cell" }, button)));
          rows.set(p.kfId, row);
        }
        row.dataset.state = p.state;
        row.querySelector(".test-event").disabled = p.state === "offline" || row.querySelector(".test-event").dataset.busy === "1";
        setCells(row, [
          cell("Puppet", [el("strong", {}, p.kfName || p.kfId), el("span", { class: "sub" }, p.kfId)].reduce(frag, document.createDocumentFragment())),
          cell("Corp", p.corpId),
          cell("Endpoint", el("code", {}, p.endpoint), "wrap"),
          cell("State", [el("span", { class: "badge " + p.state, "data-field": "state" }, p.state),
            p.stateSince ? el("span", { class: "sub" }, "for ", ago(p.stateSince, "")) : null].filter(Boolean).reduce(frag, document.createDocumentFragment())),
          cell("Circuit", el("span", { class: "badge " + p.circuit }, p.circuit)),
          cell("Last success", ago(p.lastSuccessAt)),
          cell("Last error", p.lastError ? [el("span", { class: "err" }, p.lastError), el("span", { class: "sub" }, ago(p.lastErrorAt)),
            el("span", { class: "sub" }, p.consecutiveFailures + " failure(s) in a row")].reduce(frag, document.createDocumentFragment()) : el("span", { class: "muted" }, "—"), "wrap"),
          cell("Queued", [el("strong", { "data-field": "queued" }, p.queued), el("span", { class: "sub" }, p.due + " due · " + p.inFlight + " in flight")]
            .reduce(frag, document.createDocumentFragment())),
        ]);
        body.append(row);
      }
      for (const [kfId, row] of rows) {
        if (!seen.has(kfId)) { row.remove(); rows.delete(kfId); }
      }
      const unreachable = puppets.filter(p => p.state === "unreachable").length;
      $("fleet-summary").textContent = puppets.length + " puppet(s) shown · " + unreachable + " unreachable · " +
        puppets.reduce((n, p) => n + p.queued, 0) + " event(s) queued";
      $("fleet-empty").hidden = puppets.length > 0;
    });
    for (const id of ["filter-corp", "filter-kfid"]) $(id).addEventListener("input", refresh);
    $("filter-state").addEventListener("change", refresh);

    async function sendTestEvent(kfId, button) {
      const result = $("test-result");
      button.dataset.busy = "1";
      button.disabled = true;
      result.hidden = false;
      result.dataset.state = "pending";
      result.dataset.kfid = kfId;
      result.textContent = "Sending a test event to " + kfId + "…";
      try {
        const outcome = await call("/puppets/" + encodeURIComponent(kfId) + "/test-event?waitSeconds=10", { method: "POST" });
        result.dataset.state = outcome.state;
        result.replaceChildren(
          el("strong", {}, "Test event to " + outcome.kfId + ": "),
          el("span", { class: "badge " + outcome.state, "data-field": "outcome" }, outcome.state), " ",
          outcome.delivered ? "delivered" : (outcome.state === "refused" ? "refused by the intake (" + outcome.intake + ": " + outcome.intakeDetail + ")" : "not delivered yet"),
          " · attempts: ", el("span", { "data-field": "attempts" }, outcome.attempts),
          " · puppet's answer: ", el("span", { "data-field": "answer" }, outcome.puppetAnswer || "—"),
          " · sync token ", el("code", {}, outcome.syncToken), " · " + Math.round(outcome.elapsedMs) + " ms");
      } catch (error) {
        result.dataset.state = "error";
        result.textContent = "Test event to " + kfId + " failed: " + error.message;
      } finally {
        button.dataset.busy = "";
        button.disabled = false;
        refresh();
      }
    }
  }

  function frag(fragment, node) { fragment.append(node); return fragment; }

  // ---------- Queue ----------
  function confirmDialog(text, okLabel) {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel;
    return new Promise(resolve => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  function queuePage() {
    const body = $("dead-table").tBodies[0];
    const refresh = every(2000, async () => {
      const [queue, dead] = await Promise.all([call("/queue"), call("/dead-letters?limit=200")]);
      $("q-queued").textContent = queue.queued;
      $("q-due").textContent = queue.due;
      $("q-inflight").textContent = queue.inFlight;
      $("q-oldest").textContent = queue.oldestPendingAgeSeconds == null ? "—" : duration(queue.oldestPendingAgeSeconds);
      $("q-dead").textContent = queue.deadLetters;
      body.replaceChildren(...dead.map(d => {
        const replay = el("button", { type: "button", class: "button small replay", "data-id": d.id }, "Replay");
        replay.addEventListener("click", () => replayOne(d));
        return el("tr", { "data-id": d.id, "data-kfid": d.kfId },
          cell("Event", [el("code", {}, d.id.slice(0, 12) + "…"), el("span", { class: "sub" }, d.kind)].reduce(frag, document.createDocumentFragment())),
          cell("Puppet", d.kfId, "wrap"),
          cell("Corp", d.corpId),
          cell("Attempts", d.attempts),
          cell("Reason", el("span", { class: "err" }, d.reason || "—"), "wrap"),
          cell("Dead for", ago(d.deadAt || d.receivedAt, "")),
          cell("", replay));
      }));
      $("dead-empty").hidden = dead.length > 0;
      $("replay-all").disabled = dead.length === 0;
    });

    async function replay(path, what) {
      const result = $("replay-result");
      result.hidden = false;
      try {
        const answer = await call(path, { method: "POST" });
        result.dataset.state = "ok";
        result.textContent = "Replayed " + answer.replayed + " " + what + ": queued again, due now.";
      } catch (error) {
        result.dataset.state = "error";
        result.textContent = "Replay failed: " + error.message;
      }
      refresh();
    }

    async function replayOne(d) {
      if (await confirmDialog("Queue the dead letter for " + d.kfId + " again? Reason it died: " + (d.reason || "unknown") + ".", "Replay")) {
        await replay("/dead-letters/" + encodeURIComponent(d.id) + "/replay", "dead letter");
      }
    }

    $("replay-all").addEventListener("click", async () => {
      const count = body.rows.length;
      if (await confirmDialog("Queue all " + count + " dead letter(s) shown (and any older ones) again?", "Replay all")) {
        await replay("/dead-letters/replay", "dead letter(s)");
      }
    });
  }

  // ---------- Live ----------
  const palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777"];
  const svgNs = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(svgNs, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A small line chart: series [{name, color, values}], values aligned with times; nulls leave gaps.
  function drawChart(target, times, series, unit) {
    // Drawn at the element's own width, so the labels keep their proportions on a phone.
    const width = Math.max(200, Math.round(target.getBoundingClientRect().width)) || 600, height = 160, left = 40, bottom = 18, top = 8;
    target.setAttribute("viewBox", "0 0 " + width + " " + height);
    const all = series.flatMap(s => s.values).filter(v => v !== null);
    const max = niceMax(Math.max(0, ...all));
    const span = Math.max(times.length - 1, 1);
    const x = i => left + (width - left - 4) * i / span;
    const y = v => top + (height - top - bottom) * (1 - v / max);
    const nodes = [];
    for (const fraction of [0, 0.5, 1]) {
      const value = max * fraction;
      nodes.push(svg("line", { class: "axis", x1: left, x2: width, y1: y(value), y2: y(value) }));
      nodes.push(svg("text", { class: "tick", x: left - 6, y: y(value) + 4, "text-anchor": "end" }, format(value)));
    }
    if (times.length > 1) {
      nodes.push(svg("text", { class: "tick", x: left, y: height - 4 }, "-" + duration((times[times.length - 1] - times[0]) / 1000)));
      nodes.push(svg("text", { class: "tick", x: width - 4, y: height - 4, "text-anchor": "end" }, "now"));
    }
    for (const s of series) {
      let d = "", pen = false;
      s.values.forEach((v, i) => {
        if (v === null) { pen = false; return; }
        d += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
        pen = true;
      });
      if (d) nodes.push(svg("path", { class: "series", d, stroke: s.color, "data-series": s.name }));
    }
    target.replaceChildren(...nodes);
    target.dataset.points = String(times.length);
    target.setAttribute("aria-label", target.getAttribute("aria-label").split(" (")[0] + " (" + unit + ", max " + format(max) + ")");
  }

  function niceMax(value) {
    if (value <= 0) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
    return 10 * power;
  }

  function format(value) {
    return value >= 100 ? Math.round(value).toString() : value >= 10 ? value.toFixed(1).replace(/\.0$/, "") : value.toFixed(2).replace(/\.?0+$/, "") || "0";
  }

  function legend(target, series) {
    target.replaceChildren(...series.map(s => el("span", {}, el("i", { "data-color": s.color }), s.name)));
    target.querySelectorAll("i").forEach(i => { i.style.background = i.dataset.color; });
  }

  function livePage() {
    every(2000, async () => {
      const live = await call("/live");
      const points = live.points;
      const times = points.map(p => new Date(p.at).getTime());
      const last = points[points.length - 1];
      const column = key => points.map(p => p[key]);
      drawChart($("chart-callbacks"), times, [{ name: "callbacks", color: palette[0], values: column("callbacksPerSecond") }], "per second");
      const deliveries = [
        { name: "delivered", color: palette[2], values: column("deliveriesPerSecond") },
        { name: "failed attempts", color: palette[1], values: column("failuresPerSecond") },
      ];
      drawChart($("chart-deliveries"), times, deliveries, "per second");
      legend($("legend-deliveries"), deliveries);
      drawChart($("chart-latency"), times, [{ name: "ack latency", color: palette[4], values: column("ackLatencyMs") }], "ms");
      const reasons = [...new Set(points.flatMap(p => Object.keys(p.refusedPerSecond)))].sort();
      const refused = reasons.map((reason, i) => ({ name: reason, color: palette[(i + 1) % palette.length], values: points.map(p => p.refusedPerSecond[reason] || 0) }));
      drawChart($("chart-refused"), times, refused.length ? refused : [{ name: "none", color: palette[2], values: points.map(() => 0) }], "per second");
      legend($("legend-refused"), refused.length ? refused : [{ name: "no refusals", color: palette[2] }]);
      $("now-callbacks").textContent = last ? format(last.callbacksPerSecond) + "/s now" : "";
      $("now-deliveries").textContent = last ? format(last.deliveriesPerSecond) + "/s now" : "";
      $("now-latency").textContent = last && last.ackLatencyMs !== null ? format(last.ackLatencyMs) + " ms" : "no deliveries";
      $("now-refused").textContent = last ? format(Object.values(last.refusedPerSecond).reduce((a, b) => a + b, 0)) + "/s now" : "";
      $("live-summary").textContent = "Last " + duration(points.length * live.intervalSeconds) + ", one point every " + live.intervalSeconds + " s.";
    });
  }

  // ---------- Tokens ----------
  function tokensPage() {
    const body = $("tokens-table").tBodies[0];
    every(5000, async () => {
      const corps = await call("/tokens");
      body.replaceChildren(...corps.map(c => el("tr", { "data-corp": c.corpId },
        cell("Corp", c.corpId),
        cell("Puppets", c.puppets),
        cell("Cached", el("span", { class: "badge " + (c.cached ? "online" : "offline") }, c.cached ? (c.tokens > 1 ? c.tokens + " tokens" : "yes") : "no")),
        cell("Fetched", ago(c.fetchedAt)),
        cell("Expires", c.expiresAt ? el("time", { datetime: c.expiresAt }, new Date(c.expiresAt).toLocaleString()) : el("span", { class: "muted" }, "—")),
        cell("Expires in", c.expiresInSeconds == null ? el("span", { class: "muted" }, "—") : duration(c.expiresInSeconds)))));
      $("tokens-empty").hidden = corps.length > 0;
    });
  }

  // ---------- Shell ----------
  document.querySelectorAll(".tabs a").forEach(a => a.classList.toggle("active", a.dataset.page === page));
  const section = $("page-" + page);
  if (section) section.hidden = false;
  document.title = page[0].toUpperCase() + page.slice(1) + " · WXKF Manager";
  call("/session").then(session => {
    if (session.warning) {
      $("open-warning").textContent = session.warning;
      $("open-warning").hidden = false;
    }
    $("signout-form").hidden = !session.keyRequired;
  }).catch(showError);
  ({ fleet: fleetPage, queue: queuePage, live: livePage, tokens: tokensPage })[page]?.();
})();
