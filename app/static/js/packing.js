// Pack screen: the scan field empties as soon as its scan is sent (htmx has read the value by
// then), so a scanner's next code can be typed while the last one is on its way; queued
// scans go in order (hx-sync) and the field keeps the focus (it is never swapped).
document.addEventListener("htmx:beforeRequest", function (event) {
  var form = event.detail.elt;
  if (form && form.id === "scan-form") {
    form.querySelector("#scan-code").value = "";
  }
});
document.addEventListener("htmx:afterSettle", function () {
  var field = document.getElementById("scan-code");
  if (field && document.activeElement === document.body) field.focus();
});
