// The browse site's script. Every page works without it: it adds search and
// filters to the index page (over window.marketIndex, which search-index.js
// sets: a script, since fetching JSON fails on file://) and puts the site's
// address into the commands of a package page.
(function () {
  "use strict";

  // Commands hold THIS_SITE_URL when the build had no baseURL; over HTTP the
  // page knows where the site is.
  if (/^https?:$/.test(location.protocol)) {
    var codes = document.querySelectorAll("code[data-site-url]");
    for (var i = 0; i < codes.length; i++) {
      var root = new URL(codes[i].getAttribute("data-site-url") || "./", location.href).href.replace(/\/$/, "");
      var walk = document.createTreeWalker(codes[i], NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) {
        walk.currentNode.data = walk.currentNode.data.split("THIS_SITE_URL").join(root);
      }
    }
    if (codes.length) {
      var notes = document.querySelectorAll(".site-url-note");
      for (var n = 0; n < notes.length; n++) notes[n].hidden = true;
    }
  }

  var idx = window.marketIndex;
  var form = document.getElementById("filters");
  if (!idx || !form) return;
  var q = form.elements.q;
  var cat = form.elements.category;
  var ver = form.elements.version; // absent when no product versions are listed
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  var rows = [];
  for (var p = 0; p < idx.packages.length; p++) {
    var e = idx.packages[p];
    var el = document.getElementById("p-" + e[0]);
    if (el) rows.push({ el: el, text: (e[0] + "\n" + e[1]).toLowerCase(), cats: e[2], pvs: e[3] });
  }

  function plural(n) { return n === 1 ? "1 package" : n + " packages"; }

  function apply() {
    var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var c = cat.value === "" ? -1 : idx.categories.indexOf(cat.value);
    var v = !ver || ver.value === "" ? -1 : idx.productVersions.indexOf(ver.value);
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (c < 0 || r.cats.indexOf(c) >= 0) && (v < 0 || r.pvs.indexOf(v) >= 0);
      for (var t = 0; ok && t < terms.length; t++) ok = r.text.indexOf(terms[t]) >= 0;
      if (r.el.hidden === ok) r.el.hidden = !ok; // touch the DOM only on change
      if (ok) shown++;
    }
    count.textContent = shown === rows.length ? plural(shown) : shown + " of " + plural(rows.length);
    empty.hidden = shown > 0;
    save();
  }

  // The filters live in the query string, so a filtered list can be linked
  // to and survives going back from a package page.
  function save() {
    var params = new URLSearchParams();
    if (q.value) params.set("q", q.value);
    if (cat.value) params.set("category", cat.value);
    if (ver && ver.value) params.set("version", ver.value);
    var s = params.toString();
    try {
      history.replaceState(null, "", s ? "?" + s : location.pathname);
    } catch (err) {
      // file:// pages may not rewrite their address; the filters still work.
    }
  }

  function restore() {
    var params = new URLSearchParams(location.search);
    q.value = params.get("q") || "";
    select(cat, params.get("category"));
    if (ver) select(ver, params.get("version"));
  }

  function select(el, value) {
    for (var i = 0; i < el.options.length; i++) {
      if (el.options[i].value === value) {
        el.value = value;
        return;
      }
    }
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      apply();
    });
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    apply();
  });
  form.addEventListener("reset", function () {
    setTimeout(apply, 0); // after the fields are reset
  });
  document.getElementById("clear").addEventListener("click", function () {
    form.reset();
    q.focus();
  });
  if (location.search) restore();
  form.hidden = false;
  apply();
})();
