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

  // htmx:configRequest is synchronous, so a stale token is refreshed before the request
  // starts: htmx:confirm fires first for every request and may hold it (issueRequest).
  document.addEventListener("htmx:confirm", function (event) {
    if (isFresh()) return;
    event.preventDefault();
    refresh().then(function () { event.detail.issueRequest(false); });
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
