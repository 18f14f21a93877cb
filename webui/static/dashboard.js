// Polls the dashboard's JSON every 2 s: new events on top, the door's state refreshed.
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
    if (!door.running) {
      setField("controller", "The door controller is not running: " + door.error);
      setField("mode", door.mode);
      return;
    }
    setField("controller", door.degraded ? "Controller running, degraded: deciding from memory" : "Controller running.");
    setField("locked", door.locked ? "locked" : "unlocked");
    setField("open", door.open ? "open" : "closed");
    setField("mode", door.mode);
    setField("alarms", door.alarms && door.alarms.length ? door.alarms.join(", ") : "none");
    setField("clock", door.clock);
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
      }
    } catch (err) {
      // The box may be restarting: keep trying.
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
})();
