import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";
import { SignIn, Account } from "./auth.js";
import { AdminPage } from "./admin.js";
import { Workspace } from "./workspace.js";
import "./style.css";

// The page the address's fragment names: #/admin for the operators' page, else the workspace.
function usePage() {
  const [page, setPage] = useState(location.hash);
  useEffect(() => {
    const changed = () => setPage(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return page === "#/admin" ? "admin" : "workspace";
}

function App() {
  // undefined while asking the server who is signed in; null when nobody is.
  const [session, setSession] = useState(undefined);
  const page = usePage();

  // GET /auth/state answers 200 signed in or not: a page that asks on load logs no 401.
  const refresh = () =>
    call("GET", "/auth/state")
      .then((state) => setSession(state.signed_in ? state.session : null))
      .catch(() => setSession(null));

  useEffect(() => {
    refresh();
  }, []);

  if (session === undefined) return html`<main class="loading" aria-busy="true"><p>Loading…</p></main>`;
  if (session === null) {
    return html`
      <header class="bar"><h1>imgtasks</h1></header>
      <main><${SignIn} onSignedIn=${refresh} /></main>
    `;
  }
  const showAdmin = page === "admin" && session.admin;
  return html`
    <header class="bar">
      <h1>imgtasks</h1>
      ${session.admin &&
      html`<nav aria-label="Pages">
        ${showAdmin ? html`<a class="nav-link" href="#/">Workspace</a>` : html`<a class="nav-link" href="#/admin">Operations</a>`}
      </nav>`}
      <${Account} session=${session} onChanged=${refresh} onSignedOut=${() => setSession(null)} />
    </header>
    <main>
      ${page === "admin" && !session.admin
        ? html`<p class="card error" role="alert">The operations page is for the operators named in the stack's AdminUsernames.</p>`
        : showAdmin
          ? html`<${AdminPage} />`
          : html`<${Workspace} />`}
    </main>
  `;
}

render(html`<${App} />`, document.getElementById("root"));
