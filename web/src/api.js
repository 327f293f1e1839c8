// Calls to the imgtasks API from its own origin: the session cookie authenticates them (the
// browser sends it; no script can read it), and answers that are problem details become errors
// whose message is the problem's `detail`.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `the service answered ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function failure(response) {
  let problem;
  try {
    problem = await response.json();
  } catch {
    problem = null;
  }
  return new ApiError(response.status, problem);
}

export async function call(method, path, { json, form } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = new URLSearchParams(form);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  return response.json();
}

// XMLHttpRequest rather than fetch: only it reports upload progress.
function send(method, url, body, onProgress, { sameOrigin }) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.withCredentials = false;
    if (sameOrigin) request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body;
      try {
        body = request.responseText ? JSON.parse(request.responseText) : null;
      } catch {
        body = null;
      }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new ApiError(request.status, body));
    };
    request.onerror = () => reject(new ApiError(0, { detail: "the upload could not reach the server" }));
    request.send(body);
  });
}

// Through the API up to this size (its 4 MiB limit, less the multipart envelope); straight to
// S3 by presigned POST above it.
export const DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024 - 64 * 1024;

export async function uploadFile(file, onProgress) {
  if (file.size <= DIRECT_UPLOAD_BYTES) {
    const body = new FormData();
    body.append("file", file, file.name);
    return { file: await send("POST", "/files", body, onProgress, { sameOrigin: true }), presigned: false };
  }
  const started = await call("POST", "/files/presigned", {
    json: { filename: file.name, content_type: file.type || "application/octet-stream", size: file.size },
  });
  const body = new FormData();
  for (const [name, value] of Object.entries(started.upload.fields)) body.append(name, value);
  body.append("file", file, file.name);
  try {
    await send("POST", started.upload.url, body, onProgress, { sameOrigin: false });
  } catch (error) {
    throw new ApiError(error.status, { detail: `the storage refused the upload (${error.status || "no answer"})` });
  }
  return { file: started.file, presigned: true };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A presigned upload is inspected after it lands: wait for its verdict (ready, or rejected and why).
export async function settledFile(id) {
  for (let attempt = 0; attempt < 120; attempt += 1) {
    const file = await call("GET", `/files/${id}`);
    if (file.status !== "pending") return file;
    await sleep(500);
  }
  return call("GET", `/files/${id}`);
}
