// Pronto's console: the supervisor's wallboard and the operator's view. Plain modules, no
// packages, nothing loaded from anywhere but this origin.
import { $, channel, newKey, serverNow, state, t, cell, fill, duration, percent, clock, short, referralText } from "./console-core.js";



function translate() {
  document.documentElement.lang = state.language;
  $("#language").value = state.language;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  if (state.data) render();
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { "authorization": `Bearer ${state.token}`, "content-type": "application/json", ...(options.headers || {}) } });
  if (response.status === 401) { signOut(t("badToken")); throw new Error("unauthenticated"); }
  if (!response.ok) throw new Error(`${response.status}: ${(await response.json().catch(() => ({}))).detail || response.statusText}`);
  return response.json();
}

function showError(error) { $("#error").textContent = error ? String(error.message || error) : ""; }

async function refresh() {
  if (state.refreshing) { state.again = true; return; }
  state.refreshing = true;
  // A refresh started before a sign-out (the wallboard's, say) must not be drawn in the next view.
  const session = state.session;
  try {
    const data = await api(state.role === "supervisor" ? "/console/api/wallboard" : "/console/api/me");
    if (session !== state.session) return;
    state.data = data;
    state.offset = Date.parse(state.data.now) - Date.now(); // the server's clock counts, not the browser's
    render();
  } catch (error) {
    if (session === state.session && error.message !== "unauthenticated") showError(error);
  } finally {
    state.refreshing = false;
    if (state.again) { state.again = false; refresh(); }
  }
}

function render() {
  if (state.role === "supervisor") renderWallboard(state.data); else renderOperator(state.data);
}

function renderWallboard(board) {
  $("#updated-at").textContent = clock(board.now);
  $("#queue-total").textContent = String(board.queue.total);
  $("#queue-listed").textContent = board.queue.listed < board.queue.total ? `(${t("oldestShown", board.queue.listed)})` : "";
  $("#objective").textContent = percent(board.objective);
  $("#window-head").textContent = t("lastMinutes", board.window_minutes);
  fill("#queue-table", board.queue.groups, (g) => {
    const wait = cell(duration(g.oldest_wait_s), g.oldest_wait_s > 300 ? "bad" : "");
    wait.dataset.since = g.oldest_since;
    return [cell(channel(g.channel)), cell(g.language), cell(g.topic), cell(String(g.waiting)), wait];
  });
  fill("#compliance-table", board.compliance, (c) => {
    const today = cell(percent(c.today.compliance), c.below_objective ? "bad" : "good");
    today.id = `compliance-${c.channel}`;
    return [cell(channel(c.channel)), cell(percent(c.window.compliance)), today, cell(`${c.today.met} / ${c.today.breached}`)];
  });
  options($("#move-to"), [["", t("toQueue")], ...board.operators.map((o) => [o.operator_id, `${o.name} (${t(o.status)})`])]);
  // The conversations the board shows, offered as the one to move (any other id may be typed).
  const shown = [...new Set([...board.attention, ...board.decisions].map((c) => c.conversation_id))];
  options($("#move-conversations"), shown.map((id) => [id, id]));
  fill("#operators-table", board.operators, (o) => [cell(o.name), cell(t(o.status), o.status === "online" ? "good" : ""), cell(`${o.load} / ${o.capacity}`), cell(String(o.handled_today)), cell(duration(o.average_first_response_s))]);
  fill("#attention-table", board.attention, (a) => [cell(a.conversation_id), cell(channel(a.channel)), cell(`${t(a.metric)}: ${t(a.state)}`, a.state === "breached" ? "bad" : "warn"), cell(`${clock(a.deadline)} (${a.overrun_s != null ? t("over", duration(a.overrun_s)) : t("left", duration(a.time_left_s || 0))})`), cell(a.operator || t("none"))]);
  fill("#decisions-table", board.decisions, (d) => {
    const what = d.type === "assigned" ? `${t("assigned")} ${d.operator_name || d.operator_id}` : `${t("queued")} ${d.position}${d.nobody_online ? `, ${t("nobodyOnline")}` : ""}`;
    const candidates = (d.candidates || []).map((c) => `${c.operator_id} ${c.score.toFixed(2)}: ${c.reason}`).join("; ");
    return [cell(clock(d.at)), cell(`${d.conversation_id} (${channel(d.channel)})`), cell(what), cell(d.reason), cell(candidates || t("none"))];
  });
}

function slaText(sla, now) {
  if (!sla) return t("noClock");
  const metric = t(sla.metric);
  if (sla.state === "met" || sla.state === "missed") return t("slaStopped", metric, t(sla.state));
  if (!sla.deadline) return t("clockDone", metric, t(sla.state)); // paused, or switched off
  const left = (new Date(sla.deadline) - now) / 1000;
  return left >= 0 ? t("slaLeft", metric, duration(left)) : t("slaLate", metric, duration(-left));
}

