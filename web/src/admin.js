import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";

// The operators' page (#/admin): GET /admin/stats drawn, asked again every 5 s while shown.
const REFRESH_MS = 5000;

function age(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function ms(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value)} ms`;
}

function Totals({ tasks }) {
  const sum = (status, window) =>
    tasks.filter((row) => row.status === status).reduce((total, row) => total + row[window], 0);
  const figures = [
    ["created", "Created"],
    ["done", "Done"],
    ["failed", "Failed"],
    ["cancelled", "Cancelled"],
  ];
  return html`
    <div class="figures">
      ${figures.map(
        ([status, label]) => html`
          <div class=${`figure figure-${status}`}>
            <span class="figure-label">${label}</span>
            <span class="figure-value">${sum(status, "last_hour")}</span>
            <span class="muted">last hour · ${sum(status, "last_day")} today</span>
          </div>
        `,
      )}
    </div>
  `;
}

function Throughput({ points }) {
  const most = Math.max(1, ...points.map((point) => point.done + point.failed));
  const width = 600;
  const height = 140;
  const bar = width / points.length;
  const done = points.reduce((total, point) => total + point.done, 0);
  const failed = points.reduce((total, point) => total + point.failed, 0);
  return html`
    <figure class="chart">
      <svg viewBox=${`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label=${`Tasks per minute over the last hour: ${done} done, ${failed} failed; at most ${most} in a minute`}>
        <line x1="0" x2=${width} y1=${height - 0.5} y2=${height - 0.5} class="axis" />
        ${points.map((point, index) => {
          const doneHeight = (point.done / most) * (height - 4);
          const failedHeight = (point.failed / most) * (height - 4);
          return html`
            <g>
              <title>${point.minute.slice(11, 16)}: ${point.done} done, ${point.failed} failed</title>
              <rect x=${index * bar + 1} width=${bar - 2} y=${height - doneHeight} height=${doneHeight} class="bar-done" />
              <rect x=${index * bar + 1} width=${bar - 2} y=${height - doneHeight - failedHeight} height=${failedHeight} class="bar-failed" />
            </g>
          `;
        })}
      </svg>
      <div class="chart-axis muted">
        <span>${points[0]?.minute.slice(11, 16)}</span>
        <span>${done + failed ? `peak ${most} a minute` : "no task ended in the last hour"}</span>
        <span>${points[points.length - 1]?.minute.slice(11, 16)} UTC</span>
      </div>
      <figcaption><span class="key key-done"></span> done <span class="key key-failed"></span> failed, per minute</figcaption>
    </figure>
  `;
}

function Queues({ queues, onRedrive, busy }) {
  return html`
    <div class="table-wrap" tabindex="0" role="region" aria-label="Queues">
      <table>
        <caption class="visually-hidden">Queues</caption>
        <thead>
          <tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">In flight</th><th scope="col">Oldest</th><th scope="col">Dead letters</th><th scope="col"><span class="visually-hidden">Redrive</span></th></tr>
        </thead>
        <tbody>
          ${queues.map(
            (queue) => html`
              <tr>
                <th scope="row">${queue.name}</th>
                <td>${queue.visible}</td>
                <td>${queue.in_flight}</td>
                <td>${age(queue.oldest_age_seconds)}</td>
                <td class=${queue.dead_letter.visible ? "error" : ""}>${queue.dead_letter.visible}</td>
                <td>
                  <button type="button" class="secondary small" disabled=${!queue.dead_letter.visible || busy === queue.name}
                    onClick=${() => onRedrive(queue.name)} aria-label=${`Redrive the dead letters of ${queue.name}`}>Redrive</button>
                </td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </div>
  `;
}

function Functions({ functions }) {
  return html`
    <div class="table-wrap" tabindex="0" role="region" aria-label="Functions, last hour">
      <table>
        <caption class="visually-hidden">Functions, last hour</caption>
        <thead>
          <tr><th scope="col">Function</th><th scope="col">Invocations</th><th scope="col">Errors</th><th scope="col">p50</th><th scope="col">p95</th></tr>
        </thead>
        <tbody>
          ${functions.map(
            (fn) => html`
              <tr>
                <th scope="row" title=${fn.function_name}>${fn.name}</th>
                <td>${fn.invocations}</td>
                <td class=${fn.errors ? "error" : ""}>${fn.errors}</td>
                <td>${ms(fn.duration_p50_ms)}</td>
                <td>${ms(fn.duration_p95_ms)}</td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </div>
  `;
}

export function AdminPage() {
  const [stats, setStats] = useState(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState("");

  const load = async () => {
    try {
      setStats(await call("GET", "/admin/stats"));
      setError("");
    } catch (failure) {
      setError(failure.message);
    }
  };
  useEffect(() => {
    load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const redrive = async (name) => {
    setBusy(name);
    try {
      const moved = await call("POST", `/admin/dead-letters/${name}/redrive`);
      setNotice(`${moved.messages} message${moved.messages === 1 ? "" : "s"} of ${name} sent back to their queue.`);
      await load();
    } catch (failure) {
      setNotice(failure.message);
    } finally {
      setBusy("");
    }
  };

  if (!stats) {
    return html`<section class="card" aria-busy=${!error}>${error ? html`<p class="error" role="alert">${error}</p>` : html`<p>Loading…</p>`}</section>`;
  }
  return html`
    <section class="admin" aria-labelledby="admin-title">
      <div class="inline spread">
        <h2 id="admin-title">Operations</h2>
        <span class="muted" aria-live="polite">updated ${new Date(stats.generated_at).toLocaleTimeString()}</span>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${notice && html`<p role="status">${notice}</p>`}
      <${Totals} tasks=${stats.tasks} />
      <div class="card"><h3>Throughput</h3><${Throughput} points=${stats.throughput} /></div>
      <div class="admin-grid">
        <div class="card"><h3>Queues</h3><${Queues} queues=${stats.queues} onRedrive=${redrive} busy=${busy} /></div>
        <div class="card"><h3>Functions, last hour</h3><${Functions} functions=${stats.functions} /></div>
      </div>
      <div class="admin-grid">
        <div class="card">
          <h3>Top failure codes, last day</h3>
          ${stats.failure_codes.length === 0
            ? html`<p class="muted">No failures.</p>`
            : html`<ol class="codes">${stats.failure_codes.map((item) => html`<li><code>${item.code}</code> <span class="muted">${item.count}</span></li>`)}</ol>`}
        </div>
        <div class="card">
          <h3>Tasks by status and type</h3>
          ${stats.tasks.length === 0 && html`<p class="muted">No task in the last day.</p>`}
          <div class="table-wrap" tabindex="0" role="region" aria-label="Tasks by status and type">
            <table>
              <thead><tr><th scope="col">Status</th><th scope="col">Type</th><th scope="col">Last hour</th><th scope="col">Last day</th></tr></thead>
              <tbody>
                ${stats.tasks.map((row) => html`<tr><td>${row.status}</td><td>${row.type}</td><td>${row.last_hour}</td><td>${row.last_day}</td></tr>`)}
              </tbody>
            </table>
          </div>
        </div>
      </div>
    </section>
  `;
}
