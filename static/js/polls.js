/* Descriptor polling: after "Poll now", ask the portal for the poll panel again every two seconds
 * until the poll ends, then put the new panel in place (versions.views.automatic.listing_polls_live).
 * Progressive enhancement under the CSP: a file of our own, no inline script; without it the
 * page says to reload. */
(function () {
  "use strict";
  var INTERVAL_MS = 2000;
  var GIVE_UP_MS = 120000;
  var box = document.querySelector("[data-poll-live]");
  if (!box || !window.fetch) return;
  var url = box.dataset.pollLive;
  var started = Date.now();

  function replacePanel(html) {
    var panel = document.getElementById("descriptor-polls");
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("#descriptor-polls");
    if (!panel || !fresh) return;
    panel.replaceWith(fresh);
    var status = document.createElement("p");
    status.className = "live-check ok";
    status.setAttribute("role", "status");
    status.textContent = "The poll ended: its result is the first row below.";
    var table = fresh.querySelector(".poll-history");
    fresh.insertBefore(status, table);
  }

  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (result) {
        if (result.done) {
          replacePanel(result.html);
        } else if (Date.now() - started > GIVE_UP_MS) {
          box.removeAttribute("aria-busy");
          box.textContent = "The poll is taking longer than usual: reload the page later to see its result.";
        } else {
          setTimeout(tick, INTERVAL_MS);
        }
      })
      .catch(function () {
        if (Date.now() - started > GIVE_UP_MS) {
          box.removeAttribute("aria-busy");
          box.textContent = "The portal could not be asked about the poll: reload the page to see its result.";
        } else {
          setTimeout(tick, INTERVAL_MS * 2);
        }
      });
  }
  setTimeout(tick, INTERVAL_MS);
})();
