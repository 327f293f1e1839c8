import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";
import { formatDuration } from "./format.js";
import { useLongPolls, usePushChannel } from "./live.js";
import { ResultView } from "./result.js";
import { Thumbnail } from "./thumbnail.js";

const STATUSES = ["", "queued", "running", "done", "failed", "cancelled"];
const TYPES = ["", "process", "infer", "archive"];
const FORMATS = ["", "jpeg", "png", "webp", "avif", "gif", "apng", "tiff", "jxl", "mp4", "webm", "zip"];
const ORDERS = [
  ["-created_at", "newest first"],
  ["created_at", "oldest first"],
  ["-updated_at", "recently changed"],
  ["updated_at", "least recently changed"],
  ["status", "status A–Z"],
  ["-status", "status Z–A"],
];
const PAGE_SIZE = 10;
// A filter's choices as [value, label]: the empty value is "any".
const anyOr = (item) => [item, item || "any"];
const ACTIVE = new Set(["queued", "running"]);

// File names by id, and archived tasks' names by task id: asked for once each.
const fileNames = new Map();
const taskNames = new Map();

async function fileName(fileId) {
  if (!fileNames.has(fileId)) {
    fileNames.set(
      fileId,
      call("GET", `/files/${fileId}`)
        .then((file) => file.filename)
        .catch(() => "(deleted file)"),
    );
  }
  return fileNames.get(fileId);
}

async function taskName(taskId) {
  if (!taskNames.has(taskId)) {
    taskNames.set(
      taskId,
      call("GET", `/tasks/${taskId}`)
        .then((task) => (task.file_id ? fileName(task.file_id) : "a ZIP"))
        .catch(() => "(deleted task)"),
    );
  }
  return taskNames.get(taskId);
}

function useNames(ids, lookup) {
  const key = ids.join(",");
  const [names, setNames] = useState([]);
  useEffect(() => {
    let current = true;
    Promise.all(ids.map(lookup)).then((found) => current && setNames(found));
    return () => {
      current = false;
    };
  }, [key]);
  return names;
}

// An output (or the ZIP) as an attachment, named after the input; an inference's result as JSON.
function downloadUrl(task) {
  return task.type === "infer" ? `/tasks/${task.id}/result` : `/tasks/${task.id}/download?attachment=true`;
}

function TaskPictures({ task }) {
  if (task.type === "archive") return html`<div class="task-pics"><span class="thumb placeholder" aria-hidden="true">zip</span></div>`;
  // The source once its bytes are in (a presigned upload's task may wait for them), the first output.
  const output = task.result?.outputs?.[0];
  return html`<div class="task-pics">
    ${task.waiting_for
      ? html`<span class="thumb placeholder" aria-hidden="true">…</span>`
      : html`<${Thumbnail} fileId=${task.file_id} format=${task.result?.source?.format} thumbhash=${task.result?.source?.thumbhash} />`}
    ${output && html`<span class="arrow" aria-hidden="true">→</span><${Thumbnail} fileId=${output.file_id} format=${output.format} thumbhash=${output.thumbhash} />`}
  </div>`;
}

