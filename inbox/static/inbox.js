// The dialog list: re-fetch its rows (rendered by the server) when a live event arrives.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const R = window.Relaydesk;
  const rows = document.getElementById("dialog-rows");
  if (!rows) return;
  const refresh = R.debounce(async function () {
    try {
      rows.innerHTML = await R.fragment(rows.dataset.src);
      R.tick();
    } catch (err) { /* the next event retries */ }
  }, 200);
  R.onEvent(function (event) {
    if (["message_received", "dialog_updated", "task_changed"].indexOf(event.type) >= 0) refresh();
  });
  document.querySelectorAll("#filters select, #filters input[type=checkbox]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
});
