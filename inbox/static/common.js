// Shared by every page: the API helper (session cookie + CSRF header), live events,
// SLA countdowns and the agent's presence (set by hand, and "away" after idling).
"use strict";
(function () {
  const body = document.body;
  const csrf = body.dataset.csrf || "";
  const me = body.dataset.me || "";
  const IDLE_MS = 10 * 60 * 1000;

  async function api(method, url, data) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
    };
    if (data !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(data);
    }
    const response = await fetch(url, init);
    let json = null;
    try { json = await response.json(); } catch (e) { json = null; }
    if (!response.ok) {
      const err = new Error(json && json.error ? json.error.message : response.statusText);
      err.status = response.status;
      err.body = json;
      throw err;
    }
    return json;
  }

  async function fragment(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    if (!response.ok) throw new Error(response.statusText);
    return response.text();
  }

  // Run `fn` once shortly after a burst of calls.
  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  const handlers = [];
  const openers = [];  // run each time the stream (re)connects
  let source = null;
  const TYPES = ["message_received", "message_updated", "dialog_updated", "task_changed", "agent_changed", "agent_activity"];
  function connect() {
    source = new EventSource("/api/v1/events");
    const banner = document.getElementById("live-state");
    source.onopen = function () {
      body.dataset.live = "on";
      if (banner) banner.hidden = true;
      openers.forEach(function (fn) { fn(); });
    };
    source.onerror = function () {
      body.dataset.live = "off";
      if (banner) banner.hidden = false;
    };
    TYPES.forEach(function (type) {
      source.addEventListener(type, function (e) {
        let event;
        try { event = JSON.parse(e.data); } catch (err) { return; }
        handlers.forEach(function (h) { h(event); });
      });
    });
  }
  function onEvent(handler) {
    handlers.push(handler);
    if (!source) connect();
  }
  function onLive(fn) {
    openers.push(fn);
    if (source && source.readyState === EventSource.OPEN) fn();
  }

  function formatSpan(ms) {
    const neg = ms < 0;
    let s = Math.floor(Math.abs(ms) / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const text = d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m " + s + "s";
    return (neg ? "−" : "") + text;
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      const left = Date.parse(el.dataset.due) - now;
      if (isNaN(left)) return;
      el.textContent = formatSpan(left);
      el.classList.toggle("breached", left < 0 || el.classList.contains("breached") && left < 0);
      el.classList.toggle("soon", left >= 0 && left < 15 * 60 * 1000);
      el.title = new Date(el.dataset.due).toLocaleString();
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      const ago = now - Date.parse(el.dataset.since);
      if (!isNaN(ago)) el.textContent = formatSpan(ago);
    });
  }

  function presence() {
    const select = document.getElementById("presence");
    const dot = document.getElementById("presence-dot");
    if (!select || !me) return;
    let autoAway = false;
    function show(status) {
      select.value = status;
      dot.className = "dot " + status;
    }
    async function set(status) {
      await api("PUT", "/api/v1/agents/" + encodeURIComponent(me) + "/status", { status });
      show(status);
    }
    api("GET", "/api/v1/agents").then(function (page) {
      page.items.forEach(function (a) { if (a.login === me) show(a.status); });
    }).catch(function () {});
    select.addEventListener("change", function () {
      autoAway = false;
      set(select.value).catch(function (err) { alert(err.message); });
    });
    let last = Date.now();
    ["mousemove", "keydown", "click", "scroll", "touchstart"].forEach(function (type) {
      window.addEventListener(type, function () {
        last = Date.now();
        if (autoAway) { autoAway = false; set("online").catch(function () {}); }
      }, { passive: true });
    });
    setInterval(function () {
      if (select.value === "online" && Date.now() - last > IDLE_MS) {
        autoAway = true;
        set("away").catch(function () {});
      }
    }, 30000);
  }

  function i18n() {
    const el = document.getElementById("i18n");
    return el ? JSON.parse(el.textContent) : {};
  }

  window.Relaydesk = { api, fragment, debounce, onEvent, onLive, tick, i18n, me, csrf };
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    presence();
  });
})();