// Every clock at a glance, one line each: state, time left or over (counted down between updates
// while it runs; a paused clock's budget stands still), and its open pause with the reason.
function clocksText(clocks, now, fetchedAt) {
  return Object.entries(clocks || {}).map(([metric, c]) => {
    const name = t(metric);
    if (!["running", "at_risk", "breached", "paused"].includes(c.state)) return t("clockDone", name, t(c.state));
    const passed = c.state === "paused" ? 0 : (now - fetchedAt) / 1000;
    const left = c.time_left_s != null ? c.time_left_s - passed : -(c.overrun_s || 0) - passed;
    const open = (c.pauses || []).find((p) => !p.to);
    const what = open ? t("pausedSince", t(open.state), clock(open.from), open.reason) : t(c.state);
    const count = (c.pauses || []).length > (open ? 1 : 0) ? ` · ${t("pausesCount", c.pauses.length)}` : "";
    return (left >= 0 ? t("clockLeft", name, what, duration(left)) : t("clockLate", name, what, duration(-left))) + count;
  }).join(" · ");
}

const clocksLine = (c, now) => `${t("waitingOn", t(c.state || "open"))} · ${clocksText(c.clocks, now, new Date(state.data.now))}`;

function renderOperator(me) {
  $("#operator-name").textContent = me.name;
  for (const button of document.querySelectorAll("#status button")) button.setAttribute("aria-pressed", String(button.dataset.status === me.status));
  $("#operator-empty").hidden = me.conversations.length > 0;
  const count = t("conversationsCount", me.conversations.length);
  if ($("#operator-count").textContent !== count) $("#operator-count").textContent = count; // announced when it changes
  const list = $("#conversations");
  const wanted = new Set(me.conversations.map((c) => c.conversation_id));
  for (const card of [...list.children]) if (!wanted.has(card.dataset.conversation)) card.remove();
  const now = serverNow();
  for (const c of me.conversations) {
    // A card is updated in place: what the operator is typing, and where the focus is, stay.
    let card = list.querySelector(`.conversation[data-conversation="${CSS.escape(c.conversation_id)}"]`);
    if (!card) { card = conversationCard(c); list.append(card); }
    updateCard(card, c, now);
  }
}

function updateCard(card, c, now) {
  const who = c.customer?.name || c.customer?.id || t("customer");
  card.querySelector("h3").textContent = `${who} · ${channel(c.channel)}${c.subject ? ` · ${c.subject}` : ""}`;
  const sla = card.querySelector(".sla");
  sla.className = `sla ${c.sla?.state === "breached" ? "bad" : c.sla?.state === "at_risk" ? "warn" : ""}`;
  sla.dataset.state = c.sla?.state || "none";
  sla.textContent = slaText(c.sla, now);
  const clocks = card.querySelector(".clocks");
  clocks.textContent = clocksLine(c, now);
  for (const button of card.querySelectorAll("button.state-action")) {
    button.textContent = t(button.dataset.label);
    button.setAttribute("aria-pressed", String(button.dataset.state === (c.state || "open")));
  }
  const referral = card.querySelector(".referral");
  referral.textContent = referralText(c.referral);
  referral.hidden = !referral.textContent;
  const author = (m) => (m.from === "customer" ? t("customer") : m.operator_id === state.data.operator_id ? t("you") : m.operator_id);
  card.querySelector("ol").replaceChildren(...c.messages.map((m) => {
    const li = document.createElement("li");
    li.className = m.from;
    li.textContent = `${author(m)} (${clock(m.at)}): ${m.text}`;
    // What it answers or changes, above it: the quoted text when the conversation holds it, else the channel's id.
    const notes = [
      m.reply_to && t("inReplyTo", m.reply_to.text ? `“${short(m.reply_to.text)}”` : m.reply_to.id),
      m.changes && t("changes", m.changes.text ? `“${short(m.changes.text)}”` : m.changes.id),
      m.forwarded && t("forwarded"),
      m.product && t("asksAbout", m.product),
    ];
    for (const text of notes.filter(Boolean).reverse()) {
      const note = document.createElement("span");
      note.className = "context";
      note.textContent = text;
      li.prepend(note);
    }
    return li;
  }));
  card.querySelector("label").textContent = t("replyTo", who);
  card.querySelector("button[type=submit]").textContent = t("send");
  card.querySelector("button.secondary").textContent = t("resolve");
  const handTo = card.querySelector("select.transfer-to");
  handTo.setAttribute("aria-label", t("transferTo"));
  options(handTo, [["", t("toQueue")], ...(state.data.colleagues || []).map((o) => [o.operator_id, `${o.name} (${t(o.status)})`])]);
  card.querySelector("input.state-reason").placeholder = t("stateReason");
  card.querySelector("input.state-reason").setAttribute("aria-label", t("stateReason"));
  card.querySelector("input.transfer-reason").placeholder = t("transferReason");
  card.querySelector("input.transfer-reason").setAttribute("aria-label", t("transferReason"));
  card.querySelector("button.transfer").textContent = t("transfer");
}

