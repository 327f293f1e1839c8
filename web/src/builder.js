import { useState } from "preact/hooks";
import { html } from "htm/preact";

import { call } from "./api.js";

// Each operation the engine has, with the fields a person sets and their starting values.
const OPERATIONS = {
  resize: { label: "Resize", fields: { width: 800, height: 600, fit: "inside", gravity: "center" } },
  crop: { label: "Crop", fields: { left: 0, top: 0, width: 400, height: 300 } },
  rotate: { label: "Rotate", fields: { angle: 90 } },
  flip: { label: "Flip", fields: { orientation: "horizontal" } },
  grayscale: { label: "Grayscale", fields: {} },
  blur: { label: "Blur", fields: { radius: 2 } },
  sharpen: { label: "Sharpen", fields: { radius: 2, percent: 150 } },
  frames: { label: "Frames (animations and video)", fields: { start: 0, end: 3, fps: 15, speed: 1, reverse: false, boomerang: false } },
  overlay: { label: "Watermark text",
    fields: { text: "© imgtasks", font_size: 0.05, color: "#ffffff", opacity: 0.8, gravity: "south-east", tile: false },
    choices: { gravity: ["center", "north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"] },
  },
};
const GRAVITIES = ["center", "north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west", "entropy", "attention", "face"];
const CHOICES = {
  fit: ["inside", "cover", "contain", "fill"],
  orientation: ["horizontal", "vertical"],
  gravity: GRAVITIES,
};
const FORMATS = ["", "jpeg", "png", "apng", "webp", "gif", "avif", "tiff", "jxl", "mp4", "webm"];

let nextId = 0;

function Field({ id, name, value, choices, onChange }) {
  const label = (name.charAt(0).toUpperCase() + name.slice(1)).replace("_", " ");
  const options = choices?.[name] || CHOICES[name];
  if (options) {
    return html`<label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
        ${options.map((choice) => html`<option value=${choice}>${choice}</option>`)}
      </select>`;
  }
  if (typeof value === "boolean") {
    return html`<label class="check"><input id=${id} type="checkbox" checked=${value} onChange=${(e) => onChange(e.currentTarget.checked)} /> ${label}</label>`;
  }
  if (typeof value === "string") {
    const kind = name === "color" ? "color" : "text";
    return html`<label for=${id}>${label}</label>
      <input id=${id} type=${kind} value=${value} maxlength="200" onInput=${(e) => onChange(e.currentTarget.value)} />`;
  }
  return html`<label for=${id}>${label}</label>
    <input id=${id} type="number" step="any" value=${value} onInput=${(e) => onChange(Number(e.currentTarget.value))} />`;
}

function Operation({ operation, index, onChange, onRemove }) {
  const { label, choices } = OPERATIONS[operation.op];
  return html`
    <fieldset class="operation">
      <legend>${index + 1}. ${label}</legend>
      <div class="fields">
        ${Object.entries(operation.fields).map(
          ([name, value]) => html`<div class="field">
            <${Field}
              id=${`op-${operation.id}-${name}`}
              name=${name}
              value=${value}
              choices=${choices}
              onChange=${(changed) => onChange({ ...operation, fields: { ...operation.fields, [name]: changed } })}
            />
          </div>`,
        )}
      </div>
      <button type="button" class="secondary small" onClick=${onRemove} aria-label=${`Remove ${label} (step ${index + 1})`}>Remove</button>
    </fieldset>
  `;
}

function customSpec(operations, format, quality, variants) {
  const output = {};
  if (format) output.format = format;
  if (quality) output.quality = quality;
  const spec = {
    operations: operations.map(({ op, fields }) => {
      // gravity chooses the window of a cover resize only
      const { gravity: _gravity, ...rest } = fields;
      return op === "resize" && rest.fit !== "cover" ? { op, ...rest } : { op, ...fields };
    }),
  };
  if (Object.keys(output).length) spec.output = output;
  const named = variants.filter((variant) => variant.name);
  if (named.length) {
    spec.variants = named.map((variant) => ({
      name: variant.name,
      operations: variant.width ? [{ op: "resize", width: variant.width }] : [],
      ...(variant.format ? { output: { format: variant.format } } : {}),
    }));
  }
  return spec;
}

