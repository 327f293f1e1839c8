import { useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";

function Message({ error }) {
  return error ? html`<p class="error" role="alert">${error}</p>` : null;
}

export function SignIn({ onSignedIn }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const attempt = async (work) => {
    setBusy(true);
    setError("");
    try {
      await work();
      onSignedIn();
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  };
  const signIn = () => call("POST", "/auth/session", { form: { username, password } });
  const signUp = async () => {
    await call("POST", "/auth/register", { json: { username, password } });
    await signIn();
  };

  return html`
    <section class="card narrow" aria-labelledby="sign-in-title">
      <h2 id="sign-in-title">Sign in to imgtasks</h2>
      <p>Resize, convert and recognise images and videos; follow each task and download the results.</p>
      <form
        onSubmit=${(event) => {
          event.preventDefault();
          attempt(signIn);
        }}
      >
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          value=${username}
          onInput=${(event) => setUsername(event.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value=${password}
          onInput=${(event) => setPassword(event.currentTarget.value)}
        />
        <${Message} error=${error} />
        <div class="actions">
          <button type="submit" disabled=${busy}>Sign in</button>
          <button type="button" class="secondary" disabled=${busy} onClick=${() => attempt(signUp)}>Sign up</button>
        </div>
      </form>
      <hr />
      <p>Just trying it? A guest account keeps your work for a few days; keep it by choosing a username later.</p>
      <button type="button" class="secondary" disabled=${busy} onClick=${() => attempt(() => call("POST", "/auth/guest"))}>
        Continue as guest
      </button>
    </section>
  `;
}

function Claim({ onChanged }) {
  const [open, setOpen] = useState(false);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  if (!open) {
    return html`<button type="button" class="secondary" onClick=${() => setOpen(true)}>Keep this account</button>`;
  }
  const submit = async (event) => {
    event.preventDefault();
    setError("");
    try {
      await call("POST", "/auth/claim", { json: { username, password } });
      setOpen(false);
      onChanged();
    } catch (failure) {
      setError(failure.message);
    }
  };
  return html`
    <form class="claim" onSubmit=${submit} aria-label="Keep this account">
      <label for="claim-username">New username</label>
      <input id="claim-username" autocomplete="username" required value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} />
      <label for="claim-password">New password</label>
      <input
        id="claim-password"
        type="password"
        autocomplete="new-password"
        required
        minlength="8"
        value=${password}
        onInput=${(e) => setPassword(e.currentTarget.value)}
      />
      <button type="submit">Keep account</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>Not now</button>
      <${Message} error=${error} />
    </form>
  `;
}

export function Account({ session, onChanged, onSignedOut }) {
  const signOut = async () => {
    await call("DELETE", "/auth/session");
    onSignedOut();
  };
  const until = session.expires_at ? new Date(session.expires_at).toLocaleDateString() : null;
  return html`
    <div class="account">
      ${session.guest
        ? html`<span>Guest: your work is kept until ${until}.</span><${Claim} onChanged=${onChanged} />`
        : html`<span>Signed in as <strong>${session.username}</strong></span>`}
      <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
    </div>
  `;
}
