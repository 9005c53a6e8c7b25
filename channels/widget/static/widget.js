/* Relaydesk chat widget: <script src="https://HOST/widget.js" data-site="KEY" async></script>
 * One self-contained file, no framework. It draws a chat bubble in a shadow root (the host
 * page's styles cannot reach in), talks to HOST over a WebSocket (/widget/ws) and keeps the
 * visitor's id, profile and unsent messages in localStorage, so nothing typed is lost across
 * reconnects and reloads. Optional attributes: data-lang (ru|en), data-user-token (a JWT the
 * site signed for its logged-in user), data-user-id and data-user-hash (an HMAC-signed id),
 * data-user-name, data-user-email, data-open.
 * JS API, callable before the script has loaded (calls queue up):
 *   window.relaydesk = window.relaydesk || function () { (relaydesk.q = relaydesk.q || []).push(arguments); };
 *   relaydesk("identify", { token: "eyJ…" });   // log in, or renew the token
 *   relaydesk("logout");                         // back to an anonymous visitor
 * A token the server refuses fires `relaydesk:identity-refused` on window ({code, message}). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__relaydeskWidget) return;
  window.__relaydeskWidget = true;

  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var data = script.dataset;
  var site = data.site || "";
  var KEY = "relaydesk:" + origin + ":" + site + ":";
  var lang = (data.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  var T = {
    en: {
      title: "Chat with us", placeholder: "Type a message…", send: "Send", open: "Chat",
      close: "Close", typing: "Support is typing…", offline: "Reconnecting…",
      hello: "Hi! Ask us anything — we usually answer within minutes.",
      contact: "Your contacts", name: "Name", email: "Email", save: "Save",
      saved: "Thanks, we will know it is you.", attach: "Attach a file",
      pending: "sending…", uploadFailed: "Could not send the file: ", you: "You", agent: "Support"
    },
    ru: {
      title: "Напишите нам", placeholder: "Сообщение…", send: "Отправить", open: "Чат",
      close: "Закрыть", typing: "Оператор печатает…", offline: "Переподключение…",
      hello: "Здравствуйте! Спросите нас о чём угодно — обычно отвечаем за несколько минут.",
      contact: "Ваши контакты", name: "Имя", email: "Эл. почта", save: "Сохранить",
      saved: "Спасибо, теперь мы вас узнаем.", attach: "Прикрепить файл",
      pending: "отправляется…", uploadFailed: "Не удалось отправить файл: ", you: "Вы",
      agent: "Поддержка"
    }
  };
  var t = T[lang] || T.en;

  function load(name, fallback) {
    try {
      var raw = localStorage.getItem(KEY + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  }
  function save(name, value) {
    try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }
  function randomId(prefix, bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    var s = "";
    for (var i = 0; i < a.length; i++) s += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"[a[i] & 63];
    return prefix + s;
  }

  // Signed identity: a JWT (data-user-token or the JS API) or an HMAC-signed id. The server
  // checks either; the widget only passes it on and notices when the person changes.
  var token = data.userToken || null;
  var queued = (typeof window.relaydesk === "function" && window.relaydesk.q) || [];
  for (var qi = 0; qi < queued.length; qi++) token = tokenAfter(queued[qi][0], queued[qi][1], token);
  function tokenAfter(command, options, current) {
    if (command === "identify") return (options && options.token) || null;
    if (command === "logout") return null;
    return current;
  }
  function hmacSigned() { return !!(data.userId && data.userHash); }
  function signedIn() { return !!token || hmacSigned(); }
  function credentials() { // what names the visitor to the server: hello, uploads, file links
    if (token) return { token: token };
    if (hmacSigned()) return { user_id: data.userId, user_hash: data.userHash };
    return { visitor: visitor || "" };
  }
  function subjectOf(jwt) {
    try { return JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub; }
    catch (e) { return jwt; }
  }
  function who() { // the person the widget speaks for: a new one starts a new conversation
    if (token) return "jwt:" + subjectOf(token);
    return hmacSigned() ? "hmac:" + data.userId : "visitor";
  }
  var visitor = signedIn() ? null : load("visitor", null);
  var profile = load("profile", { name: data.userName || "", email: data.userEmail || "" });
  var pending = load("pending", []); // [{client_id, text}] not yet acknowledged by the server

  /* ---------- view ---------- */
  var host = document.createElement("div");
  host.setAttribute("data-relaydesk-widget", "");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ":host{all:initial}" +
    "*{box-sizing:border-box;font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:#2563eb;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;display:flex;align-items:center;justify-content:center}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;" +
    "max-height:calc(100vh - 110px);background:#fff;color:#111;border-radius:14px;display:none;flex-direction:column;" +
    "box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden;z-index:2147483000}" +
    ".panel.open{display:flex}" +
    "header{background:#2563eb;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}" +
    "header b{flex:1;font-weight:600}header button{background:none;border:0;color:#fff;cursor:pointer;display:flex;padding:2px}" +
    ".status{font-size:12px;padding:4px 14px;background:#fef3c7;color:#92400e;display:none}" +
    ".status.on{display:block}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f8fafc}" +
    ".msg{max-width:80%;padding:8px 10px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".msg.in{align-self:flex-end;background:#2563eb;color:#fff;border-bottom-right-radius:4px}" +
    ".msg.out{align-self:flex-start;background:#e5e7eb;color:#111;border-bottom-left-radius:4px}" +
    ".msg.pending{opacity:.6}.msg a{color:inherit}.msg a.file{text-decoration:underline}.msg small{display:block;font-size:11px;opacity:.75}" +
    ".note{align-self:center;color:#6b7280;font-size:12px;text-align:center}" +
    ".typing{font-size:12px;color:#6b7280;padding:0 14px;height:18px}" +
    "form.send{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb}" +
    "textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:8px;padding:6px 8px;height:38px}" +
    "button.primary{background:#2563eb;color:#fff;border:0;border-radius:8px;padding:0 12px;cursor:pointer}" +
    "label.attach{cursor:pointer;padding:8px 4px;display:flex;align-items:center}label.attach input{display:none}" +
    "form.contact{display:none;padding:10px 14px;gap:6px;flex-direction:column;border-bottom:1px solid #e5e7eb}" +
    "form.contact.open{display:flex}form.contact input{border:1px solid #d1d5db;border-radius:6px;padding:6px}" +
    "</style>" +
    "<button class='bubble' part='bubble' type='button'><svg viewBox='0 0 24 24' width='26' height='26' fill='currentColor' aria-hidden='true'><path d='M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z'/></svg></button>" +
    "<section class='panel' role='dialog'>" +
    "<header><b class='title'></b><button type='button' class='who'><svg viewBox='0 0 24 24' width='18' height='18' fill='currentColor' aria-hidden='true'><circle cx='12' cy='8' r='4'/><path d='M4 21a8 8 0 0 1 16 0z'/></svg></button>" +
    "<button type='button' class='close'>✕</button></header>" +
    "<form class='contact'><input name='name' maxlength='200'><input name='email' type='email' maxlength='320'>" +
    "<button class='primary' type='submit'></button></form>" +
    "<div class='status'></div><div class='log' aria-live='polite'></div><div class='typing'></div>" +
    "<form class='send'><label class='attach'><svg viewBox='0 0 24 24' width='20' height='20' fill='none' stroke='#4b5563' stroke-width='2' stroke-linecap='round' aria-hidden='true'><path d='M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7'/></svg><input type='file'></label>" +
    "<textarea name='text' rows='1'></textarea><button class='primary' type='submit'></button></form>" +
    "</section>";
  function $(sel) { return root.querySelector(sel); }
  var panel = $(".panel"), log = $(".log"), status = $(".status"), typingLine = $(".typing");
  var input = $("textarea"), sendForm = $("form.send"), contactForm = $("form.contact");
  var fileInput = $("label.attach input");
  $(".bubble").setAttribute("aria-label", t.open);
  $(".title").textContent = t.title;
  $(".close").setAttribute("aria-label", t.close);
  $(".who").title = t.contact;
  $("label.attach").title = t.attach;
  input.placeholder = t.placeholder;
  sendForm.querySelector("button").textContent = t.send;
  contactForm.querySelector("button").textContent = t.save;
  contactForm.elements.name.placeholder = t.name;
  contactForm.elements.email.placeholder = t.email;
  contactForm.elements.name.value = profile.name || "";
  contactForm.elements.email.value = profile.email || "";
  status.textContent = t.offline;

  var greeting = document.createElement("div");
  greeting.className = "note";
  greeting.textContent = t.hello;
  log.appendChild(greeting);

  var shown = {};        // message id -> element
  var byClient = {};     // client id -> element, for our own messages
  var newest = null;     // visible_at of the newest message shown: where a resume starts
  var maxOut = 0, readSent = 0; // the newest reply shown, and the newest reported as read

  function fileUrl(file) {
    var c = credentials(), q = [];
    for (var k in c) q.push(k + "=" + encodeURIComponent(c[k]));
    return origin + "/widget/files/" + file.id + "?" + q.join("&");
  }
  function fill(el, m) {
    el.textContent = "";
    el.className = "msg " + (m.direction === "out" ? "out" : "in");
    if (m.text) el.appendChild(document.createTextNode(m.text));
    (m.attachments || []).forEach(function (f) {
      var a = document.createElement("a");
      a.href = fileUrl(f);
      a.target = "_blank";
      a.rel = "noopener noreferrer"; // the link carries the visitor id: keep it out of Referer headers
      a.textContent = f.filename;
      // A token expires: the link takes the current one when it is followed.
      var renew = function () { a.href = fileUrl(f); };
      a.addEventListener("click", renew);
      a.addEventListener("auxclick", renew);
      a.className = "file";
      if (m.text) el.appendChild(document.createElement("br"));
      el.appendChild(a);
    });
    el.dataset.id = m.id;
  }
  function show(m) {
    if (shown[m.id]) return;
    var el = (m.client_id && byClient[m.client_id]) || document.createElement("div");
    fill(el, m);
    shown[m.id] = el;
    if (!el.parentNode) log.appendChild(el);
    if (m.visible_at && (!newest || Date.parse(m.visible_at) > Date.parse(newest))) newest = m.visible_at;
    if (m.direction === "out" && m.id > maxOut) { maxOut = m.id; markRead(); }
    log.scrollTop = log.scrollHeight;
  }
  function showPending(p) {
    if (byClient[p.client_id]) return;
    var el = document.createElement("div");
    el.className = "msg in pending";
    el.textContent = p.text;
    var small = document.createElement("small");
    small.textContent = t.pending;
    el.appendChild(small);
    byClient[p.client_id] = el;
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
  }
  function markRead() {
    // Read means seen: the chat is open and the page is in front of the visitor.
    if (maxOut > readSent && panel.classList.contains("open") && document.visibilityState === "visible") {
      if (send({ type: "read", message_id: maxOut })) readSent = maxOut;
    }
  }
  function settle(clientId) {
    pending = pending.filter(function (p) { return p.client_id !== clientId; });
    save("pending", pending);
  }
  function note(text) {
    var el = document.createElement("div");
    el.className = "note";
    el.textContent = text;
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
  }

  /* ---------- connection ---------- */
  var ws = null, attempt = 0, heartbeatTimer = null, lastSeen = 0, heartbeat = 25;
  var reconnectTimer = null, typingTimer = null, lastTyping = 0;
  var IDENTITY_ERRORS = ["identity_not_enabled", "bad_identity", "bad_token", "bad_token_signature",
    "token_expired", "token_not_yet_valid", "token_wrong_audience", "token_wrong_issuer",
    "token_algorithm_refused"];
  var refused = null; // the server will not take these credentials: wait for new ones

  function wsUrl() {
    var u = new URL("/widget/ws", origin);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    if (site) u.searchParams.set("site", site);
    return u.toString();
  }
  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function connect() {
    clearTimeout(reconnectTimer);
    if (refused || (ws && ws.readyState < 2)) return;
    var sock = new WebSocket(wsUrl());
    ws = sock;
    sock.onopen = function () {
      var hello = { type: "hello", since: newest, name: profile.name || "" };
      if (profile.email) hello.email = profile.email;
      var c = credentials();
      for (var k in c) if (c[k]) hello[k] = c[k]; // a first visit sends no id: it is given one
      sock.send(JSON.stringify(hello));
      lastSeen = Date.now();
    };
    sock.onmessage = function (ev) {
      if (ws !== sock) return; // a socket of the person before a switch
      lastSeen = Date.now();
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      receive(f);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      clearInterval(heartbeatTimer);
      status.classList.add("on");
      if (refused) return;
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      reconnectTimer = setTimeout(connect, delay);
    };
  }
  function receive(f) {
    if (f.type === "welcome") {
      attempt = 0;
      status.classList.remove("on");
      if (f.visitor) { visitor = f.visitor; save("visitor", visitor); }
      heartbeat = f.heartbeat || heartbeat;
      (f.messages || []).forEach(show);
      readSent = 0; // a new connection: tell it again what is read (it ignores what it knows)
      markRead();
      pending.forEach(function (p) { showPending(p); send({ type: "message", client_id: p.client_id, text: p.text }); });
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(beat, heartbeat * 1000);
    } else if (f.type === "message") {
      show(f.message);
    } else if (f.type === "ack") {
      settle(f.client_id);
      if (f.message) show(f.message);
    } else if (f.type === "identified") {
      note(t.saved);
    } else if (f.type === "typing") {
      typingLine.textContent = t.typing;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingLine.textContent = ""; }, 5000);
    } else if (f.type === "error") {
      if (f.code === "rate_limited" && f.client_id) {
        var p = pending.filter(function (x) { return x.client_id === f.client_id; })[0];
        if (p) setTimeout(function () { send({ type: "message", client_id: p.client_id, text: p.text }); },
          Math.ceil((f.retry_after || 1) * 1000));
      } else if (f.code === "bad_visitor") {
        visitor = null;
        save("visitor", null);
      } else if (IDENTITY_ERRORS.indexOf(f.code) >= 0) {
        // Retrying would be refused again: the host page can give a new token instead.
        refused = f.code;
        window.dispatchEvent(new CustomEvent("relaydesk:identity-refused",
          { detail: { code: f.code, message: f.message } }));
      }
    }
  }
  function beat() {
    // The browser answers the server's pings itself but cannot see them: a ping of our own
    // tells a dead connection (sleeping laptop, lost Wi-Fi) from a quiet one.
    if (Date.now() - lastSeen > (heartbeat + 10) * 1000) { if (ws) ws.close(); return; }
    send({ type: "ping" });
  }
  window.addEventListener("online", function () { attempt = 0; connect(); });
  document.addEventListener("visibilitychange", markRead);

  /* ---------- actions ---------- */
  function submitText() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    var p = { client_id: randomId("c_", 20), text: text.slice(0, 4000) };
    pending.push(p);
    save("pending", pending);
    showPending(p);
    send({ type: "message", client_id: p.client_id, text: p.text });
  }
  sendForm.addEventListener("submit", function (e) { e.preventDefault(); submitText(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submitText(); }
  });
  input.addEventListener("input", function () {
    if (Date.now() - lastTyping > 2000) { lastTyping = Date.now(); send({ type: "typing" }); }
  });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    var form = new FormData();
    var c = credentials();
    for (var k in c) form.append(k, c[k]);
    form.append("client_id", randomId("f_", 20));
    form.append("site", site);
    form.append("name", profile.name || "");
    form.append("file", file, file.name);
    fetch(origin + "/widget/upload", { method: "POST", body: form })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (r) {
        if (r.ok) show(r.body.message);
        else note(t.uploadFailed + (r.body.error ? r.body.error.message : ""));
      })
      .catch(function (err) { note(t.uploadFailed + err); });
  });
  contactForm.addEventListener("submit", function (e) {
    e.preventDefault();
    profile = { name: contactForm.elements.name.value.trim(), email: contactForm.elements.email.value.trim() };
    save("profile", profile);
    var frame = { type: "identify", name: profile.name };
    if (profile.email) frame.email = profile.email;
    send(frame);
    contactForm.classList.remove("open");
  });
  $(".who").addEventListener("click", function () { contactForm.classList.toggle("open"); });
  function setOpen(open) {
    panel.classList.toggle("open", open);
    save("open", open);
    if (open) { connect(); input.focus(); markRead(); }
  }
  $(".bubble").addEventListener("click", function () { setOpen(!panel.classList.contains("open")); });
  $(".close").addEventListener("click", function () { setOpen(false); });

  /* ---------- JS API: log in, renew the token, log out ---------- */
  function setToken(next) {
    var before = who(), wasSigned = signedIn();
    token = next;
    refused = null;
    attempt = 0;
    if (who() !== before) switchPerson(wasSigned);
    else connect(); // a renewed token: used from the next connection, upload and file link
  }
  function switchPerson(wasSigned) {
    // Someone else now: forget what the last person saw. Messages typed but not yet sent
    // go along only when an anonymous visitor logs in (the same person, now known).
    if (wasSigned) { pending = []; save("pending", pending); }
    if (!signedIn()) {
      visitor = null;
      save("visitor", null);
      profile = { name: "", email: "" };
      save("profile", profile);
      contactForm.elements.name.value = contactForm.elements.email.value = "";
    }
    shown = {}; byClient = {}; newest = null; maxOut = readSent = 0;
    log.textContent = "";
    log.appendChild(greeting);
    pending.forEach(showPending);
    var old = ws;
    ws = null;
    if (old) old.close();
    connect();
  }
  window.relaydesk = function (command, options) { setToken(tokenAfter(command, options, token)); };

  function mount() {
    document.body.appendChild(host);
    pending.forEach(showPending);
    if (data.open !== undefined || load("open", false)) setOpen(true);
    else connect();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
