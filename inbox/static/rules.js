// The rules editor: line numbers with errors marked at their line, save (PUT /api/v1/rules,
// which validates and hot-swaps), a dry run of a sample message and a replay summary.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const R = window.Relaydesk;
  const T = R.i18n();
  const area = document.getElementById("rules-text");
  const gutter = document.getElementById("gutter");
  const status = document.getElementById("rules-status");
  const issuesList = document.getElementById("rules-issues");
  let issues = [];

  function drawGutter() {
    const count = area.value.split("\n").length;
    const bad = {};
    issues.forEach(function (i) { if (i.line) bad[i.line] = (bad[i.line] ? bad[i.line] + "\n" : "") + i.message; });
    gutter.textContent = "";
    for (let n = 1; n <= count; n++) {
      const span = document.createElement("span");
      span.textContent = String(n);
      span.dataset.line = String(n);
      if (bad[n]) { span.className = "err"; span.title = bad[n]; }
      gutter.appendChild(span);
      gutter.appendChild(document.createTextNode("\n"));
    }
    gutter.scrollTop = area.scrollTop;
  }
  function goToLine(line) {
    const lines = area.value.split("\n");
    let start = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    area.scrollTop = Math.max(0, (line - 5) * 20);
  }
  function showIssues(list) {
    issues = list;
    issuesList.textContent = "";
    list.forEach(function (i) {
      const li = document.createElement("li");
      li.dataset.line = i.line || "";
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = (i.line ? T.line + " " + i.line : "") + (i.path ? " " + i.path : "") + ":";
      li.appendChild(where);
      li.appendChild(document.createTextNode(i.message));
      if (i.line) li.addEventListener("click", function () { goToLine(i.line); });
      issuesList.appendChild(li);
    });
    drawGutter();
  }
  function setStatus(kind, message) {
    status.hidden = !message;
    status.className = "editor-status " + kind;
    status.textContent = message;
  }

  area.addEventListener("input", drawGutter);
  area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
  gutter.addEventListener("click", function (e) {
    const span = e.target.closest("span.err");
    if (span) goToLine(Number(span.dataset.line));
  });
  area.addEventListener("keydown", function (e) {
    if (e.key === "Tab") {
      e.preventDefault();
      area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
      drawGutter();
    }
  });
  drawGutter();

  document.getElementById("rules-save").addEventListener("click", async function () {
    try {
      const saved = await R.api("PUT", "/api/v1/rules", { text: area.value });
      document.getElementById("rules-version").textContent = saved.version;
      showIssues(saved.warnings || []);
      setStatus("ok", T.saved);
    } catch (err) {
      const body = err.body && err.body.error;
      showIssues(body && body.issues ? body.issues : []);
      setStatus("bad", body && body.issues ? T.rules_invalid : err.message);
    }
  });

  document.getElementById("dry-run").addEventListener("submit", async function (e) {
    e.preventDefault();
    const f = e.target.elements;
    const out = document.getElementById("dry-run-output");
    const tags = f.tags.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    try {
      const result = await R.api("POST", "/api/v1/rules/test", { channel: f.channel.value, text: f.text.value, tags, rules: area.value });
      out.textContent = result.explain;
    } catch (err) {
      const body = err.body && err.body.error;
      if (body && body.issues) showIssues(body.issues);
      out.textContent = err.message;
    }
    out.hidden = false;
  });

  document.getElementById("replay").addEventListener("submit", async function (e) {
    e.preventDefault();
    const out = document.getElementById("replay-output");
    try {
      const result = await R.api("POST", "/api/v1/rules/replay", { rules: area.value, since: e.target.elements.since.value });
      const lines = [T.examined + ": " + result.examined + " · " + T.changed + ": " + result.changed];
      if (result.undecided) lines.push(T.undecided + ": " + result.undecided);
      if (result.truncated) lines.push(T.truncated);
      Object.keys(result.queues).forEach(function (q) {
        const c = result.queues[q];
        lines.push("  " + q + ": " + c.old + " → " + c.new + " (" + (c.delta >= 0 ? "+" : "") + c.delta + ")");
      });
      result.changes.forEach(function (c) {
        lines.push("#" + c.message_id + " [" + c.channel + "] " + c.text.slice(0, 60) + "\n    " + c.describe + " (" + c.rule + ")");
      });
      out.textContent = lines.join("\n");
    } catch (err) {
      const body = err.body && err.body.error;
      if (body && body.issues) showIssues(body.issues);
      out.textContent = err.message;
    }
    out.hidden = false;
  });
});
