import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";
import { formatBytes } from "./format.js";
import { previewUrl, Thumbnail } from "./thumbnail.js";

const VIDEO_FORMATS = new Set(["mp4", "webm", "mov", "mkv", "avi"]);

// Videos play inline, muted and looping, as animations do.
function Media({ src, format, alt }) {
  if (VIDEO_FORMATS.has(format)) return html`<video src=${src} controls muted autoplay loop playsinline aria-label=${alt}></video>`;
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

// Largest first, so a smaller box drawn over a larger one is the one a pointer finds.
function byArea(detections) {
  return detections.map((box, index) => [box, index]).sort(([a], [b]) => b.width * b.height - a.width * a.height);
}

// Boxes over the picture and their list, linked: hovering or focusing either lights up both.
function Detections({ src, alt, width, height, detections }) {
  const [active, setActive] = useState(null);
  const on = (index) => ({
    onMouseEnter: () => setActive(index),
    onMouseLeave: () => setActive(null),
    onFocus: () => setActive(index),
    onBlur: () => setActive(null),
  });
  // An oriented box: centre, size and rotation (0-1 of a turn, clockwise) in 0-1 of the image.
  return html`
    <figure class="detections">
      <div class="overlay">
        <img src=${src} alt=${alt} width=${width} height=${height} />
        <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${`${detections.length} detections`}>
          ${byArea(detections).map(([box, index]) => {
            const cx = box.x * width;
            const cy = box.y * height;
            const w = box.width * width;
            const h = box.height * height;
            const label = `${box.label} ${Math.round(box.probability * 100)}%`;
            return html`<g key=${index} class=${active === index ? "active" : ""} transform=${`rotate(${box.rotation * 360} ${cx} ${cy})`} ...${on(index)}>
              <rect x=${cx - w / 2} y=${cy - h / 2} width=${w} height=${h} class="box" />
              <text x=${cx - w / 2} y=${cy - h / 2 - 4} class="box-label">${label}</text>
            </g>${(box.keypoints || []).map(
              (point) => html`<circle key=${`${index}-${point.name}`} cx=${point.x * width} cy=${point.y * height} r=${Math.max(width, height) / 150} class="keypoint"><title>${point.name.replace("_", " ")}</title></circle>`,
            )}`;
          })}
        </svg>
      </div>
      <figcaption>
        <ul class="detection-list" aria-label="Detections">
          ${detections.map(
            (box, index) => html`<li key=${index} tabindex="0" class=${active === index ? "active" : ""} ...${on(index)}>
              ${box.label}: ${Math.round(box.probability * 100)}%
            </li>`,
          )}
        </ul>
      </figcaption>
    </figure>
  `;
}

const STILL_FORMATS = new Set(["jpeg", "png", "webp", "avif", "tiff", "jxl", "bmp"]);

function describe(item) {
  const frames = item.frames > 1 ? `, ${item.frames} frames` : "";
  return `${item.format}, ${item.width}×${item.height}, ${formatBytes(item.size)}${frames}`;
}

// Source and output at the same scale, one over the other: the slider moves the line between them.
function Compare({ source, output, name }) {
  const [split, setSplit] = useState(50);
  return html`<div class="compare-wrap">
    <div class="compare" style=${{ aspectRatio: `${output.width} / ${output.height}`, "--split": `${split}%` }}>
      <img class="after" src=${output.url} alt=${`Output ${output.name}`} />
      <img class="before" src=${source} alt=${`Source: ${name}`} />
      <span class="compare-tag left" aria-hidden="true">source</span>
      <span class="compare-tag right" aria-hidden="true">${output.name}</span>
    </div>
    <input
      type="range"
      min="0"
      max="100"
      value=${split}
      aria-label="Before and after: how much of the source shows"
      onInput=${(event) => setSplit(Number(event.currentTarget.value))}
    />
  </div>`;
}

function ProcessResult({ task, file, result }) {
  const [chosen, setChosen] = useState(result.outputs[0]?.name);
  const output = result.outputs.find((item) => item.name === chosen) || result.outputs[0];
  const name = file?.filename || "";
  const source = previewUrl(task.file_id, 1600);
  const still = output && STILL_FORMATS.has(output.format) && output.frames <= 1 && !VIDEO_FORMATS.has(result.source.format);
  return html`<div class="process-result">
    ${output &&
    (still
      ? html`<${Compare} source=${source} output=${output} name=${name} />`
      : html`<figure class="shown"><${Media} src=${output.url} format=${output.format} alt=${`Output ${output.name}`} /></figure>`)}
    ${output &&
    html`<div class="output-details">
      <p><strong>${output.name}</strong>: ${describe(output)}</p>
      ${output.auto_quality &&
      html`<p class="muted">Quality auto chose ${output.auto_quality.quality} (SSIM ${output.auto_quality.ssim.toFixed(3)}, target ${output.auto_quality.target}, ${output.auto_quality.encodes} encodes)</p>`}
      <${Swatches} colors=${output.colors} label=${`Colours of ${output.name}`} />
      <div class="inline">
        <a class="button small" href=${`/tasks/${task.id}/download?variant=${encodeURIComponent(output.name)}&attachment=true`} download aria-label=${`Download ${output.name}`}>Download</a>
      </div>
      <${CopyLink} key=${output.file_id} fileId=${output.file_id} name=${output.name} />
    </div>`}
    ${result.outputs.length > 1 &&
    html`<ul class="variants" aria-label="Variants">
      ${result.outputs.map(
        (item) => html`<li key=${item.name}>
          <button type="button" class=${item.name === output.name ? "variant chosen" : "variant"} aria-pressed=${item.name === output.name} onClick=${() => setChosen(item.name)}>
            <${Thumbnail} fileId=${item.file_id} format=${item.format} />
            <span>${item.name}</span>
            <span class="muted">${item.width}×${item.height}</span>
          </button>
        </li>`,
      )}
    </ul>`}
    <${PictureFacts} source=${result.source} />
    <details class="source-details">
      <summary>Source: ${name}, ${describe(result.source)}</summary>
      <figure>
        ${VIDEO_FORMATS.has(result.source.format)
          ? html`<${Media} src=${`/files/${task.file_id}/content`} format=${result.source.format} alt=${`Source: ${name}`} />`
          : html`<img src=${source} alt=${`Source: ${name} (preview)`} loading="lazy" />`}
      </figure>
      <${CopyLink} fileId=${task.file_id} name="the source" />
    </details>
  </div>`;
}

// Dominant colours as swatches, each with its hex and share.
function Swatches({ colors, label }) {
  if (!colors?.length) return null;
  return html`<ul class="swatches" aria-label=${label}>
    ${colors.map(
      (color) => html`<li key=${color.hex}>
        <span class="swatch" style=${{ background: color.hex }} aria-hidden="true"></span>${color.hex} ${Math.round(color.share * 100)}%
      </li>`,
    )}
  </ul>`;
}

function exposure(facts) {
  const shutter = facts.exposure_time && (facts.exposure_time < 1 ? `1/${Math.round(1 / facts.exposure_time)} s` : `${facts.exposure_time} s`);
  return [facts.f_number && `f/${facts.f_number}`, shutter, facts.iso && `ISO ${facts.iso}`, facts.focal_length && `${facts.focal_length} mm`]
    .filter(Boolean)
    .join(" · ");
}

// What the source's camera said, and its colours. The position is the owner's alone: it is never
// written into an output.
function PictureFacts({ source }) {
  const facts = source.metadata || {};
  const rows = [
    ["Camera", facts.camera],
    ["Lens", facts.lens],
    // The camera's own clock (and its offset from UTC when the file says it), as the camera wrote it.
    ["Taken", facts.taken_at?.replace("T", " ")],
    ["Exposure", exposure(facts)],
    ["Colour profile", facts.color_profile],
    ["Where", facts.gps && `${facts.gps.latitude.toFixed(5)}, ${facts.gps.longitude.toFixed(5)} (only you see this; outputs never carry it)`],
  ].filter(([, value]) => value);
  if (!rows.length && !source.colors?.length) return null;
  return html`<section class="picture-facts" aria-label="About the source">
    ${rows.length > 0 &&
    html`<dl>
      ${rows.map(([term, value]) => html`<div key=${term}><dt>${term}</dt><dd>${value}</dd></div>`)}
    </dl>`}
    <${Swatches} colors=${source.colors} label="Colours of the source" />
  </section>`;
}

// The result of a task, over the page (a modal dialog): Esc or Close shuts it, and the caller
// puts the focus back where it was.
export function ResultView({ task, onClose }) {
  const [full, setFull] = useState(null);
  const [file, setFile] = useState(null);
  const dialog = useRef(null);
  const heading = useRef(null);

  useEffect(() => {
    call("GET", `/tasks/${task.id}`).then(setFull);
    if (task.file_id) call("GET", `/files/${task.file_id}`).then(setFile).catch(() => setFile(null));
  }, [task.id]);
  useEffect(() => {
    const shown = dialog.current;
    shown.showModal();
    heading.current?.focus();
    return () => shown.open && shown.close();
  }, []);

  const result = full?.result;
  return html`
    <dialog
      class="result"
      ref=${dialog}
      aria-labelledby="result-title"
      onCancel=${(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick=${(event) => event.target === dialog.current && onClose()}
    >
      <div class="result-inner">
      <div class="result-head">
        <h2 id="result-title" tabindex="-1" ref=${heading}>Result: ${file?.filename || task.id}</h2>
        <button type="button" class="secondary" onClick=${onClose}>Close</button>
      </div>
      ${!result && html`<p class="muted">Loading…</p>`}
      ${result && task.type === "process" && html`<${ProcessResult} task=${task} file=${file} result=${result} />`}
      ${result && task.type === "infer" && file &&
      html`<div>
        ${result.image_class &&
        html`<p class="scene">Scene: <strong>${result.image_class.label}</strong> (${Math.round(result.image_class.probability * 100)}%)</p>`}
        <${Detections}
          src=${previewUrl(task.file_id, 1600)}
          alt=${`Detections on ${file.filename}`}
          width=${file.width}
          height=${file.height}
          detections=${result.detections}
        />
      </div>`}
      </div>
    </dialog>
  `;
}
