// Sendmako dashboard: copy buttons, live session status, delivery logs. No framework, no
// build step; every page works without it (it only saves reloading by hand).
"use strict";

(() => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // -- copy buttons: <button data-copy="element-id" data-copied="Copied">
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const text = source.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Plain http on a non-local address has no clipboard API: select the text instead.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied || label;
    button.dataset.done = "1";
    setTimeout(() => { button.textContent = label; }, 2000);
  });

  const getJson = async (url) => {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.status === 401 || response.status === 404) {
      window.location.reload();  // logged out or session deleted: the page says which
      return null;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  };

  // -- one session: long-poll with the token of what the page shows.
  const follow = async (root) => {
    let token = root.dataset.token;
    for (;;) {
      try {
        const state = await getJson(`${root.dataset.liveSession}?since=${encodeURIComponent(token)}`);
        if (!state) return;
        if (state.status !== root.dataset.status) {
          window.location.reload();  // another status shows other sections
          return;
        }
        const qr = document.querySelector("[data-live-qr]");
        if (qr && state.qr) qr.src = state.qr;  // WhatsApp rotated the QR
        token = state.token;
      } catch {
        await sleep(3000);
      }
    }
  };

  // -- lists: poll every few seconds, update badges (or reload when asked to).
  const watch = async (root) => {
    const reload = root.hasAttribute("data-reload-on-change");
    for (;;) {
      await sleep(3000);
      let state;
      try {
        state = await getJson(root.dataset.liveList);
      } catch {
        continue;
      }
      if (!state) return;
      for (const session of state.sessions) {
        const row = root.querySelector(`[data-session-id="${session.session_id}"]`);
        if (!row) continue;
        const badge = row.querySelector("[data-status]");
        if (!badge || badge.dataset.status === session.status) continue;
        if (reload) {
          window.location.reload();
          return;
        }
        badge.dataset.status = session.status;
        badge.className = `badge status-${session.status}`;
        badge.textContent = session.label;
        const phone = row.querySelector("[data-phone]");
        if (phone) phone.textContent = session.phone_number ? `+${session.phone_number}` : "—";
      }
    }
  };

  // -- a webhook's delivery log: poll the token of the page shown; a new delivery or a
  // changed status reloads it (only pages got with GET carry data-live-log).
  const followLog = async (root) => {
    for (;;) {
      await sleep(2000);
      let state;
      try {
        state = await getJson(root.dataset.liveLog);
      } catch {
        continue;
      }
      if (!state) return;
      if (state.token !== root.dataset.token) {
        window.location.reload();
        return;
      }
    }
  };

  // -- the sandbox's incoming message form: only the fields of the chosen type show.
  for (const form of document.querySelectorAll("form[data-inbound]")) {
    const type = form.querySelector("[data-inbound-type]");
    const show = () => {
      for (const part of form.querySelectorAll("[data-types]")) {
        part.hidden = !part.dataset.types.split(" ").includes(type.value);
      }
    };
    type.addEventListener("change", show);
    show();
  }

  // -- the inbox: replying to a message fills the composer's quote without a reload.
  document.addEventListener("click", (event) => {
    const reply = event.target.closest("[data-reply]");
    const cancel = event.target.closest("[data-cancel-reply]");
    const composer = document.getElementById("composer");
    if (!composer || (!reply && !cancel)) return;
    event.preventDefault();
    const banner = composer.querySelector("[data-replying]");
    composer.querySelector("[data-quoted-input]").value = reply ? reply.dataset.reply : "";
    banner.querySelector("[data-replying-text]").textContent = reply ? reply.dataset.replyText : "";
    banner.hidden = !reply;
    if (reply) {
      reply.closest("details").open = false;
      composer.querySelector("textarea").focus();
    }
  });

  const toBottom = () => {
    const thread = document.querySelector("[data-thread]");
    if (thread) thread.scrollTop = thread.scrollHeight;
  };

  // -- the inbox: poll the token of what the page shows; when it changes, fetch the page
  // again and swap the list and the conversation (the composer keeps what is typed).
  const followChats = async (root) => {
    let token = root.dataset.token;
    for (;;) {
      await sleep(1500);
      let state;
      try {
        state = await getJson(root.dataset.liveChats);
      } catch {
        continue;
      }
      if (!state) return;
      if (state.token === token) continue;
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        if (!response.ok) continue;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        for (const selector of ["[data-chat-list]", "[data-thread]", ".thread-head"]) {
          const now = document.querySelector(selector);
          const next = fresh.querySelector(selector);
          if (now && next) now.replaceWith(next);
        }
        const nextRoot = fresh.querySelector("[data-live-chats]");
        token = nextRoot ? nextRoot.dataset.token : state.token;
        toBottom();
      } catch {
        await sleep(3000);
      }
    }
  };

  toBottom();
  const chats = document.querySelector("[data-live-chats]");
  if (chats) followChats(chats);
  const session = document.querySelector("[data-live-session]");
  if (session) follow(session);
  const list = document.querySelector("[data-live-list]");
  if (list) watch(list);
  const log = document.querySelector("[data-live-log]");
  if (log) followLog(log);
})();
