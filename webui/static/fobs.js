// The fob forms: show the facility field only for formats that have one, and suggest the
// responders group for a holder from a responder agency. The server checks all of it anyway.
"use strict";
(function () {
  const RESPONDER = /\b(police|sheriff|sheriff's|fire|ems|marshals?|troopers?|patrol|rescue|ambulance|paramedics?|emergency|public safety|constable)\b/i;
  function facility() {
    const format = document.getElementById("f-format");
    const box = document.getElementById("facility-field");
    if (!format || !box) return;
    const option = format.options[format.selectedIndex];
    const has = option && option.dataset.facility !== "";
    box.hidden = !has;
    const input = document.getElementById("f-facility");
    if (input) {
      input.required = has;
      if (!has) input.value = "";
    }
  }
  function agency() {
    const holder = document.getElementById("f-holder");
    const newHolder = document.getElementById("f-new_holder");
    if (newHolder && newHolder.value.trim()) {
      const picked = document.getElementById("f-agency");
      const typed = document.getElementById("f-new_agency");
      return (typed && typed.value.trim()) || (picked && picked.value) || "";
    }
    if (!holder) return "";
    for (const option of document.querySelectorAll("#holders option")) {
      if (option.value === holder.value) return option.dataset.agency || "";
    }
    return "";
  }
  function suggest() {
    const group = document.getElementById("f-group");
    if (!group || group.value) return;
    if (RESPONDER.test(agency()) && [...group.options].some((o) => o.value === "responders")) {
      group.value = "responders";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    const format = document.getElementById("f-format");
    if (format) format.addEventListener("change", facility);
    facility();
    for (const id of ["f-holder", "f-new_holder", "f-agency", "f-new_agency"]) {
      const el = document.getElementById(id);
      if (el) el.addEventListener("change", suggest);
    }
  });
})();
