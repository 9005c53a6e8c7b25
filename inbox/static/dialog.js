// The dialog page: reply or note through the REST API, task changes through PATCH
// /api/v1/tasks, and live refresh of the timeline and the tasks from server fragments.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const R = window.Relaydesk;
  const T = R.i18n();
  const root = document.getElementById("dialog");
  const dialogId = Number(root.dataset.dialog);
  const contactDialogs = root.dataset.dialogs.split(",").map(Number);
  const timeline = document.getElementById("timeline");
  const tasksBox = document.getElementById("tasks");
  const composer = document.getElementById("composer");
  const form = document.getElementById("reply-form");
  const errorBox = document.getElementById("reply-error");
  const text = document.getElementById("reply-text");
  const templateOnly = form.dataset.templateOnly === "1";
  let mode = "reply";

  function scrollDown() { timeline.scrollTop = timeline.scrollHeight; }
  scrollDown();

  const refreshTimeline = R.debounce(async function () {
    const atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
    try {
      timeline.innerHTML = await R.fragment("/inbox/dialogs/" + dialogId + "/timeline");
      if (atBottom) scrollDown();
    } catch (err) { /* the next event retries */ }
  }, 150);
  const refreshTasks = R.debounce(async function () {
    try {
      tasksBox.innerHTML = await R.fragment(tasksBox.dataset.src);
      R.tick();
    } catch (err) { /* the next event retries */ }
  }, 150);

  // Other agents on this dialog: viewing (renewed every 20 s) or typing (a few seconds).
  const others = {};
  const notice = document.getElementById("presence-notice");
  function say(state, keepalive) {
    return fetch("/api/v1/dialogs/" + dialogId + "/activity", {
      method: "POST",
      keepalive: !!keepalive,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": R.csrf },
      body: JSON.stringify({ state }),
    }).catch(function () {});
  }
  function drawNotice() {
    const now = Date.now();
    const parts = [];
    Object.keys(others).sort().forEach(function (login) {
      if (others[login].until < now) { delete others[login]; return; }
      parts.push(login + " " + (others[login].state === "typing" ? T.is_typing : T.is_viewing));
    });
    notice.textContent = parts.join(" · ");
    notice.hidden = parts.length === 0;
  }
  setInterval(drawNotice, 1000);
  setInterval(function () { say("viewing"); }, 20000);
  let lastTyping = 0;
  text.addEventListener("input", function () {
    if (Date.now() - lastTyping > 3000) { lastTyping = Date.now(); say("typing"); }
  });
  window.addEventListener("pagehide", function () { say("left", true); });

  R.onEvent(function (event) {
    if (event.type === "agent_activity") {
      if (event.dialog_id !== dialogId || event.login === R.me) return;
      if (event.state === "left") {
        delete others[event.login];
      } else {
        if (!others[event.login]) say("viewing");  // let the newcomer know about us at once
        others[event.login] = { state: event.state, until: Date.now() + (event.state === "typing" ? 6000 : 50000) };
      }
      drawNotice();
      return;
    }
    if (contactDialogs.indexOf(event.dialog_id) < 0) return;
    if (event.type === "message_received" || event.type === "message_updated") refreshTimeline();
    if (event.type === "task_changed") refreshTasks();
  });
  // Announce ourselves once we can hear the answers (and again after a reconnect).
  R.onLive(function () { say("viewing"); });

  composer.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      mode = tab.dataset.mode;
      composer.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("active", t === tab); });
      composer.classList.toggle("note-mode", mode === "note");
      document.getElementById("reply-files-label").hidden = mode === "note";
      const tpl = form.querySelector("fieldset.template");
      form.querySelector(".free-text").hidden = mode === "reply" && templateOnly;
      if (tpl) tpl.hidden = !(mode === "reply" && templateOnly);
      document.getElementById("reply-send").textContent = mode === "note" ? T.add_note : T.send;
    });
  });

  const files = document.getElementById("reply-files");
  // Files go to the replies API as base64 (its size limit answers 413 with a message).
  function readFiles(list) {
    return Promise.all(Array.prototype.map.call(list, function (file) {
      return new Promise(function (resolve, reject) {
        const reader = new FileReader();
        reader.onload = function () {
          resolve({
            filename: file.name,
            content_type: file.type || "application/octet-stream",
            data_base64: String(reader.result).split(",", 2)[1] || "",
          });
        };
        reader.onerror = function () { reject(reader.error); };
        reader.readAsDataURL(file);
      });
    }));
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    showError("");
    let url = "/api/v1/dialogs/" + dialogId + (mode === "note" ? "/notes" : "/replies");
    let payload;
    if (mode === "reply" && templateOnly) {
      const params = form.elements.template_params.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
      payload = { template: { name: form.elements.template_name.value.trim(), language: form.elements.template_language.value.trim(), parameters: params } };
    } else {
      const attachments = mode === "reply" ? await readFiles(files.files) : [];
      if (!text.value.trim() && attachments.length === 0) return;
      payload = { text: text.value };
      if (attachments.length) payload.attachments = attachments;
    }
    const button = document.getElementById("reply-send");
    button.disabled = true;
    try {
      await R.api("POST", url, payload);
      text.value = "";
      files.value = "";
      refreshTimeline();
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  });
  const canned = document.getElementById("canned");
  if (canned) {
    const texts = JSON.parse(document.getElementById("canned-data").textContent);
    canned.addEventListener("change", function () {
      if (canned.value === "") return;
      text.setRangeText(texts[Number(canned.value)], text.selectionStart, text.selectionEnd, "end");
      canned.value = "";
      text.focus();
    });
  }
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });

  timeline.addEventListener("submit", async function (e) {
    const form = e.target.closest("form.make-task-form");
    if (!form) return;
    e.preventDefault();
    const error = form.querySelector(".form-error");
    error.hidden = true;
    try {
      await R.api("POST", "/api/v1/tasks", {
        message_id: Number(form.dataset.message),
        queue: form.elements.queue.value,
        title: form.elements.title.value,
      });
      form.closest("details").open = false;
      refreshTasks();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });

  tasksBox.addEventListener("change", async function (e) {
    const select = e.target.closest("select[data-field]");
    if (!select) return;
    const task = select.closest("[data-task]");
    const error = task.querySelector(".task-error");
    const field = select.dataset.field;
    const patch = {};
    patch[field] = field === "assignee" && !select.value ? null : select.value;
    error.hidden = true;
    try {
      await R.api("PATCH", "/api/v1/tasks/" + task.dataset.task, patch);
      refreshTasks();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
});
