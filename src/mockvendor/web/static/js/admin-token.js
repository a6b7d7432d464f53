// The admin token (MOCKVENDOR_ADMIN_TOKEN), when the server is started with one: the
// admin API and the request log then answer 401 without it. The token is kept in this
// tab's sessionStorage (never in a cookie, a URL or the page) and sent as a header with
// the pages' own admin calls; closing the tab forgets it.

const KEY = "mockvendor-admin-token";
export const ADMIN_HEADER = "x-mockvendor-admin-token";

function stored() {
  try { return sessionStorage.getItem(KEY) || ""; } catch { return ""; }
}

/** Headers for a call to /admin: the token, if one was given in this tab. */
export function adminHeaders() {
  const token = stored();
  return token ? { [ADMIN_HEADER]: token } : {};
}

/** Whether a URL is one of the server's admin routes (the only ones that get the token). */
export function isAdminUrl(url) {
  const path = new URL(url, location.href);
  return path.origin === location.origin && (path.pathname === "/admin" || path.pathname.startsWith("/admin/"));
}

/**
 * After a 401 from /admin: a small form in the page's header bar asks for the token
 * (once per page); submitting keeps it for this tab and reloads the page.
 */
export function askAdminToken() {
  if (document.getElementById("admin-token")) return;
  const wrong = Boolean(stored());
  const form = document.createElement("form");
  form.id = "admin-token";
  form.className = "admin-token";
  form.setAttribute("aria-label", "Admin token");
  const label = document.createElement("label");
  label.htmlFor = "admin-token-input";
  label.textContent = wrong ? "Admin token not accepted; try again:" : "This server needs its admin token:";
  const input = document.createElement("input");
  Object.assign(input, { id: "admin-token-input", type: "password", autocomplete: "off", required: true,
    placeholder: "MOCKVENDOR_ADMIN_TOKEN" });
  const button = document.createElement("button");
  button.type = "submit";
  button.textContent = "Unlock";
  form.append(label, input, button);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    try { sessionStorage.setItem(KEY, input.value.trim()); } catch { /* storage off: nothing to keep */ }
    location.reload();
  });
  (document.querySelector("header.top") || document.body).append(form);
  input.focus();
}
