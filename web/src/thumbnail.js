import { useState } from "preact/hooks";
import { html } from "htm/preact";

// A small picture of a file of the caller's, any format (GET /files/{id}/preview renders HEIC,
// TIFF or a video's poster frame as something the browser shows). When there is none (a guest's
// HEIC has no preview), the format's name stands in.
export function Thumbnail({ fileId, format, size = 160, alt = "" }) {
  const [failed, setFailed] = useState(false);
  if (!fileId || failed) {
    return html`<span class="thumb placeholder" role=${alt ? "img" : undefined} aria-label=${alt || undefined} aria-hidden=${alt ? undefined : "true"}>${format || "?"}</span>`;
  }
  return html`<img class="thumb" src=${previewUrl(fileId, size)} alt=${alt} loading="lazy" decoding="async" onError=${() => setFailed(true)} />`;
}

export function previewUrl(fileId, size) {
  return `/files/${fileId}/preview?size=${size}`;
}