// A select's options replaced in place, keeping what is chosen (pages update twice a second).
function options(select, pairs) {
  const chosen = select.value;
  const now = pairs.map(([value, text]) => `${value}\u0000${text}`).join("\u0001");
  if (select.dataset.options === now) return;
  select.dataset.options = now;
  select.replaceChildren(...pairs.map(([value, text]) => new Option(text, value)));
  if (pairs.some(([value]) => value === chosen)) select.value = chosen;
}


function conversationCard(c) {
  const card = document.createElement("article");
  card.className = "conversation";
  card.dataset.conversation = c.conversation_id;
  const title = document.createElement("h3");
  const sla = document.createElement("p");
  sla.className = "sla";
  const referral = document.createElement("p");
  referral.className = "referral";
  const clocks = document.createElement("p");
  clocks.className = "clocks";
  const list = document.createElement("ol");
  const form = document.createElement("form");
  const id = `reply-${c.conversation_id}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  const area = document.createElement("textarea");
  area.id = id;
  area.required = true;
  const send = document.createElement("button");
  send.type = "submit";
  const resolve = document.createElement("button");
  resolve.type = "button";
  resolve.className = "secondary";
  // Pending (waiting on the customer), on hold (on a third party), open again: no reply is sent.
  // The reason (the courier, the supplier) is kept with the pause and shown beside the clock.
  const stateWhy = document.createElement("input");
  stateWhy.className = "state-reason";
  stateWhy.maxLength = 500;
  const states = [["pending", "setPending"], ["on_hold", "setOnHold"], ["open", "reopen"]].map(([value, label]) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "state-action";
    button.dataset.state = value;
    button.dataset.label = label;
    button.addEventListener("click", async () => {
      button.disabled = true;
      button.dataset.key ||= newKey(); // a second click is the same change
      try {
        await api(`/console/api/me/conversations/${encodeURIComponent(c.conversation_id)}/state`, { method: "POST", body: JSON.stringify({ state: value, reason: stateWhy.value, key: button.dataset.key }) });
        delete button.dataset.key;
        stateWhy.value = "";
        showError("");
      } catch (error) { showError(error); } finally { button.disabled = false; }
    });
    return button;
  });
  // Hand it on (issue #20): to a colleague or back to the queue; routing says whether they have room.
  const handTo = document.createElement("select");
  handTo.className = "transfer-to";
  const why = document.createElement("input");
  why.className = "transfer-reason";
  why.maxLength = 500;
  const handOn = document.createElement("button");
  handOn.type = "button";
  handOn.className = "transfer";
  handOn.addEventListener("click", async () => {
    handOn.disabled = true; // one request at a time; each click is a new one (a refused transfer may be tried again)
    try {
      const answer = await api(`/console/api/me/conversations/${encodeURIComponent(c.conversation_id)}/transfer`, { method: "POST", body: JSON.stringify({ to_operator_id: handTo.value, reason: why.value, key: newKey() }) });
      showError(t("transferred", answer.operator_id));
    } catch (error) { showError(error); } finally { handOn.disabled = false; }
  });
  form.append(label, area, send, resolve, stateWhy, ...states, handTo, why, handOn);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    send.disabled = true;
    try {
      // One key per reply: sent again after a failed attempt, it is still the same reply.
      form.dataset.key ||= newKey();
      await api(`/console/api/me/conversations/${encodeURIComponent(c.conversation_id)}/reply`, { method: "POST", body: JSON.stringify({ text: area.value, key: form.dataset.key }) });
      area.value = "";
      delete form.dataset.key;
      showError("");
    } catch (error) { showError(error); } finally { send.disabled = false; }
  });
  resolve.addEventListener("click", async () => {
    resolve.disabled = true;
    form.dataset.resolveKey ||= newKey(); // a second click is the same resolution
    try {
      await api(`/console/api/me/conversations/${encodeURIComponent(c.conversation_id)}/resolve`, { method: "POST", body: JSON.stringify({ key: form.dataset.resolveKey }) });
      showError("");
      $("#operator-title").focus();
    } catch (error) { showError(error); resolve.disabled = false; }
  });
  card.append(title, referral, sla, clocks, list, form);
  return card;
}

// The event stream is opened with a ticket the page asks for with its token (EventSource cannot
// send headers, and a token in a URL ends up in logs and histories). A ticket opens one stream and
// expires within seconds; when the browser's own reconnection is refused, the page asks for another.
async function listen() {
  const session = state.session;
  if (state.events) state.events.close();
  state.events = null;
  let ticket;
  try {
    ticket = (await api("/console/api/events/ticket", { method: "POST" })).ticket;
  } catch (error) {
    if (session !== state.session) return;
    $("#live").textContent = t("reconnecting");
    setTimeout(() => { if (session === state.session) listen(); }, 2000);
    return;
  }
  if (session !== state.session) return;
  const events = state.events = new EventSource(`/console/api/events?ticket=${encodeURIComponent(ticket)}`);
  events.addEventListener("changed", refresh);
  events.onopen = () => { $("#live").textContent = ""; refresh(); }; // catch up after a reconnection
  events.onerror = () => {
    $("#live").textContent = t("reconnecting");
    if (events.readyState === EventSource.CLOSED && state.events === events) setTimeout(() => { if (state.events === events) listen(); }, 2000);
  };
}

async function signIn(token) {
  state.session += 1;
  state.token = token;
  const who = await api("/console/api/whoami");
  sessionStorage.setItem("pronto-token", token);
  $("#token").value = ""; // kept in memory and this tab's session storage only, not in the page
  showError("");
  state.role = who.role;
  $("#who").textContent = t("signedInAs", who.operator_id || who.tenant, t(who.role === "operator" ? "operatorRole" : "supervisor"));
  $("#sign-in").hidden = true;
  $("#sign-out").hidden = false;
  $("#wallboard").hidden = who.role !== "supervisor";
  $("#operator").hidden = who.role !== "operator";
  listen();
  await refresh();
  (who.role === "operator" ? $("#operator-title") : $("#wallboard-title")).focus();
}

function signOut(message = "") {
  // An operator who signs out stops receiving work (best effort: the page may be closing).
  if (state.role === "operator" && state.token) api("/console/api/me/status", { method: "POST", body: JSON.stringify({ status: "offline" }) }).catch(() => {});
  sessionStorage.removeItem("pronto-token");
  if (state.events) state.events.close();
  Object.assign(state, { token: "", role: "", data: null, events: null, session: state.session + 1 });
  $("#token").value = "";
  showError("");
  $("#sign-in").hidden = false;
  $("#sign-out").hidden = true;
  $("#wallboard").hidden = true;
  $("#operator").hidden = true;
  $("#who").textContent = "";
  $("#sign-in-error").textContent = message;
  $("#token").focus();
}

$("#sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#sign-in-error").textContent = "";
  try { await signIn($("#token").value.trim()); } catch (error) { if (error.message !== "unauthenticated") $("#sign-in-error").textContent = String(error.message); }
});
$("#sign-out").addEventListener("click", () => signOut());
$("#language").addEventListener("change", (event) => { state.language = event.target.value; localStorage.setItem("pronto-language", state.language); translate(); });
for (const button of document.querySelectorAll("#status button")) {
  button.addEventListener("click", async () => {
    try { await api("/console/api/me/status", { method: "POST", body: JSON.stringify({ status: button.dataset.status }) }); await refresh(); } catch (error) { showError(error); }
  });
}
// A supervisor moves any conversation (issue #20): to an operator, even beyond their capacity, or
// back to the queue. Routing decides; its refusal (a colleague at capacity) is shown as it is.
$("#move-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  // Each submission is a new request: a refused move may be tried again, with the override say.
  const id = $("#move-conversation").value.trim();
  try {
    const answer = await api(`/console/api/conversations/${encodeURIComponent(id)}/transfer`, { method: "POST", body: JSON.stringify({ to_operator_id: $("#move-to").value, reason: $("#move-reason").value, override: $("#move-override").checked, key: newKey() }) });
    $("#move-result").textContent = t("transferred", answer.operator_id);
    showError("");
    refresh();
  } catch (error) { $("#move-result").textContent = ""; showError(error); }
});
// Waits and the SLA time left move with the clock between events; only those cells are written again.
setInterval(() => {
  if (!state.data) return;
  const now = serverNow();
  for (const wait of document.querySelectorAll("#queue-table td[data-since]")) wait.textContent = duration((now - new Date(wait.dataset.since)) / 1000);
  if (state.role !== "operator") return;
  for (const c of state.data.conversations) {
    const line = document.querySelector(`.conversation[data-conversation="${CSS.escape(c.conversation_id)}"] .sla`);
    if (line) line.textContent = slaText(c.sla, now);
    const clocks = document.querySelector(`.conversation[data-conversation="${CSS.escape(c.conversation_id)}"] .clocks`);
    if (clocks) clocks.textContent = clocksLine(c, now);
  }
}, 1000);

translate();
if (state.token) signIn(state.token).catch(() => signOut());
