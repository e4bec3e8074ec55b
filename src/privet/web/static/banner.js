/*! Privet cookie banner. Use: <script src="https://privet.example/banner.js" data-site="shop" [data-lang="zh"]>
 * Scripts marked <script type="text/plain" data-category="analytics"> run once their category is accepted.
 * Any element with data-privet-settings (or window.Privet.open()) reopens the choices. No dependencies. */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  if (!me || (w.Privet && w.Privet.version)) return;
  var BASE = new URL(me.src, location.href).origin;
  var SITE = me.getAttribute("data-site") || "default";
  var LANG = /^zh/i.test(me.getAttribute("data-lang") || d.documentElement.lang || navigator.language || "") ? "zh_CN" : "en";
  var GPC = navigator.globalPrivacyControl === true;
  var COOKIE = "privet_consent";
  var OPTIONAL = ["preferences", "analytics", "marketing"];
  var cfg, T, state = read(), host, root, wrap, dlg, panel, custom, live, chg, reopen, last, boxes = {}, stale = false;
  var api = w.Privet = { version: 1, saved: 0, open: function () { if (dlg) show(true); }, choice: function () {
    return state ? { visitor: state.id, notice: state.v, categories: copy(state.c), gpc: !!state.g } : null; } };

  function copy(c) { var o = { necessary: true }; OPTIONAL.forEach(function (k) { o[k] = !!(c && c[k]); }); return o; }
  function read() {
    var m = d.cookie.match(/(?:^|;\s*)privet_consent=([^;]*)/);
    try { var s = m && JSON.parse(decodeURIComponent(m[1])); return s && s.id && s.c ? s : null; } catch (e) { return null; }
  }
  function write(s) {
    var c = cfg.cookie || {}, dom = (c.domain || "").replace(/^\./, ""), h = location.hostname;
    var on = dom && (h === dom || h.slice(-dom.length - 1) === "." + dom);
    d.cookie = COOKIE + "=" + encodeURIComponent(JSON.stringify(s)) + "; Path=/; Max-Age=" + (c.days || 180) * 86400 +
      "; SameSite=Lax" + (on ? "; Domain=" + dom : "") + (location.protocol === "https:" ? "; Secure" : "");
  }
  function newId() {
    var a = new Uint8Array(12), s = "v-";
    crypto.getRandomValues(a);
    for (var i = 0; i < a.length; i++) s += (a[i] + 256).toString(16).slice(1);
    return s;
  }
  function allowed(cat) {
    return cat === "necessary" || !(GPC && cat === "marketing") && !!(state && !stale && state.c[cat]);
  }

  // --- what a choice does on the page ---------------------------------------------------------------------
  function activate() {
    var list = d.querySelectorAll('script[type="text/plain"][data-category]');
    for (var i = 0; i < list.length; i++) {
      var old = list[i], cats = old.getAttribute("data-category").split(/[\s,]+/).filter(Boolean);
      if (!cats.length || !cats.every(allowed)) continue;
      var s = d.createElement("script");
      for (var j = 0; j < old.attributes.length; j++) {
        var a = old.attributes[j];
        if (a.name !== "type") s.setAttribute(a.name, a.value);
      }
      if (old.getAttribute("data-type")) s.type = old.getAttribute("data-type");
      if (old.nonce) s.nonce = old.nonce;
      if (!old.hasAttribute("async")) s.async = false;  // external ones run in page order, like the originals
      if (!old.src) s.text = old.text;
      old.parentNode.replaceChild(s, old);
    }
  }
  function consentMode() {
    if (typeof w.gtag !== "function") return;
    var g = function (cat) { return allowed(cat) ? "granted" : "denied"; }, m = g("marketing");
    w.gtag("consent", "update", { ad_storage: m, ad_user_data: m, ad_personalization: m,
      analytics_storage: g("analytics"), functionality_storage: g("preferences"),
      personalization_storage: g("preferences"), security_storage: "granted" });
  }
  function apply() {
    activate();
    consentMode();
    try { d.dispatchEvent(new CustomEvent("privet:consent", { detail: api.choice() })); } catch (e) { /* old browser */ }
    if (reopen) reopen.hidden = !wrap.hidden;
  }
  function send(s) {
    fetch(BASE + "/banner/choice", { method: "POST", mode: "cors", credentials: "omit", keepalive: true,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ site: SITE, visitor_id: s.id, categories: copy(s.c), notice_version: s.v,
        language: LANG, gpc: GPC }) })
      .then(function (r) { if (r.ok) api.saved++; })["catch"](function () { /* the choice still holds here */ });
  }
  function choose(c) {
    if (GPC) c.marketing = false;
    state = { id: (state && state.id) || newId(), v: cfg.notice.version, c: copy(c), g: GPC ? 1 : 0, t: Date.now() };
    delete state.c.necessary;
    stale = false;
    write(state);
    send(state);
    hide();
    live.textContent = "";
    setTimeout(function () { live.textContent = T.saved; }, 50);  // announced again on a second save
    apply();
  }

  // --- the dialog -----------------------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;  // text only: nothing from the network becomes HTML
    return e;
  }
  function button(text, cls, fn) {
    var b = el("button", { type: "button", "class": cls || "" }, text);
    b.addEventListener("click", fn);
    return b;
  }
  function focusables() {
    return Array.prototype.filter.call(dlg.querySelectorAll("button,a[href],input:not([disabled])"),
      function (e) { return e.getClientRects().length > 0; });
  }
  function toggle(open) {
    panel.hidden = !open;
    custom.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function show(customise) {
    last = d.activeElement;
    OPTIONAL.forEach(function (k) { boxes[k].checked = !!(state && state.c[k]) && !(GPC && k === "marketing"); });
    chg.hidden = !stale;
    toggle(!!customise);
    wrap.hidden = false;
    reopen.hidden = true;
    dlg.focus();
  }
  function hide() {
    wrap.hidden = true;
    reopen.hidden = false;
    if (last === host) reopen.focus(); else if (last && last !== d.body && last.focus) last.focus();
  }
  function build() {
    var color = /^#[0-9a-f]{6}$/i.test(cfg.color) ? cfg.color : "#1d4ed8";
    host = el("div", { id: "privet-banner" });
    root = host.attachShadow({ mode: "open" });
    var css = ":host{all:initial;--c:" + color + "}" +
      ".wrap,.re{font:15px/1.5 system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;color:#1a1a1a}" +
      ".wrap{position:fixed;inset:0;z-index:2147483646;background:rgba(15,23,42,.5);display:flex;align-items:flex-end;justify-content:center}" +
      ".wrap[hidden],.re[hidden],[hidden]{display:none}" +
      ".dlg{background:#fff;width:100%;max-width:44rem;max-height:90vh;overflow:auto;box-sizing:border-box;margin:0 .5rem 1rem;padding:1.25rem 1.5rem;border-radius:.5rem;box-shadow:0 4px 24px rgba(0,0,0,.35)}" +
      ".dlg:focus{outline:none}h2{font-size:1.25rem;margin:0 0 .5rem;line-height:1.3}p{margin:0 0 .75rem}" +
      "a{color:var(--c);text-decoration:underline}" +
      ".note{border-left:4px solid var(--c);background:#f1f5f9;padding:.5rem .75rem}" +
      "fieldset{border:1px solid #94a3b8;border-radius:.375rem;margin:0 0 .75rem;padding:.25rem .75rem .5rem}" +
      "legend{font-weight:600;padding:0 .25rem}" +
      ".cat{display:flex;gap:.6rem;align-items:flex-start;padding:.45rem 0;border-top:1px solid #e2e8f0}.cat:first-of-type{border-top:0}" +
      "input{width:1.15rem;height:1.15rem;margin:.25rem 0 0;accent-color:var(--c);flex:none}" +
      "label{cursor:pointer}label b{display:block}label span,.on{color:#334155;font-size:.9em}.on{font-weight:600}" +
      ".btns{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:flex-end}" +
      "button{font:inherit;font-weight:600;cursor:pointer;border-radius:.375rem;padding:.5rem 1rem;min-height:44px;border:2px solid var(--c);background:var(--c);color:#fff}" +
      "button.sec,.re{background:#fff;color:var(--c)}" +
      ":focus-visible{outline:3px solid #0f172a;outline-offset:2px;box-shadow:0 0 0 5px #fff}" +
      ".re{position:fixed;left:1rem;bottom:1rem;z-index:2147483645;font-size:.85rem;min-height:0;padding:.35rem .75rem;box-shadow:0 2px 8px rgba(0,0,0,.25)}" +
      ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);  // constructed: allowed under a site's strict CSP, unlike a <style> element
      root.adoptedStyleSheets = [sheet];
    } catch (e) { root.appendChild(el("style", {}, css)); }

    wrap = el("div", { "class": "wrap", hidden: "" });
    dlg = el("div", { "class": "dlg", role: "dialog", "aria-modal": "true", "aria-labelledby": "pv-t",
      "aria-describedby": "pv-d", tabindex: "-1", lang: LANG === "zh_CN" ? "zh-Hans" : "en" });
    dlg.appendChild(el("h2", { id: "pv-t" }, T.title));
    chg = dlg.appendChild(el("p", { "class": "note", id: "pv-n" }, T.changed));
    var intro = dlg.appendChild(el("p", { id: "pv-d" }, T.intro + " "));
    if (/^https?:\/\//.test(cfg.privacy_url || "")) {
      intro.appendChild(el("a", { href: cfg.privacy_url, target: "_blank", rel: "noopener" }, T.policy));
    }
    if (GPC) dlg.appendChild(el("p", { "class": "note", id: "pv-g" }, T.gpc));

    panel = el("div", { id: "pv-p" });
    var set = panel.appendChild(el("fieldset", {}));
    set.appendChild(el("legend", {}, T.categories_label));
    ["necessary"].concat(OPTIONAL).forEach(function (k) {
      var row = set.appendChild(el("div", { "class": "cat" }));
      var box = row.appendChild(el("input", { type: "checkbox", id: "pv-" + k, name: k }));
      var text = T.categories[k], label = row.appendChild(el("label", { "for": "pv-" + k }));
      label.appendChild(el("b", {}, text.name));
      label.appendChild(el("span", {}, text.description));
      if (k === "necessary") {
        box.checked = box.disabled = true;
        label.appendChild(el("span", { "class": "on" }, " " + T.always_on));
      } else {
        boxes[k] = box;
        if (GPC && k === "marketing") {
          box.disabled = true;
          box.setAttribute("aria-describedby", "pv-g");
        }
      }
    });
    var save = el("div", { "class": "btns" });
    save.appendChild(button(T.save, "", function () {
      var c = {};
      OPTIONAL.forEach(function (k) { c[k] = boxes[k].checked; });
      choose(c);
    }));
    panel.appendChild(save);

    var btns = el("div", { "class": "btns" });
    btns.appendChild(button(T.reject, "", function () { choose({}); }));
    custom = btns.appendChild(button(T.customise, "sec", function () {
      toggle(panel.hidden);
      if (!panel.hidden) (focusables().filter(function (e) { return e.tagName === "INPUT"; })[0] || dlg).focus();
    }));
    custom.setAttribute("aria-controls", "pv-p");
    btns.appendChild(button(T.accept, "", function () { choose({ preferences: true, analytics: true, marketing: true }); }));
    dlg.appendChild(btns);
    dlg.appendChild(panel);
    dlg.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        if (!panel.hidden) { toggle(false); custom.focus(); } else if (state && !stale) hide();
        ev.preventDefault();
        return;
      }
      if (ev.key !== "Tab") return;
      var f = focusables(), cur = root.activeElement;
      if (ev.shiftKey && (cur === f[0] || cur === dlg)) { f[f.length - 1].focus(); ev.preventDefault(); }
      else if (!ev.shiftKey && cur === f[f.length - 1]) { f[0].focus(); ev.preventDefault(); }
    });
    wrap.appendChild(dlg);
    root.appendChild(wrap);
    reopen = root.appendChild(button(T.settings, "re", function () { show(true); }));
    reopen.hidden = true;
    live = root.appendChild(el("div", { "class": "sr", role: "status" }));
    d.body.appendChild(host);
    d.addEventListener("focusin", function (ev) {  // keep focus inside while the dialog is open
      if (!wrap.hidden && ev.target !== host) (focusables()[0] || dlg).focus();
    });
    d.addEventListener("click", function (ev) {
      var t = ev.target && ev.target.closest && ev.target.closest("[data-privet-settings]");
      if (t) { ev.preventDefault(); show(true); }
    });
  }

  function ready(fn) {
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", fn); else fn();
  }
  function start(config) {
    cfg = config;
    T = cfg.texts;
    var below = cfg.notice && cfg.notice.reprompt_below;
    stale = !!(state && below && !(state.v >= below));
    ready(function () {
      build();
      if (state && !stale && GPC && state.c.marketing) {  // GPC switched on since: the signal wins, on record
        state.c.marketing = false;
        state.g = 1;
        write(state);
        send(state);
      }
      if (state && !stale) apply(); else show(false);
      if (w.MutationObserver) {
        new MutationObserver(function () { if (state && !stale) activate(); })
          .observe(d.documentElement, { childList: true, subtree: true });
      }
    });
  }
  fetch(BASE + "/banner/config.json?site=" + encodeURIComponent(SITE) + "&lang=" + LANG, { credentials: "omit" })
    .then(function (r) { if (!r.ok) throw new Error("config " + r.status); return r.json(); })
    .then(start)["catch"](function () { if (state) ready(activate); });  // no config: keep a standing choice only
})(window, document);
