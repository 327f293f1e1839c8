import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call, settledFile, uploadFile } from "./api.js";
import { TaskBuilder } from "./builder.js";
import { TaskList } from "./tasks.js";
import { formatBytes } from "./format.js";
import { Thumbnail } from "./thumbnail.js";

let nextKey = 0;

// Pictures a browser shows straight from the picked file, before the service has it.
const SHOWN_AS_PICKED = new Set(["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"]);

function ChosenFile({ item, onRemove }) {
  // A picked file that says it is a JPEG may not be one (it is then rejected): no broken picture.
  const [unreadable, setUnreadable] = useState(false);
  const percent = Math.round(item.progress * 100);
  let state = `uploading, ${percent}%`;
  if (item.error) state = `rejected: ${item.error}`;
  else if (item.file?.status === "ready") state = "ready";
  else if (item.file && item.uploaded) state = "checking…";
  const ready = item.file?.status === "ready" && !item.error;
  return html`
    <li class=${item.error ? "chosen rejected" : "chosen"}>
      ${ready
        ? html`<${Thumbnail} fileId=${item.file.id} format=${item.file.format} size=${160} />`
        : item.pickedUrl && !item.error && !unreadable
          ? html`<img class="thumb" src=${item.pickedUrl} alt="" onError=${() => setUnreadable(true)} />`
          : html`<span class="thumb placeholder" aria-hidden="true">${item.name.split(".").pop()}</span>`}
      <div class="chosen-text">
        <span class="name">${item.name}</span>
        <span class="muted">${formatBytes(item.size)}${item.presigned ? ", straight to storage" : ""}</span>
        ${!ready && !item.error && html`<progress max="100" value=${percent} aria-label=${`Upload of ${item.name}`}></progress>`}
        <span class="state">${state}</span>
      </div>
      <button type="button" class="icon secondary" onClick=${onRemove} aria-label=${`Remove ${item.name}`} title="Remove from the tray">×</button>
    </li>
  `;
}

function Uploader({ chosen, setChosen }) {
  const [dragging, setDragging] = useState(false);

  const update = (key, changes) =>
    setChosen((items) => items.map((item) => (item.key === key ? { ...item, ...changes } : item)));

  const add = (files) => {
    const added = Array.from(files).map((file) => ({
      key: nextKey++,
      name: file.name,
      size: file.size,
      progress: 0,
      blob: file,
      pickedUrl: SHOWN_AS_PICKED.has(file.type) ? URL.createObjectURL(file) : null,
    }));
    setChosen((items) => [...items, ...added]);
    for (const item of added) {
      uploadFile(item.blob, (progress) => update(item.key, { progress }))
        .then(async ({ file, presigned }) => {
          update(item.key, { file, presigned, progress: 1, uploaded: true });
          const settled = file.status === "pending" ? await settledFile(file.id) : file;
          update(item.key, { file: settled, error: settled.status === "rejected" ? settled.error : null });
        })
        .catch((error) => update(item.key, { error: error.message }));
    }
  };
  const remove = (key) =>
    setChosen((items) => {
      const gone = items.find((item) => item.key === key);
      if (gone?.pickedUrl) URL.revokeObjectURL(gone.pickedUrl);
      return items.filter((item) => item.key !== key);
    });

  return html`
    <section class="card" aria-labelledby="upload-title">
      <h2 id="upload-title">1. Add files</h2>
      <div
        class=${dragging ? "dropzone dragging" : "dropzone"}
        onDragOver=${(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave=${() => setDragging(false)}
        onDrop=${(event) => {
          event.preventDefault();
          setDragging(false);
          add(event.dataTransfer.files);
        }}
      >
        <label for="files">Files</label>
        <input
          id="files"
          type="file"
          multiple
          accept="image/*,.heic,.heif,.jxl,.psd,.ico,.cur,video/*"
          onChange=${(event) => {
            add(event.currentTarget.files);
            event.currentTarget.value = "";
          }}
        />
        <p class="muted">Pick them, or drop files here. JPEG, PNG, APNG, WebP, GIF, AVIF, HEIC, TIFF, JPEG XL, BMP, ICO and PSD images, and MP4, MOV, WebM, MKV or AVI video.</p>
      </div>
      ${chosen.length > 0 &&
      html`<div class="inline spread tray-head">
          <h3 id="tray-title">Ready files</h3>
          <button type="button" class="secondary small" onClick=${() => chosen.forEach((item) => remove(item.key))}>Clear all</button>
        </div>
        <p class="muted tray-hint">They stay here after Start: run more tasks on the same files.</p>
        <ul class="chosen-list" aria-labelledby="tray-title">
          ${chosen.map((item) => html`<${ChosenFile} key=${item.key} item=${item} onRemove=${() => remove(item.key)} />`)}
        </ul>`}
    </section>
  `;
}

export function Workspace() {
  const [chosen, setChosen] = useState([]);
  const [refreshTasks, setRefreshTasks] = useState(0);
  const [models, setModels] = useState({ detection_models: [], classification_models: [] });
  const [presets, setPresets] = useState([]);

  useEffect(() => {
    call("GET", "/models").then(setModels).catch(() => {});
    call("GET", "/presets").then((answer) => setPresets(answer.presets)).catch(() => {});
  }, []);

  // A presigned upload still being inspected counts: its tasks wait for it.
  const usable = chosen.filter((item) => item.file && !item.error);

  return html`
    <div class="columns">
      <div class="column">
        <${Uploader} chosen=${chosen} setChosen=${setChosen} />
        <${TaskBuilder} files=${usable} presets=${presets} models=${models} onStarted=${() => setRefreshTasks((n) => n + 1)} />
      </div>
      <div class="column wide">
        <${TaskList} refresh=${refreshTasks} />
      </div>
    </div>
  `;
}
