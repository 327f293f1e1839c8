import { useState } from "preact/hooks";
import { html } from "htm/preact";
import { thumbHashToDataURL } from "thumbhash";

// A small picture of a file of the caller's, any format (GET /files/{id}/preview renders HEIC,
// TIFF or a video's poster frame as something the browser shows). While it loads, the picture's
// ThumbHash (from the task's result) shows a blur of it in its place. When there is no preview (a
// guest's HEIC), the format's name stands in.
export function Thumbnail({ fileId, format, size = 160, alt = "", thumbhash = null }) {
  const [failed, setFailed] = useState(false);
  const [loaded, setLoaded] = useState(false);
  if (!fileId || failed) {
    return html`<span class="thumb placeholder" role=${alt ? "img" : undefined} aria-label=${alt || undefined} aria-hidden=${alt ? undefined : "true"}>${format || "?"}</span>`;
  }
  const blur = loaded ? null : placeholder(thumbhash);
  return html`<img
    class="thumb"
    src=${previewUrl(fileId, size)}
    alt=${alt}
    loading="lazy"
    decoding="async"
    style=${blur ? { backgroundImage: `url(${blur})`, backgroundSize: "cover" } : undefined}
    onLoad=${() => setLoaded(true)}
    onError=${() => setFailed(true)}
  />`;
}

// A ThumbHash (base64) as a data URL of the blurred picture; null when there is none or it is not one.
export function placeholder(thumbhash) {
  if (!thumbhash) return null;
  try {
    return thumbHashToDataURL(Uint8Array.from(atob(thumbhash), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

export function previewUrl(fileId, size) {
  return `/files/${fileId}/preview?size=${size}`;
}
