// Filters the commune list as the visitor types (the search form still works without JavaScript).
// Names are compared without tone marks, as the server's search does: "do luong" finds "Đô Lương".
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.querySelector("ul.communes");
  var count = document.getElementById("shown");
  if (!input || !list) { return; }
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }
  function apply() {
    var q = fold(input.value);
    var shown = 0;
    var items = list.querySelectorAll("li[data-name]");
    for (var i = 0; i < items.length; i++) {
      var hit = !q || items[i].getAttribute("data-name").indexOf(q) !== -1;
      items[i].hidden = !hit;
      if (hit) { shown++; }
    }
    if (count) { count.textContent = String(shown); }
    var none = document.getElementById("none");
    if (none) { none.hidden = shown !== 0; }
  }
  input.addEventListener("input", apply);
  apply();
})();
