// Picks the page from the path. A new page (incidents, a supplier's own view) is one more
// entry here and one module: the shell, the key handling and the API calls are shared.
import { apiKey, forgetKey, Problem, takeKeyFromFragment } from "./api.js";
import { problemBox, render } from "./dom.js";

const PAGES = [
  { path: /^\/ui\/?$/, module: "./overview.js" },
  { path: /^\/ui\/requests\/([^/]+)\/?$/, module: "./request.js" },
  { path: /^\/ui\/requests\/([^/]+)\/picture\/?$/, module: "./picture.js" },
  // to come with their APIs: /ui/incidents/{id} (incident.js), /ui/view (supplier view)
];

async function start() {
  takeKeyFromFragment();
  const signOut = document.getElementById("sign-out");
  signOut.addEventListener("click", () => { forgetKey(); window.location.assign("/ui/"); });
  if (!apiKey()) {
    (await import("./signin.js")).show();
    return;
  }
  signOut.hidden = false;
  const path = window.location.pathname;
  const page = PAGES.find((p) => p.path.test(path));
  if (!page) {
    render(problemBox(new Problem(404, "Not found", `no page at ${path}`)));
    return;
  }
  const params = page.path.exec(path).slice(1).map(decodeURIComponent);
  try {
    await (await import(page.module)).show(...params);
  } catch (error) {
    if (error instanceof Problem && error.status === 401) {
      forgetKey();  // refused or expired: ask again, saying why
      signOut.hidden = true;
      (await import("./signin.js")).show(error);
      return;
    }
    render(problemBox(error));
  } finally {
    document.body.dataset.ready = "true";  // the browser tests wait for this
    performance.mark("cascade-ready");  // time to interactive, read by benchmarks/ui_paint.py
  }
}

// A #key= link opened in a tab already showing a page changes only the fragment.
window.addEventListener("hashchange", () => {
  if (window.location.hash.startsWith("#key=")) {
    takeKeyFromFragment();
    window.location.reload();
  }
});

start();
