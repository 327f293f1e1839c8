import { useEffect, useRef, useState } from "preact/hooks";

import { call } from "./api.js";

// Following the caller's tasks as they change: the push channel (a WebSocket opened with a
// ticket from POST /events/tickets), or, when it cannot be opened, long-polls of the tasks still
// running (GET /tasks/{id}?wait=). `onChange({type, change, data})` is told each change, `onOpen()`
// each time the channel opens.
const RETRY_MS = 5000;

export function usePushChannel(onChange, onOpen) {
  const [mode, setMode] = useState("connecting");
  const handler = useRef(onChange);
  handler.current = onChange;
  const openedHandler = useRef(onOpen);
  openedHandler.current = onOpen;

  useEffect(() => {
    let socket = null;
    let stopped = false;
    let timer = null;
    const open = async () => {
      let opened = false;
      try {
        const { url, ticket } = await call("POST", "/events/tickets");
        socket = new WebSocket(`${url}?ticket=${encodeURIComponent(ticket)}`);
      } catch {
        if (!stopped) setMode("long-poll");
        timer = setTimeout(open, RETRY_MS * 6);
        return;
      }
      socket.onopen = () => {
        opened = true;
        setMode("push");
        if (!stopped) openedHandler.current?.();
      };
      socket.onmessage = (event) => {
        try {
          handler.current(JSON.parse(event.data));
        } catch {
          // a message this page cannot read is passed over
        }
      };
      socket.onclose = () => {
        if (stopped) return;
        // Closed by the service (after 2 hours) or never opened: long-poll meanwhile, try again.
        setMode("long-poll");
        timer = setTimeout(open, opened ? 0 : RETRY_MS * 6);
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      if (socket) socket.close();
    };
  }, []);
  return mode;
}

// Long-polls each task in `tasks` that is still queued or running, while `enabled`; each answer
// is a change for `onChange`, and the next long-poll starts from what it said.
export function useLongPolls(tasks, enabled, onChange) {
  const handler = useRef(onChange);
  handler.current = onChange;
  const active = tasks.filter((task) => task.status === "queued" || task.status === "running");
  const key = active.map((task) => task.id).join(",");

  useEffect(() => {
    if (!enabled || !key) return undefined;
    let stopped = false;
    const follow = async (task) => {
      let seen = task;
      while (!stopped && (seen.status === "queued" || seen.status === "running")) {
        const outputs = seen.result?.outputs?.length ?? 0;
        try {
          seen = await call("GET", `/tasks/${seen.id}?wait=20&seen=${seen.status}&seen_outputs=${outputs}`);
        } catch {
          return;
        }
        if (!stopped) handler.current({ type: "task", change: "updated", data: seen });
      }
    };
    active.forEach(follow);
    return () => {
      stopped = true;
    };
  }, [key, enabled]);
}
