// Embedded in Shopify admin: every htmx request carries a fresh session token
// (Authorization: Bearer …) from App Bridge's shopify.idToken(), and toasts go through
// App Bridge. htmx uses XMLHttpRequest, which App Bridge's fetch() wrapper never sees.
(function () {
  "use strict";
  if (!window.shopify || !document.body.hasAttribute("data-embedded")) return;

  var MAX_AGE_MS = 30000;  // session tokens live 60 s; never send one older than half that
  var token = new URLSearchParams(window.location.search).get("id_token");
  var fetchedAt = token ? Date.now() : 0;
  var pending = null;

  function refresh() {
    if (!pending) {
      pending = window.shopify.idToken().then(function (fresh) {
        token = fresh;
        fetchedAt = Date.now();
        pending = null;
        return fresh;
      }, function (error) {
        pending = null;
        throw error;
      });
    }
    return pending;
  }

  function isFresh() {
    return token && Date.now() - fetchedAt < MAX_AGE_MS;
  }

  refresh();
  setInterval(refresh, MAX_AGE_MS / 2);

  // An hx-confirm question goes to the admin's modal (ui-modal #confirm-modal in base.html,
  // shown with shopify.modal.show), not the browser's confirm(): true once its primary
  // button is pressed, false for the other one or when the merchant closes it.
  function ask(question, elt) {
    var modal = document.getElementById("confirm-modal");
    if (!modal || !window.shopify.modal) return null;
    var source = elt.closest("[data-confirm-title]") || elt;
    var ok = modal.querySelector("#confirm-modal-ok");
    var back = modal.querySelector("#confirm-modal-cancel");
    modal.querySelector("#confirm-modal-text").textContent = question;
    modal.querySelector("ui-title-bar").setAttribute(
      "title", source.getAttribute("data-confirm-title") || "Are you sure?");
    ok.textContent = source.getAttribute("data-confirm-button") || "Confirm";
    return new Promise(function (resolve) {
      var settled = false;
      function done(answer) {
        if (settled) return;
        settled = true;
        ok.onclick = back.onclick = null;
        modal.removeEventListener("hide", closed);
        resolve(answer);
      }
      function closed() { done(false); }
      ok.onclick = function () { done(true); window.shopify.modal.hide("confirm-modal"); };
      back.onclick = function () { done(false); window.shopify.modal.hide("confirm-modal"); };
      modal.addEventListener("hide", closed);
      window.shopify.modal.show("confirm-modal");
    });
  }

  // htmx:confirm fires first for every request and may hold it (issueRequest): the
  // question is asked in the admin's modal, and then, htmx:configRequest being
  // synchronous, a stale token is refreshed before the request starts.
  document.addEventListener("htmx:confirm", function (event) {
    var question = event.detail.question;
    if (!question && isFresh()) return;
    event.preventDefault();
    var answer = question ? ask(question, event.detail.elt) : Promise.resolve(true);
    var skipConfirm = answer !== null;  // no modal to ask in: htmx asks with confirm()
    (answer || Promise.resolve(true)).then(function (yes) {
      if (!yes) return;
      (isFresh() ? Promise.resolve() : refresh()).then(function () {
        event.detail.issueRequest(skipConfirm);
      });
    });
  });

  document.addEventListener("htmx:configRequest", function (event) {
    if (token) event.detail.headers["Authorization"] = "Bearer " + token;
  });

  // The admin's loading bar (shopify.loading) while htmx requests run; the lists' polls
  // (hx-trigger "every ...") run unseen. The request's own end counts, even when the
  // element that sent it was swapped out.
  var running = 0;
  document.addEventListener("htmx:beforeSend", function (event) {
    var elt = event.detail.elt, xhr = event.detail.xhr;
    if (!xhr || (elt.getAttribute("hx-trigger") || "").indexOf("every") !== -1) return;
    if (running++ === 0) window.shopify.loading(true);
    xhr.addEventListener("loadend", function () {
      if (--running === 0) window.shopify.loading(false);
    });
  });

  document.body.addEventListener("showToast", function (event) {
    window.shopify.toast.show(event.detail.message, {isError: event.detail.level === "error"});
  });
})();
