// Polls the dashboard's JSON every 2 s: new events on top, the door's state and the banner refreshed.
// Text goes in with textContent only, so a holder's name can never become markup.
"use strict";
(function () {
  const table = document.getElementById("events");
  if (!table) { return; }
  const url = table.dataset.pollUrl;
  let lastId = Number(table.dataset.lastId) || 0;
  const body = table.tBodies[0];
  const columns = ["time", "text", "credential"];  // text: the event as a sentence
  const keep = 200;

  function setField(name, text) {
    const el = document.querySelector('[data-field="' + name + '"]');
    if (el) { el.textContent = text; }
  }

  function showDoor(door) {
    setField("mode", door.mode_label || door.mode);
    setField("mode-note", door.mode_note || "");
    const display = document.getElementById("mode-display");
    const shown = door.shown_mode || door.mode;
    if (display && display.dataset.mode !== shown) {
      display.classList.remove("mode-" + display.dataset.mode);
      display.classList.add("mode-" + shown);
      display.dataset.mode = shown;
    }
    if (!door.running) {
      setField("controller", "The door controller is not running: " + door.error);
      return;
    }
    setField("controller", door.degraded ? "Controller running, degraded: deciding from memory" : "Controller running.");
    setField("locked", door.locked ? "locked" : "unlocked");
    setField("open", door.open ? "open" : "closed");
    setField("alarms", door.alarm_text || "none");
    setField("clock", door.clock);
  }

  // The banner on top of the page, as the server would draw it (the same classes and order).
  function showAlerts(alerts) {
    const box = document.getElementById("alerts");
    if (!box || !Array.isArray(alerts)) { return; }
    box.replaceChildren();
    for (const a of alerts) {
      const line = document.createElement("div");
      line.className = "alert alert-" + a.level;
      line.setAttribute("role", "alert");
      const icon = document.createElement("span");
      icon.className = "alert-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "\u26a0";
      const title = document.createElement("strong");
      title.className = "alert-title";
      title.textContent = a.title;
      const text = document.createElement("span");
      text.className = "alert-text";
      text.textContent = a.text;
      line.append(icon, title, text);
      if (a.url) {
        const link = document.createElement("a");
        link.className = "button alert-action";
        link.href = a.url;
        link.textContent = a.action;
        line.appendChild(link);
      }
      box.appendChild(line);
    }
  }

  function addEvent(ev) {
    const row = document.createElement("tr");
    row.className = "kind-" + ev.kind;
    for (const key of columns) {
      const cell = document.createElement("td");
      cell.textContent = ev[key];
      row.appendChild(cell);
    }
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > keep) { body.deleteRow(body.rows.length - 1); }
  }

  async function poll() {
    try {
      const reply = await fetch(url + "?after=" + lastId, { credentials: "same-origin" });
      if (reply.ok) {
        const data = await reply.json();
        for (const ev of data.events) { addEvent(ev); lastId = Math.max(lastId, ev.id); }
        showDoor(data.door);
        showAlerts(data.alerts);
      }
    } catch (err) {
      // The box may be restarting: keep trying.
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
})();
