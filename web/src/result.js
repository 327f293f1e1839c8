import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";
import { formatBytes } from "./format.js";

const VIDEO_FORMATS = new Set(["mp4", "webm", "mov", "mkv", "avi"]);

function Media({ src, format, alt }) {
  if (VIDEO_FORMATS.has(format)) return html`<video src=${src} controls muted aria-label=${alt}></video>`;
  return html`<img src=${src} alt=${alt} />`;
}

// Render URL options people reach for (docs/api-v1.md, Render URLs); any other can be typed.
const LINK_OPTIONS = [
  ["", "the file as it is"],
  ["f:auto", "the best format the browser takes"],
  ["rs:fit:800:600/f:auto", "fit inside 800×600"],
  ["rs:cover:256:256/g:attention/f:auto", "a 256 px square, smart crop"],
  ["p:thumbnail-512", "the thumbnail-512 preset"],
];

// A render URL of one file, with the options chosen: signed by the service (a browser holds no
// signing secret), shown, and put on the clipboard.
function CopyLink({ fileId, name }) {
  const [options, setOptions] = useState("");
  const [link, setLink] = useState(null);
  const [error, setError] = useState(null);
  const listId = `link-options-${fileId}`;

  async function copy() {
    setError(null);
    try {
      const made = await call("POST", "/render-urls", { json: { file_id: fileId, options: options.trim() } });
      setLink(made.url);
      await navigator.clipboard?.writeText(made.url).catch(() => undefined);
    } catch (failed) {
      setLink(null);
      setError(failed.message);
    }
  }

  return html`<div class="copy-link">
    <label>
      Link options
      <input
        list=${listId}
        value=${options}
        placeholder="rs:fit:800:600/f:auto"
        aria-label=${`Link options for ${name}`}
        onInput=${(event) => setOptions(event.currentTarget.value)}
      />
    </label>
    <datalist id=${listId}>
      ${LINK_OPTIONS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
    </datalist>
    <button type="button" class="secondary" onClick=${copy} aria-label=${`Copy link to ${name}`}>Copy link</button>
    ${link &&
    html`<input class="link" readonly value=${link} aria-label=${`Link to ${name}`} onFocus=${(event) => event.currentTarget.select()} />`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}

function Detections({ src, alt, width, height, detections }) {
  // An oriented box: centre, size and rotation (0-1 of a turn, clockwise) in 0-1 of the image.
  return html`
    <figure class="detections">
      <div class="overlay">
        <img src=${src} alt=${alt} />
        <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${`${detections.length} detections`}>
          ${detections.map((box, index) => {
            const cx = box.x * width;
            const cy = box.y * height;
            const w = box.width * width;
            const h = box.height * height;
            const label = `${box.label} ${Math.round(box.probability * 100)}%`;
            return html`<g key=${index} transform=${`rotate(${box.rotation * 360} ${cx} ${cy})`}>
              <rect x=${cx - w / 2} y=${cy - h / 2} width=${w} height=${h} class="box" />
              <text x=${cx - w / 2} y=${cy - h / 2 - 4} class="box-label">${label}</text>
            </g>`;
          })}
        </svg>
      </div>
      <figcaption>
        <ul class="detection-list" aria-label="Detections">
          ${detections.map((box) => html`<li>${box.label}: ${Math.round(box.probability * 100)}%</li>`)}
        </ul>
      </figcaption>
    </figure>
  `;
}

export function ResultView({ task, onClose }) {
  const [full, setFull] = useState(null);
  const [file, setFile] = useState(null);
  const heading = useRef(null);

  useEffect(() => {
    call("GET", `/tasks/${task.id}`).then(setFull);
    if (task.file_id) call("GET", `/files/${task.file_id}`).then(setFile).catch(() => setFile(null));
  }, [task.id]);
  useEffect(() => {
    heading.current?.focus();
  }, []);

  const result = full?.result;
  const source = `/files/${task.file_id}/content`;
  return html`
    <section class="card result" aria-labelledby="result-title">
      <div class="inline spread">
        <h2 id="result-title" tabindex="-1" ref=${heading}>Result: ${file?.filename || task.id}</h2>
        <button type="button" class="secondary" onClick=${onClose}>Close</button>
      </div>
      ${!result && html`<p class="muted">Loading…</p>`}
      ${result && task.type === "process" &&
      html`<div class="gallery">
        <figure>
          <${Media} src=${source} format=${result.source.format} alt=${`Source: ${file?.filename || ""}`} />
          <figcaption>
            <strong>Source</strong>${`: ${result.source.format}, ${result.source.width}×${result.source.height}, ${formatBytes(result.source.size)}`}
            <${CopyLink} fileId=${task.file_id} name="the source" />
          </figcaption>
        </figure>
        ${result.outputs.map(
          (output) => html`<figure key=${output.name}>
            <${Media} src=${output.url} format=${output.format} alt=${`Output ${output.name}`} />
            <figcaption>
              <strong>${output.name}</strong>${`: ${output.format}, ${output.width}×${output.height}, ${formatBytes(output.size)}`}${output.frames > 1 ? `, ${output.frames} frames` : ""}
              <a href=${`/tasks/${task.id}/download?variant=${encodeURIComponent(output.name)}&attachment=true`} download aria-label=${`Download ${output.name}`}>Download</a>
              <${CopyLink} fileId=${output.file_id} name=${output.name} />
            </figcaption>
          </figure>`,
        )}
      </div>`}
      ${result && task.type === "infer" && file &&
      html`<div>
        ${result.image_class &&
        html`<p class="scene">Scene: <strong>${result.image_class.label}</strong> (${Math.round(result.image_class.probability * 100)}%)</p>`}
        <${Detections}
          src=${source}
          alt=${`Detections on ${file.filename}`}
          width=${file.width}
          height=${file.height}
          detections=${result.detections}
        />
      </div>`}
    </section>
  `;
}
