/* Vendor portal: small progressive enhancements, no dependencies.
 *
 * The pages work without this file; it adds a confirmation on destructive
 * buttons, the update-notes character counter, a filter for the scope picker,
 * and the live number check and consent preview. The live checks ask the
 * server (versions.schemes through /portal/versions/check-number), so the page
 * applies exactly the rules the server applies on submit.
 */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  document.querySelectorAll("textarea[data-max-length]").forEach(function (area) {
    var max = parseInt(area.dataset.maxLength, 10);
    var counter = document.getElementById("notes-counter");
    if (!counter) return;
    function update() {
      // Count characters as the server does (code points, line breaks as one).
      var length = Array.from(area.value.trim()).length;
      counter.textContent = length + " / " + max + " characters" + (length > max ? " (" + (length - max) + " over the limit)" : "");
      counter.classList.toggle("over", length > max);
      area.setAttribute("aria-invalid", length > max || length === 0 ? "true" : "false");
    }
    area.addEventListener("input", update);
    update();
  });

  var filter = document.getElementById("scope-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase();
      document.querySelectorAll("#id_scopes > div").forEach(function (row) {
        // Ticked scopes stay in view: the vendor always sees what the version asks for.
        var ticked = row.querySelector("input:checked") !== null;
        row.hidden = !ticked && needle !== "" && row.textContent.toLowerCase().indexOf(needle) === -1;
      });
    });
  }

  var form = document.getElementById("version-form");
  if (!form) return;
  var numberInput = form.querySelector("[name=number]");
  var numberBox = document.getElementById("number-check");
  var previewBox = document.getElementById("consent-preview");
  var notesBox = document.getElementById("consent-notes");
  var scopeBox = document.getElementById("scope-check");

  // The catalogue says some scopes require others (write:jira-work requires read:jira-work):
  // list what is missing with a one-click "Add" that ticks the required scope.
  function addScope(scope) {
    var box = form.querySelector('[name=scopes][value="' + scope.replace(/"/g, "") + '"]');
    if (box) {
      box.checked = true;
      var row = box.closest("div");
      if (row) row.hidden = false;
    } else {
      var other = form.querySelector("[name=other_scopes]");
      if (other) other.value = (other.value.trim() + " " + scope).trim();
    }
    check();
  }

  function showMissingScopes(missing) {
    if (!scopeBox) return;
    scopeBox.textContent = "";
    scopeBox.className = "live-check" + (missing.length ? " warning" : "");
    if (!missing.length) return;
    var intro = document.createElement("p");
    intro.textContent = "A required scope is missing: you can save the draft, but it can't be submitted until you add it.";
    scopeBox.appendChild(intro);
    var list = document.createElement("ul");
    missing.forEach(function (item) {
      var entry = document.createElement("li");
      entry.appendChild(document.createTextNode(item.scope + " requires " + item.requires + " "));
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary add-scope";
      button.dataset.scope = item.add;
      button.textContent = "Add " + item.add;
      entry.appendChild(button);
      list.appendChild(entry);
    });
    scopeBox.appendChild(list);
  }

  if (scopeBox) {
    scopeBox.addEventListener("click", function (event) {
      var button = event.target.closest(".add-scope");
      if (!button) return;
      event.preventDefault();
      addScope(button.dataset.scope);
    });
  }

  function params() {
    var query = new URLSearchParams();
    query.set("listing", form.dataset.listing);
    if (form.dataset.version) query.set("version", form.dataset.version);
    query.set("number", numberInput.value);
    var scopes = [];
    form.querySelectorAll("[name=scopes]:checked").forEach(function (box) { scopes.push(box.value); });
    var other = form.querySelector("[name=other_scopes]");
    if (other && other.value.trim()) scopes.push(other.value.trim());
    query.set("scopes", scopes.join(" "));
    var pricing = form.querySelector("[name=pricing]");
    if (pricing) query.set("pricing", pricing.value);
    var channel = form.querySelector("[name=channel]");
    if (channel) query.set("channel", channel.value);
    var breaking = form.querySelector("[name=breaking]");
    if (breaking && breaking.checked) query.set("breaking", "1");
    return query;
  }

  function getJSON(url, query) {
    return fetch(url + "?" + query.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); });
  }

  // One live message per field and per source ("check" = the number rules, "preview" = the scopes):
  // the number's own box for the number, else a line at the end of the field's wrapper (#field-NAME).
  function liveMessage(field, text, kind, source) {
    source = source || "own";
    form.querySelectorAll('[data-live-source="' + source + '"]').forEach(function (old) {
      if (!field || old.dataset.liveFor !== field) old.remove();
    });
    if (!field) return;
    // The catalogue's checkboxes can't be wrong: a refused scope is one typed into "Other scopes".
    if (field === "scopes" && document.getElementById("field-other_scopes")) field = "other_scopes";
    if (field === "number" && source === "own") {
      numberBox.textContent = text;
      numberBox.className = "live-check" + (kind ? " " + kind : "");
      return;
    }
    var holder = document.getElementById("field-" + field) || (field === "scopes" ? scopeBox : null) || numberBox.parentNode;
    var line = holder.querySelector('[data-live-source="' + source + '"]');
    if (!text) { if (line) line.remove(); return; }
    if (!line) {
      line = document.createElement("p");
      line.dataset.liveSource = source;
      line.dataset.liveFor = field;
      line.setAttribute("role", "status");
      holder.appendChild(line);
    }
    line.className = "live-check " + (kind || "");
    line.textContent = text;
  }

  var timer = null;
  function check() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = params();
      if (!numberInput.value.trim()) {
        numberBox.textContent = "";
        numberBox.className = "live-check";
      } else {
        getJSON(form.dataset.checkUrl, query).then(function (result) {
          var field = result.field || "number";
          // The message goes under the field it is about (a scope error under the scopes, not the number).
          if (!result.ok && field !== "number") {
            liveMessage("number", "", "");
            liveMessage(field, result.error, "error", "check");
          } else {
            liveMessage(null, "", "", "check");
            if (!result.ok) {
              liveMessage("number", result.error, "error");
            } else {
              liveMessage("number", "\u2713 " + result.number + " is valid (channel " + result.channel + ")." + (result.warning ? " Warning: " + result.warning : ""), result.warning ? "warning" : "ok");
            }
          }
          numberInput.setAttribute("aria-invalid", result.ok || field !== "number" ? "false" : "true");
        }).catch(function () { numberBox.textContent = ""; });
      }
      getJSON(form.dataset.previewUrl, query).then(function (result) {
        showMissingScopes(result.missing_scopes || []);
        // A refused scope is told under the scopes; the preview says only that it waits for them.
        liveMessage(result.field && !result.ok ? result.field : null, result.field && !result.ok ? result.summary : "", "error", "preview");
        if (result.field && !result.ok) result.summary = "Fix the scopes to see what customers will have to approve.";
        previewBox.textContent = result.summary;
        var basis = document.getElementById("consent-basis");
        if (basis) basis.textContent = result.live_number ? "Compared with the live version " + result.live_number + " of the channel." : "";
        previewBox.classList.toggle("needs-consent", Boolean(result.needs_consent));
        var wordsBox = document.getElementById("scope-words");
        if (wordsBox && result.scopes_in_words) {
          wordsBox.textContent = "";
          result.scopes_in_words.forEach(function (item) {
            var entry = document.createElement("li");
            entry.appendChild(document.createTextNode(item.words + " "));
            var code = document.createElement("code");
            code.className = "muted";
            code.textContent = item.scope;
            entry.appendChild(code);
            wordsBox.appendChild(entry);
          });
          if (!result.scopes_in_words.length) {
            var none = document.createElement("li");
            none.className = "muted";
            none.textContent = "Nothing: it asks for no scope.";
            wordsBox.appendChild(none);
          }
        }
        notesBox.textContent = "";
        (result.notes || []).forEach(function (note) {
          var item = document.createElement("li");
          item.textContent = note;
          notesBox.appendChild(item);
        });
      }).catch(function () { /* the server-rendered preview stays */ });
    }, 250);
  }

  form.addEventListener("input", check);
  form.addEventListener("change", check);
  if (numberInput.value.trim()) check();
})();

/* The error summary (templates/portal/_error_summary.html): focus it after a refused submit, and
 * let its links put the cursor into the field they name (a wrapper's first input when the link
 * points at a group of checkboxes or a table). */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    var input = target.matches("input, select, textarea") ? target : target.querySelector("input:not([type=hidden]), select, textarea");
    if (!input) return;
    event.preventDefault();
    target.scrollIntoView({ block: "center" });
    input.focus();
  });
})();