// A model per radio button, its whole description beside it (a select's options are cut short).
function ModelChoice({ legend, name, models, chosen, onChoose }) {
  return html`<fieldset class="models">
    <legend>${legend}</legend>
    ${models.map(
      (model) => html`<label class="model" key=${model.id}>
        <input type="radio" name=${name} value=${model.id} checked=${chosen === model.id} onChange=${() => onChoose(model.id)} />
        <span><strong>${model.name}</strong><span class="muted">${model.description}</span></span>
      </label>`,
    )}
  </fieldset>`;
}

export function TaskBuilder({ files, presets, models, onStarted }) {
  const [kind, setKind] = useState("process");
  const [preset, setPreset] = useState("web");
  const [operations, setOperations] = useState([]);
  const [adding, setAdding] = useState("resize");
  const [format, setFormat] = useState("");
  const [quality, setQuality] = useState(85);
  const [variants, setVariants] = useState([]);
  const [detection, setDetection] = useState("");
  const [classification, setClassification] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [started, setStarted] = useState(0);

  const detectionId = detection || models.detection_models[0]?.id || "";
  const classificationId = classification || models.classification_models[0]?.id || "";

  const start = async () => {
    setError("");
    setBusy(true);
    const file_ids = files.map((item) => item.file.id);
    let body;
    if (kind === "infer") {
      body = { type: "infer", file_ids };
      if (detectionId) body.detection_model = detectionId;
      if (classificationId) body.classification_model = classificationId;
    } else if (preset === "custom") {
      body = { type: "process", file_ids, ...customSpec(operations, format, quality, variants) };
    } else {
      body = { type: "process", file_ids, preset };
    }
    try {
      const made = await call("POST", "/tasks", { json: body });
      setStarted(made.tasks.length);
      onStarted();
    } catch (failure) {
      const details = failure.problem?.errors?.map((entry) => `${(entry.loc || []).slice(1).join(".")}: ${entry.msg}`);
      setError(details?.length ? `${failure.message} (${details.join("; ")})` : failure.message);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <section class="card" aria-labelledby="task-title">
      <h2 id="task-title">2. Choose what to do</h2>
      <fieldset class="kind">
        <legend>Task</legend>
        <label class="check"><input type="radio" name="kind" value="process" checked=${kind === "process"} onChange=${() => setKind("process")} /> Transform</label>
        <label class="check"><input type="radio" name="kind" value="infer" checked=${kind === "infer"} onChange=${() => setKind("infer")} /> Recognise (detection and scene)</label>
      </fieldset>
      ${kind === "process"
        ? html`
            <label for="preset">Preset</label>
            <select id="preset" aria-describedby="preset-description" value=${preset} onChange=${(e) => setPreset(e.currentTarget.value)}>
              ${presets.map((item) => html`<option value=${item.name}>${item.name}</option>`)}
              <option value="custom">custom</option>
            </select>
            <p class="muted preset-description" id="preset-description">
              ${preset === "custom" ? "Build the operations yourself." : presets.find((item) => item.name === preset)?.description}
            </p>
            ${preset === "custom" &&
            html`
              <div class="custom">
                ${operations.map(
                  (operation, index) => html`<${Operation}
                    key=${operation.id}
                    operation=${operation}
                    index=${index}
                    onChange=${(changed) => setOperations((all) => all.map((o) => (o.id === changed.id ? changed : o)))}
                    onRemove=${() => setOperations((all) => all.filter((o) => o.id !== operation.id))}
                  />`,
                )}
                <div class="inline">
                  <label for="add-operation">Operation</label>
                  <select id="add-operation" value=${adding} onChange=${(e) => setAdding(e.currentTarget.value)}>
                    ${Object.entries(OPERATIONS).map(([op, { label }]) => html`<option value=${op}>${label}</option>`)}
                  </select>
                  <button
                    type="button"
                    class="secondary"
                    onClick=${() => setOperations((all) => [...all, { id: nextId++, op: adding, fields: { ...OPERATIONS[adding].fields } }])}
                  >
                    Add operation
                  </button>
                </div>
                <div class="inline">
                  <label for="format">Output format</label>
                  <select id="format" value=${format} onChange=${(e) => setFormat(e.currentTarget.value)}>
                    ${FORMATS.map((item) => html`<option value=${item}>${item || "same as the input"}</option>`)}
                  </select>
                  <label for="quality">Quality</label>
                  <input id="quality" type="number" min="1" max="100" value=${quality === "auto" ? 85 : quality} disabled=${quality === "auto"} onInput=${(e) => setQuality(Number(e.currentTarget.value))} />
                  <label class="check" title="The smallest quality that keeps the picture's look (SSIM 0.96), per picture">
                    <input type="checkbox" checked=${quality === "auto"} onChange=${(e) => setQuality(e.currentTarget.checked ? "auto" : 85)} /> Auto
                  </label>
                </div>
                <fieldset>
                  <legend>Variants (more outputs from the same task)</legend>
                  ${variants.map(
                    (variant, index) => html`<div class="inline" key=${variant.id}>
                      <label for=${`variant-name-${variant.id}`}>Name</label>
                      <input id=${`variant-name-${variant.id}`} value=${variant.name} onInput=${(e) => setVariants((all) => all.map((v) => (v.id === variant.id ? { ...v, name: e.currentTarget.value } : v)))} />
                      <label for=${`variant-width-${variant.id}`}>Width</label>
                      <input id=${`variant-width-${variant.id}`} type="number" min="1" value=${variant.width} onInput=${(e) => setVariants((all) => all.map((v) => (v.id === variant.id ? { ...v, width: Number(e.currentTarget.value) } : v)))} />
                      <label for=${`variant-format-${variant.id}`}>Format</label>
                      <select id=${`variant-format-${variant.id}`} value=${variant.format} onChange=${(e) => setVariants((all) => all.map((v) => (v.id === variant.id ? { ...v, format: e.currentTarget.value } : v)))}>
                        ${FORMATS.map((item) => html`<option value=${item}>${item || "as the task"}</option>`)}
                      </select>
                      <button type="button" class="secondary small" aria-label=${`Remove variant ${index + 1}`} onClick=${() => setVariants((all) => all.filter((v) => v.id !== variant.id))}>Remove</button>
                    </div>`,
                  )}
                  <button type="button" class="secondary" onClick=${() => setVariants((all) => [...all, { id: nextId++, name: `v${all.length + 1}`, width: 256, format: "" }])}>
                    Add variant
                  </button>
                </fieldset>
              </div>
            `}
          `
        : html`
            <${ModelChoice} legend="Detection model" name="detection-model" models=${models.detection_models} chosen=${detectionId} onChoose=${setDetection} />
            <${ModelChoice} legend="Scene model" name="classification-model" models=${models.classification_models} chosen=${classificationId} onChoose=${setClassification} />
          `}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="actions">
        <button type="button" disabled=${busy || files.length === 0} onClick=${start}>Start</button>
        <span class="muted" aria-live="polite">${files.length} file${files.length === 1 ? "" : "s"} ready</span>
      </div>
      ${started > 0 &&
      html`<p class="started" role="status">
        Started ${started} task${started === 1 ? "" : "s"}: <a href="#tasks-title" onClick=${(event) => {
          event.preventDefault();
          document.getElementById("tasks-title")?.scrollIntoView({ behavior: "smooth" });
        }}>follow them in Tasks</a>.
      </p>`}
    </section>
  `;
}
