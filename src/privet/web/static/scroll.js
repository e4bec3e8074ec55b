/* Privet pages: a table wider than its box scrolls inside it (privet.css). A box that scrolls and holds nothing a
   keyboard can reach becomes a named, focusable region, so it can be scrolled with the arrow keys too; it stops being
   one when it fits again (the window was widened). */
(function (d) {
  "use strict";
  var REACHABLE = "a[href],button,input,select,textarea,summary,[tabindex]";
  function heading(box) {
    var table = box.querySelector("table"), caption = table && table.caption;
    if (caption) return caption.textContent.trim();
    for (var el = box; el && el.tagName !== "MAIN"; el = el.parentElement) {
      for (var h = el.previousElementSibling; h; h = h.previousElementSibling) {
        if (/^H[1-6]$/.test(h.tagName)) return h.textContent.trim();
      }
    }
    return d.title;
  }
  function mark() {
    d.querySelectorAll("main table").forEach(function (table) {
      var box = table.parentElement, ours = box.hasAttribute("data-scroll-box");
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !ours && !box.querySelector(REACHABLE)) {
        box.setAttribute("data-scroll-box", "");
        box.tabIndex = 0;
        if (!box.hasAttribute("aria-labelledby") && !box.hasAttribute("aria-label")) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", heading(box));
          box.setAttribute("data-scroll-named", "");
        }
      } else if (!scrolls && ours) {
        box.removeAttribute("data-scroll-box");
        box.removeAttribute("tabindex");
        if (box.hasAttribute("data-scroll-named")) {
          ["role", "aria-label", "data-scroll-named"].forEach(function (a) { box.removeAttribute(a); });
        }
      }
    });
  }
  var pending;
  mark();
  window.addEventListener("resize", function () { clearTimeout(pending); pending = setTimeout(mark, 100); });
})(document);
