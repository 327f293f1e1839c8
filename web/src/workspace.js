import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call, settledFile, uploadFile } from "./api.js";
import { TaskBuilder } from "./builder.js";
import { TaskList } from "./tasks.js";
import { formatBytes } from "./format.js";

let nextKey = 0;

function ChosenFile({ item }) {
  const percent = Math.round(item.progress * 100);
  let state = `uploading, ${percent}%`;
  if (item.error) state = `rejected: ${item.error}`;
  else if (item.file?.status === "ready") state = "ready";
  else if (item.file && item.uploaded) state = "checking…";
  return html`
    <li class=${item.error ? "chosen rejected" : "chosen"}>
      <span class="name">${item.name}</span>
      <span class="muted">${formatBytes(item.size)}${item.presigned ? ", straight to storage" : ""}</span>
      <progress max="100" value=${item.error ? 0 : percent} aria-label=${`Upload of ${item.name}`}></progress>
      <span class="state">${state}</span>
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
        <label for="images">Images</label>
        <input
          id="images"
          type="file"
          multiple
          accept="image/*,.heic,.heif,.jxl,.psd,.ico,.cur,video/*"
          onChange=${(event) => {
            add(event.currentTarget.files);
            event.currentTarget.value = "";
          }}
        />
        <p class="muted">or drop files here. JPEG, PNG, APNG, WebP, GIF, AVIF, HEIC, TIFF, JPEG XL, BMP, ICO and PSD images, and MP4, MOV, WebM, MKV or AVI video.</p>
      </div>
      ${chosen.length > 0 && html`<ul class="chosen-list" aria-label="Chosen files">${chosen.map((item) => html`<${ChosenFile} key=${item.key} item=${item} />`)}</ul>`}
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

  const usable = chosen.filter((item) => item.file && !item.error);
  const started = () => {
    setChosen((items) => items.filter((item) => !item.file && !item.error));
    setRefreshTasks((n) => n + 1);
  };

  return html`
    <div class="columns">
      <div class="column">
        <${Uploader} chosen=${chosen} setChosen=${setChosen} />
        <${TaskBuilder} files=${usable} presets=${presets} models=${models} onStarted=${started} />
      </div>
      <div class="column wide">
        <${TaskList} refresh=${refreshTasks} />
      </div>
    </div>
  `;
}