function TaskRow({ task, selected, onSelect, onOpen, onChanged }) {
  const [name] = useNames(task.file_id ? [task.file_id] : [], fileName);
  const archived = useNames(task.type === "archive" ? task.spec.task_ids : [], taskName);
  const title = task.type === "archive" ? `ZIP of ${task.spec.task_ids.length} tasks` : name || "…";
  const act = async (method, path) => {
    try {
      await call(method, path);
    } finally {
      onChanged();
    }
  };
  return html`
    <li class=${`task ${task.status}`} aria-label=${`${task.type} task ${title}`}>
      <${TaskPictures} task=${task} />
      <div class="task-body">
        <div class="task-head">
          ${task.type !== "archive" &&
          html`<label class="select-task">
            <input type="checkbox" checked=${selected} onChange=${(e) => onSelect(e.currentTarget.checked)} />
            <span class="visually-hidden">Select ${title}</span>
          </label>`}
          <span class="name">${title}</span>
          <span class="type">${task.type}</span>
          <span class=${`status status-${task.status}`}>${task.status}</span>
        </div>
        ${task.type === "archive" && archived.length > 0 && html`<p class="archived muted">${archived.join(" · ")}</p>`}
        <progress max="100" value=${task.progress} aria-label=${`Progress of ${title}`}></progress>
        <div class="task-meta muted">
          ${task.duration_ms != null && html`<span>took ${formatDuration(task.duration_ms)}</span>`}
          <span>${new Date(task.created_at).toLocaleTimeString()}</span>
        </div>
        ${task.error && html`<p class="error">${task.error.message}</p>`}
        <div class="task-actions">
          ${task.status === "done" && task.type !== "archive" && html`<button type="button" class="secondary small" onClick=${(event) => onOpen(event.currentTarget)}>View</button>`}
          ${task.status === "done" && html`<a class="button small" href=${downloadUrl(task)} download=${task.type === "infer" ? `${title.replace(/\.[^.]*$/, "")}-detections.json` : ""}>Download</a>`}
          ${ACTIVE.has(task.status) && html`<button type="button" class="secondary small" onClick=${() => act("POST", `/tasks/${task.id}/cancel`)}>Cancel</button>`}
          ${(task.status === "failed" || task.status === "cancelled") &&
          html`<button type="button" class="secondary small" onClick=${() => act("POST", `/tasks/${task.id}/restart`)}>Restart</button>`}
          <button type="button" class="secondary small danger" onClick=${() => act("DELETE", `/tasks/${task.id}`)}>Delete</button>
        </div>
      </div>
    </li>
  `;
}

