import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";
import { formatBytes } from "./format.js";

const VIDEO_FORMATS = new Set(["mp4", "webm", "mov", "mkv", "avi"]);

function Media({ src, format, alt }) {
  if (VIDEO_FORMATS.has(format)) return html`<video src=${src} controls muted aria-label=${alt}></video>`;
  return html`<img src=${src} alt=${alt} />`;
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
          </figcaption>
        </figure>
        ${result.outputs.map(
          (output) => html`<figure key=${output.name}>
            <${Media} src=${output.url} format=${output.format} alt=${`Output ${output.name}`} />
            <figcaption>
              <strong>${output.name}</strong>${`: ${output.format}, ${output.width}×${output.height}, ${formatBytes(output.size)}`}${output.frames > 1 ? `, ${output.frames} frames` : ""}
              <a href=${`/tasks/${task.id}/download?variant=${encodeURIComponent(output.name)}&attachment=true`} download aria-label=${`Download ${output.name}`}>Download</a>
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
