// Stockroom's few behaviours htmx doesn't cover: toasts, the carrier -> tracking URL fill,
// select all on a page, and one submission per plain (non-htmx) form.
(function () {
  "use strict";

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "success");
    toast.textContent = message;  // text, never HTML
    region.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 5000);
  }

  // HX-Trigger: {"showToast": {"message": "...", "level": "success"}}
  document.body.addEventListener("showToast", function (event) {
    if (document.body.hasAttribute("data-embedded") && window.shopify) return;  // embedded.js
    showToast(event.detail.message, event.detail.level);
  });

  // A choice made before htmx was ready for it (a slow connection, a quick hand; a boosted
  // page's content is processed just after it is swapped in) is sent once it is, not lost.
  // htmx:load fires for the page and for each swapped-in part, after htmx processed it.
  document.addEventListener("htmx:load", function (event) {
    var root = event.target;
    var selects = root.querySelectorAll ? root.querySelectorAll("form[hx-trigger^='change'] select") : [];
    Array.prototype.forEach.call(selects, function (select) {
      var initial = Array.prototype.filter.call(select.options, function (option) {
        return option.defaultSelected;
      })[0] || select.options[0];
      if (initial && select.value !== initial.value) {
        select.dispatchEvent(new Event("change", {bubbles: true}));
      }
    });
  });

  // Polaris Select shows the chosen option's text in its own box (the native select is
  // transparent over it, so keyboard and screen readers use the real control).
  function showSelected(select) {
    var shown = select.parentNode.querySelector(".Polaris-Select__SelectedOption");
    var option = select.options[select.selectedIndex];
    if (shown) shown.textContent = option ? option.text : "";
  }
  function showAllSelected(root) {
    var selects = root.querySelectorAll ? root.querySelectorAll(".Polaris-Select__Input") : [];
    Array.prototype.forEach.call(selects, showSelected);
  }
  showAllSelected(document);
  document.addEventListener("htmx:load", function (event) { showAllSelected(event.target); });
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("Polaris-Select__Input")) {
      showSelected(event.target);
    }
  });
  document.addEventListener("reset", function (event) {
    setTimeout(function () { showAllSelected(event.target); }, 0);
  });

  // Flashed messages rendered with the page fade out like toasts.
  document.querySelectorAll("#toasts .toast").forEach(function (toast) {
    setTimeout(function () { toast.remove(); }, 6000);
  });

  // The tracking URL follows the carrier's pattern until the merchant edits it by hand.
  function fillTrackingUrl(form) {
    var carrier = form.querySelector("[data-carrier-select]");
    var number = form.querySelector("[data-tracking-number]");
    var url = form.querySelector("[data-tracking-url]");
    if (!carrier || !number || !url || url.dataset.edited === "true") return;
    var option = carrier.options[carrier.selectedIndex];
    var pattern = option ? option.getAttribute("data-url-pattern") : "";
    var value = number.value.trim();
    url.value = pattern && value ? pattern.replace("{number}", encodeURIComponent(value)) : "";
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.matches("[data-tracking-url]")) {
      target.dataset.edited = target.value ? "true" : "false";
    } else if (target.matches("[data-tracking-number]") && target.form) {
      fillTrackingUrl(target.form);
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-carrier-select]") && event.target.form) {
      fillTrackingUrl(event.target.form);
    }
  });

  // The fulfill form re-renders its location options when quantities change; a choice
  // made while that request was in flight must survive the swap.
  // (Back/forward restores a page from htmx's history cache and fires these swap events
  // with no detail.target: they are not a fulfill-form swap.)
  var pendingLocation = null;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "fulfill-locations") return;
    var checked = event.detail.target.querySelector("input[name='location_id']:checked");
    pendingLocation = checked ? checked.value : null;
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "fulfill-locations" || pendingLocation === null) return;
    var radio = document.querySelector("#fulfill-locations input[name='location_id'][value='" + CSS.escape(pendingLocation) + "']");
    if (radio) radio.checked = true;
    pendingLocation = null;
  });

  // Don't refresh the orders list under the merchant's selection.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.id === "order-rows" && elt.querySelector("input[name='order_id']:checked")) {
      event.preventDefault();
    }
  });

  // A bulk action finished: drop the selection so the list can refresh.
  document.body.addEventListener("ordersChanged", function () {
    document.querySelectorAll("#order-rows input[name='order_id']:checked").forEach(function (box) {
      box.checked = false;
    });
  });

  // "Select all on this page": a header checkbox ticks every row checkbox of its table.
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches("[data-select-all]")) return;
    var table = all.closest("table");
    if (!table) return;
    table.querySelectorAll("input[type='checkbox'][name='" + CSS.escape(all.getAttribute("data-select-all")) + "']").forEach(function (box) {
      if (!box.disabled) box.checked = all.checked;
    });
  });

  // A plain form (no hx-post, no hx-boost: htmx did not take the submit over) is sent once:
  // its buttons disable after this submit has been sent (the clicked button's name still
  // goes with it). htmx forms use hx-disabled-elt instead.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.submitting === "true") { event.preventDefault(); return; }
    form.dataset.submitting = "true";
    setTimeout(function () {
      form.querySelectorAll("button[type='submit'], button:not([type])").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });
  // Back/forward cache: the page comes back as it was left, with its buttons disabled.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("button[disabled]").forEach(function (button) { button.disabled = false; });
    });
  });

  // After a swap, move focus to the first invalid field so keyboard and screen-reader
  // users land on the error.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target) return;  // a history restore
    var invalid = event.detail.target.querySelector("[aria-invalid='true']");
    if (invalid && event.detail.xhr && event.detail.xhr.status >= 400) invalid.focus();
  });
  // Print views: the Print button (no inline script: allowEval is off).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