export function TaskList({ refresh }) {
  const [status, setStatus] = useState("");
  const [type, setType] = useState("");
  const [format, setFormat] = useState("");
  const [order, setOrder] = useState("-created_at");
  const [cursors, setCursors] = useState([null]); // the cursor of each page seen, for going back
  const [page, setPage] = useState({ items: [], next_cursor: null, total: 0, pages: 0 });
  const [selected, setSelected] = useState(new Set());
  const [open, setOpen] = useState(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  const reloadTimer = useRef(null);
  const settleTimer = useRef(null);
  const latest = useRef(0);

  const cursor = cursors[cursors.length - 1];
  const load = async () => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), order });
    if (status) query.set("status", status);
    if (type) query.set("type", type);
    if (format) query.set("format", format);
    if (cursor) query.set("cursor", cursor);
    // Only the latest request's answer is shown: an earlier one (other filters) may come later.
    const asked = ++latest.current;
    try {
      const answer = await call("GET", `/tasks?${query}`);
      if (asked !== latest.current) return;
      setPage(answer);
      setError("");
    } catch (failure) {
      if (asked === latest.current) setError(failure.message);
    }
  };

  useEffect(() => {
    load();
  }, [status, type, format, order, cursor, refresh, tick]);

  // A change of a task on this page is shown in place (progress, outputs as they appear); one
  // that may move the page (a task made, deleted, or that changed status) reloads it, at most
  // every half second.
  // The totals are counters the change stream moves a moment after the change itself: once the
  // changes stop, one more reload a few seconds later shows them settled.
  const reloadSoon = () => {
    clearTimeout(reloadTimer.current);
    clearTimeout(settleTimer.current);
    reloadTimer.current = setTimeout(() => setTick((n) => n + 1), 500);
    settleTimer.current = setTimeout(() => setTick((n) => n + 1), 4000);
  };
  const changedLive = (message) => {
    if (message.type !== "task") return;
    const task = message.data;
    setPage((shown) => {
      const before = shown.items.find((item) => item.id === task.id);
      if (message.change !== "updated" || !before || before.status !== task.status) reloadSoon();
      if (!before || message.change === "deleted") return shown;
      // A pushed task carries no `waiting_for` (the change stream does not read the file): while it
      // is still queued it waits for what the list said, so no preview is asked of a pending file.
      const shownTask = task.status === "queued" && before.waiting_for ? { ...task, waiting_for: before.waiting_for } : task;
      return { ...shown, items: shown.items.map((item) => (item.id === task.id ? shownTask : item)) };
    });
  };
  // Changes made between the page's last read and the channel's opening were pushed to nobody:
  // the page is read again each time the channel opens.
  const mode = usePushChannel(changedLive, () => setTick((n) => n + 1));
  useLongPolls(page.items, mode === "long-poll", changedLive);
  useEffect(
    () => () => {
      clearTimeout(reloadTimer.current);
      clearTimeout(settleTimer.current);
    },
    [],
  );

  const changed = () => setTick((n) => n + 1);
  const toggle = (id, on) =>
    setSelected((all) => {
      const next = new Set(all);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const archive = async () => {
    try {
      await call("POST", "/archives", { json: { task_ids: [...selected] } });
      setSelected(new Set());
      changed();
    } catch (failure) {
      setError(failure.message);
    }
  };
  const filter = (setter) => (event) => {
    setter(event.currentTarget.value);
    setCursors([null]);
  };

  return html`
    <section class="card" aria-labelledby="tasks-title">
      <h2 id="tasks-title">3. Tasks</h2>
      <div class="filters">
        ${[
          ["filter-status", "Status", status, setStatus, STATUSES.map(anyOr)],
          ["filter-type", "Type", type, setType, TYPES.map(anyOr)],
          ["filter-format", "Format", format, setFormat, FORMATS.map(anyOr)],
          ["order", "Order", order, setOrder, ORDERS],
        ].map(
          ([id, label, value, setter, options]) => html`<div class="filter" key=${id}>
            <label for=${id}>${label}</label>
            <select id=${id} value=${value} onChange=${filter(setter)}>
              ${options.map(([optionValue, optionLabel]) => html`<option value=${optionValue}>${optionLabel}</option>`)}
            </select>
          </div>`,
        )}
      </div>
      <button type="button" class="secondary zip" disabled=${selected.size === 0} onClick=${archive}>
        Download ${selected.size || ""} as ZIP
      </button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${page.items.length === 0
        ? html`<p class="muted">No tasks${status || type || format ? " with these filters" : " yet"}.</p>`
        : html`<ul class="task-list" aria-label="Task list">
            ${page.items.map(
              (task) => html`<${TaskRow}
                key=${task.id}
                task=${task}
                selected=${selected.has(task.id)}
                onSelect=${(on) => toggle(task.id, on)}
                onOpen=${(opener) => setOpen({ task, opener })}
                onChanged=${changed}
              />`,
            )}
          </ul>`}
      <nav class="inline pager" aria-label="Pages of tasks">
        <button type="button" class="secondary" disabled=${cursors.length === 1} onClick=${() => setCursors((all) => all.slice(0, -1))}>
          Previous page
        </button>
        <span class="muted" aria-live="polite">
          Page ${cursors.length} of ${Math.max(page.pages, cursors.length + (page.next_cursor ? 1 : 0))} · ${page.total} task${page.total === 1 ? "" : "s"}
        </span>
        <span class=${`live ${mode}`} title=${mode === "push" ? "Changes are pushed as they happen" : "Following running tasks by long-poll"}>
          ${mode === "push" ? "● live" : mode === "long-poll" ? "● live (long-poll)" : "○ connecting"}
        </span>
        <button type="button" class="secondary" disabled=${!page.next_cursor} onClick=${() => setCursors((all) => [...all, page.next_cursor])}>
          Next page
        </button>
      </nav>
    </section>
    ${open &&
    html`<${ResultView}
      task=${open.task}
      onClose=${() => {
        setOpen(null);
        open.opener?.focus(); // back where the person was
      }}
    />`}
  `;
}
