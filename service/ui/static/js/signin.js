// Asks for an API key; a refused one comes back here with the problem's title and detail.
import { saveKey } from "./api.js";
import { h, problemBox, render } from "./dom.js";

export function show(problem = null) {
  const input = h("input", { id: "api-key", type: "password", name: "key", required: true,
                             autocomplete: "off", spellcheck: "false", size: 60 });
  const form = h("form", { class: "signin", onsubmit: (event) => {
    event.preventDefault();
    saveKey(input.value.trim());
    window.location.reload();
  } },
    h("label", { for: "api-key" }, "API key"), input,
    h("button", { type: "submit", id: "sign-in" }, "Sign in"));
  render(h("h1", {}, "Sign in"),
    h("p", {}, "Paste an API key (csk_…). It is kept in this tab only and sent to the API, ",
      "never stored in a cookie."),
    problem ? problemBox(problem) : null, form);
  document.body.dataset.ready = "true";
  input.focus();
}
