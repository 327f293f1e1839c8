import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";
import { SignIn, Account } from "./auth.js";
import { Workspace } from "./workspace.js";
import "./style.css";

function App() {
  // undefined while asking the server who is signed in; null when nobody is.
  const [session, setSession] = useState(undefined);

  const refresh = () =>
    call("GET", "/auth/session")
      .then(setSession)
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
  return html`
    <header class="bar">
      <h1>imgtasks</h1>
      <${Account} session=${session} onChanged=${refresh} onSignedOut=${() => setSession(null)} />
    </header>
    <main><${Workspace} /></main>
  `;
}

render(html`<${App} />`, document.getElementById("root"));
