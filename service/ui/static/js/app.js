// Picks the page from the path and the key's role: staff and viewer keys get the
// dashboard, an integration key its own company's cascade view (and only that, so none of
// its page's calls is one the key may not make). The shell, the key handling and the API
// calls are shared; a page is one entry here and one module.
import { apiKey, forgetKey, Problem, takeKeyFromFragment, whoAmI } from "./api.js";
import { problemBox, render } from "./dom.js";

const DASHBOARD = [
  { path: /^\/ui\/?$/, module: "./overview.js" },
  { path: /^\/ui\/requests\/([^/]+)\/?$/, module: "./request.js" },
  { path: /^\/ui\/requests\/([^/]+)\/picture\/?$/, module: "./picture.js" },
  { path: /^\/ui\/requests\/([^/]+)\/companies\/([^/]+)\/cascade\/?$/, module: "./view.js" },
  { path: /^\/ui\/incidents\/([^/]+)\/?$/, module: "./incident.js" },
];
// An integration key: its view of every request sent to it, or of one request.
const SUPPLIER = [
  { path: /^\/ui\/?$/, module: "./view.js" },
  { path: /^\/ui\/requests\/([^/]+)(?:\/companies\/[^/]+\/cascade)?\/?$/, module: "./view.js" },
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
  try {
    await showPage(await whoAmI());
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

async function showPage(me) {
  const path = window.location.pathname;
  const page = (me.role === "integration" ? SUPPLIER : DASHBOARD).find((p) => p.path.test(path));
  if (!page) {
    const only = me.role === "integration" ? "; this key reads its own cascade view only" : "";
    throw new Problem(404, "Not found", `no page at ${path}${only}`);
  }
  const params = page.path.exec(path).slice(1).filter(Boolean).map(decodeURIComponent);
  await (await import(page.module)).show(...params);
}

// A #key= link opened in a tab already showing a page changes only the fragment.
window.addEventListener("hashchange", () => {
  if (window.location.hash.startsWith("#key=")) {
    takeKeyFromFragment();
    window.location.reload();
  }
});

start();
