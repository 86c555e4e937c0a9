// Live progress of a bulletin's render: polls the job's JSON on this site, updates the bar and the stage,
// and shows the link to listen and publish when it is done (the page works without it: reload it).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var url = box.getAttribute("data-status");
  var bar = document.getElementById("bar");
  var stage = document.getElementById("stage");
  var message = document.getElementById("message");
  var result = document.getElementById("result");
  var polls = 0;
  var MAX_POLLS = 3600;  // half an hour at 0.5 s: a render never takes that long

  function show(job) {
    bar.value = job.progress;
    bar.textContent = Math.round(job.progress * 100) + "%";
    stage.textContent = job.stage_vi + (job.total ? " (" + job.done + "/" + job.total + ")" : "");
    box.setAttribute("data-state", job.status);
    box.setAttribute("data-polls", String(polls));
    if (job.status === "done" && job.page) {
      bar.value = 1;
      result.href = job.page;
      result.hidden = false;
      return true;
    }
    if (job.status === "failed") {
      message.textContent = "Không dựng được bản tin: " + job.message;
      message.hidden = false;
      return true;
    }
    return false;
  }

  function poll() {
    polls += 1;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (job && show(job)) { return; }
        if (polls < MAX_POLLS) { window.setTimeout(poll, 500); }
      })
      .catch(function () { if (polls < MAX_POLLS) { window.setTimeout(poll, 2000); } });
  }
  poll();
})();
