/**
 * What the app's and the scaler's status pages share (src/observe/status-page.ts,
 * src/autoscale/metrics-api/status-page.ts): the page holds no data itself and polls `GET /status`, which is guarded
 * like `/metrics`. When the endpoint requires a token, the page takes it from the address's fragment (`#token=...`,
 * never sent to the server, so it stays out of access logs) or from a form, keeps it for the tab (sessionStorage) and
 * sends it as a bearer token.
 */

/** The line that says why the last /status failed, and the token form shown when /status asked for a token. */
export const STATUS_POLLING_HTML = `<div id="error" hidden></div>
<form id="token-form" hidden><label>Bearer token for this endpoint: <input id="token" type="password" autocomplete="off"></label> <button>Use</button></form>`

/**
 * The start of a page's inline script: the helpers `$` (an element by id) and `fmt` (a whole number, "–" for none),
 * the token, and `pollStatus(render)`, which fetches /status every `?refresh=` ms (default `refreshMs`) and hands each
 * answer to `render`. The page's script ends with `pollStatus(render);`.
 */
export function statusPollingScript(refreshMs: number): string {
  return `"use strict";
const REFRESH_MS = Number(new URLSearchParams(location.search).get("refresh")) || ${refreshMs};
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) { sessionStorage.setItem("streamlane-token", fromHash); history.replaceState(null, "", location.pathname + location.search); }
const $ = (id) => document.getElementById(id);
const fmt = (n) => n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US");
function pollStatus(render) {
  async function refresh() {
    const token = sessionStorage.getItem("streamlane-token");
    try {
      const response = await fetch("/status", { headers: token ? { authorization: "Bearer " + token } : {}, cache: "no-store" });
      if (response.status === 401 || response.status === 403) { $("token-form").hidden = false; throw new Error("/status needs a token (" + response.status + ")"); }
      if (!response.ok) throw new Error("/status answered " + response.status);
      render(await response.json());
      $("error").hidden = true; $("token-form").hidden = true;
    } catch (error) {
      $("error").textContent = String(error.message ?? error); $("error").hidden = false;
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }
  $("token-form").addEventListener("submit", (event) => { event.preventDefault(); sessionStorage.setItem("streamlane-token", $("token").value); $("token").value = ""; });
  refresh();
}`
}
