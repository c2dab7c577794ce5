// tcplab HTML report: language switch, connection selector and details.
// It reads the page's own JSON (#data) and touches nothing outside the page.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var root = document.documentElement;
  var lang = data.lang;
  var picked = null;

  function label(key) {
    var l = data.labels[lang] || {};
    return l[key] || key;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setLang(l) {
    lang = l;
    root.setAttribute("data-lang", l);
    root.setAttribute("lang", l === "zh" ? "zh-CN" : "en");
    document.querySelectorAll("[data-set-lang]").forEach(function (b) {
      b.classList.toggle("on", b.getAttribute("data-set-lang") === l);
    });
    document.querySelectorAll("option[data-" + l + "]").forEach(function (o) {
      o.textContent = o.getAttribute("data-" + l);
    });
    if (picked !== null) show(picked);
  }

  function filter() {
    var c = document.getElementById("conn").value;
    document.querySelectorAll("[data-c]").forEach(function (e) {
      var v = e.getAttribute("data-c");
      e.classList.toggle("hidden", c !== "0" && v !== "0" && v !== c);
    });
  }

  function show(i) {
    var d = data.details[i];
    if (!d) return;
    picked = i;
    var li = lang === "zh" ? 1 : 0;
    var body = document.getElementById("detail-body");
    body.textContent = "";
    body.appendChild(el("h3", "", d.title[li]));
    var tb = el("table");
    (d.f || []).forEach(function (f) {
      var tr = el("tr");
      tr.appendChild(el("td", "", label(f[0])));
      tr.appendChild(el("td", "", f[1]));
      tb.appendChild(tr);
    });
    if (d.k === "segment") {
      var tr = el("tr");
      tr.appendChild(el("td", "", label("ws")));
      var td = el("td", "ws");
      if (d.ws && d.ws.length) {
        d.ws.forEach(function (w) { td.appendChild(el("span", "", w)); });
      } else {
        td.textContent = label("none");
      }
      tr.appendChild(td);
      tb.appendChild(tr);
    }
    body.appendChild(tb);
    if (d.n[li]) {
      body.appendChild(el("h3", "", label("notes")));
      body.appendChild(el("p", "notes", d.n[li]));
    }
  }

  function pick(target, pin) {
    var g = target.closest ? target.closest("[data-i]") : null;
    if (!g) return;
    if (pin) {
      document.querySelectorAll(".picked").forEach(function (p) { p.classList.remove("picked"); });
      g.classList.add("picked");
    }
    show(Number(g.getAttribute("data-i")));
  }

  document.querySelectorAll("[data-set-lang]").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.getAttribute("data-set-lang")); });
  });
  document.getElementById("conn").addEventListener("change", filter);
  var ladder = document.getElementById("ladder");
  if (ladder) {
    ladder.addEventListener("click", function (e) { pick(e.target, true); });
    ladder.addEventListener("mouseover", function (e) {
      if (!document.querySelector(".picked")) pick(e.target, false);
    });
  }
  setLang(lang);
})();
