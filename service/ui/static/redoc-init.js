// Starts ReDoc on /redoc from a file, not an inline script (see the page's CSP).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("redoc");
  Redoc.init(node.getAttribute("data-openapi-url"),
             { disableSearch: true, hideDownloadButton: false }, node);
});
