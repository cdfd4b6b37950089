// The candidate room. Speaks exactly the HTTP interface of docs/candidate-room.md; the
// server keeps all interview state, so this page can be reloaded (or lose its connection)
// at any moment and rebuild itself from GET /state.
"use strict";

(() => {
  const root = document.getElementById("room");
  if (!root) return;

  const base = root.dataset.base;
  const OPEN = new Set(["scheduled", "in_progress"]);
  const HEARTBEAT_MS = 15000; // the server wants one at least every 20 s
  const MAX_EVENTS_PER_POST = 200;
  const MAX_QUEUED_EVENTS = 1000;
  const BURST_CHARS = 40; // this much text appearing within BURST_WINDOW_MS is not typing
  const BURST_WINDOW_MS = 150;
  const RESYNC_FIRST_MS = 1000;
  const RESYNC_MAX_MS = 10000;

  const $ = (id) => document.getElementById(id);
  const el = {
    controls: $("room-controls"),
    timer: $("timer"),
    timerBox: $("timer-box"),
    endButton: $("end-button"),
    endDialog: $("end-dialog"),
    consentView: $("consent-view"),
    consentForm: $("consent-form"),
    consent: $("consent"),
    startButton: $("start-button"),
    consentError: $("consent-error"),
    interviewView: $("interview-view"),
    transcript: $("transcript"),
    statusLine: $("status-line"),
    retryBox: $("retry-box"),
    retryButton: $("retry-button"),
    composer: $("composer"),
    answer: $("answer"),
    sendButton: $("send-button"),
    editorPanel: $("editor-panel"),
    codingTask: $("coding-task"),
    taskTitle: $("task-title"),
    examples: $("examples"),
    examplesCount: $("examples-count"),
    examplesList: $("examples-list"),
    hiddenCount: $("hidden-count"),
    editorLanguage: $("editor-language"),
    editorBox: $("editor"),
    runButton: $("run-button"),
    submitCodeButton: $("submit-code-button"),
    codeResults: $("code-results"),
    finishedView: $("finished-view"),
    finishedThanks: $("finished-thanks"),
    finishedClosed: $("finished-closed"),
    voiceChoice: $("voice-choice"),
    voiceOn: $("voice-on"),
    voiceChoiceNote: $("voice-choice-note"),
    voicePanel: $("voice-panel"),
    voiceState: $("voice-state"),
    voiceLevel: $("voice-level"),
    voiceMeter: $("voice-meter"),
    voiceMode: $("voice-mode"),
    voiceSilence: $("voice-silence"),
    talkButton: $("talk-button"),
    sendVoice: $("send-voice"),
    voiceOff: $("voice-off"),
    answerByVoice: $("answer-voice"),
  };

  const room = {
    status: root.dataset.status,
    awaiting: null,
    live: false, // started and not finished: signals are recorded, heartbeats sent
    finished: false,
    clockOffsetMs: 0, // server clock minus ours
    wrapUpAt: null,
    endsAt: null,
    hardStopAt: null,
    nudged: new Set(), // which of the timer's marks already prompted an empty turn
    busy: false, // a POST /turn is in flight
    controller: null,
    streamBubble: null, // the interviewer bubble the deltas are going into
    pendingAnswer: null, // {text, id, bubble} sent but not yet confirmed by a `candidate` event
    resyncTimer: null,
    resyncDelay: RESYNC_FIRST_MS,
    heartbeat: null,
    clock: null,
    events: [],
    hiddenSince: null,
    blurredSince: null,
    lastPasteAt: -Infinity,
    task: null, // the coding task in the editor (the room's GET /state coding_task)
    editor: null, // window.VivaEditor instance
    codeBusy: false,
    // RoomState.voice_options when the server takes spoken answers (known before the start too).
    voiceOffered: root.dataset.voice === "true" ? { silence_ms: Number(root.dataset.voiceSilenceMs) } : null,
    voice: null, // the VivaVoice engine while the candidate answers by voice
    spokenQueue: [], // answers heard while the interviewer was still replying, sent in order
    latency: null, // {endedAt, answerSeq, reported}: the last spoken answer, until its reply is heard
    recording: null, // {take, seq, queue, sending}: parts of the interview's recording to upload
  };

  // --- HTTP ------------------------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, body) {
      // The API's error body is {"error": "...", "code": "..."}; accept {"error": {...}} too.
      const error = body && body.error;
      const message = typeof error === "string" ? error : (error && error.message) || `HTTP ${status}`;
      super(message);
      this.status = status;
      this.code = (body && body.code) || (error && error.code) || null;
    }
  }

  async function errorFrom(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON (a proxy's error page): the status says enough
    }
    return new HttpError(response.status, body);
  }

  function request(path, body, extra = {}) {
    const init = { method: "GET", cache: "no-store", credentials: "same-origin", headers: {}, ...extra };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(base + path, init);
  }

  async function api(path, body) {
    const response = await request(path, body, { headers: { Accept: "application/json" } });
    if (!response.ok) throw await errorFrom(response);
    return response.json();
  }

  // Server-sent events read from a fetch body (EventSource can only GET). Calls
  // onMessage(event, data) for each message; resolves when the body ends.
  async function readEvents(body, onMessage) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const lineEnd = /\r\n|\r|\n/g;
    let buffer = "";
    let event = "";
    let data = [];
    const feed = (final) => {
      let start = 0;
      for (;;) {
        lineEnd.lastIndex = start;
        const match = lineEnd.exec(buffer);
        if (!match) break;
        // A lone CR at the end may be the first half of a CRLF split across chunks.
        if (match[0] === "\r" && match.index === buffer.length - 1 && !final) break;
        const line = buffer.slice(start, match.index);
        start = match.index + match[0].length;
        if (line === "") {
          if (data.length) onMessage(event || "message", data.join("\n"));
          event = "";
          data = [];
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "event") event = value;
          else if (field === "data") data.push(value);
        }
      }
      buffer = buffer.slice(start);
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      feed(false);
    }
    feed(true);
  }

  function newTurnId() {
    // crypto.randomUUID needs a secure context; a LAN deployment on plain http is not one.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- views -----------------------------------------------------------------------------

  function showView(name) {
    el.consentView.hidden = name !== "consent";
    el.interviewView.hidden = name !== "interview";
    el.finishedView.hidden = name !== "finished";
    el.controls.hidden = name !== "interview";
  }

  function setStatus(text) {
    if (el.statusLine.textContent !== text) el.statusLine.textContent = text;
  }

  function updateComposer() {
    const open = room.awaiting === "candidate" && !room.busy && !room.finished;
    el.sendButton.setAttribute("aria-disabled", open ? "false" : "true");
    el.composer.classList.toggle("is-waiting", !open);
  }

  function focusAnswer() {
    if (el.interviewView.hidden || (el.endDialog && el.endDialog.open)) return;
    el.answer.focus();
  }

  function showRetry(message) {
    setStatus(message || "The interviewer couldn't reply. Your answer is saved.");
    el.retryBox.hidden = false;
    el.retryButton.focus();
  }

  function hideRetry() {
    el.retryBox.hidden = true;
  }

  // --- transcript ------------------------------------------------------------------------

  // Keep the newest words in view, unless the candidate scrolled up to reread something.
  // Whether to follow is decided by their scrolling, not at each change, so the log also
  // stays at the bottom when it shrinks (a rotated phone, an on-screen keyboard).
  let following = true;
  el.transcript.addEventListener("scroll", () => {
    const log = el.transcript;
    following = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  });
  const scrollToEnd = () => {
    if (following) el.transcript.scrollTop = el.transcript.scrollHeight;
  };
  if (typeof ResizeObserver === "function") new ResizeObserver(scrollToEnd).observe(el.transcript);

  function keepingScroll(change) {
    const result = change();
    scrollToEnd();
    return result;
  }

  function addBubble(speaker, text, { seq = null, pending = false } = {}) {
    return keepingScroll(() => {
      const item = document.createElement("li");
      item.className = `turn turn-${speaker}`;
      if (pending) item.classList.add("is-pending");
      if (seq !== null) item.dataset.seq = String(seq);
      const who = document.createElement("span");
      who.className = "speaker";
      who.textContent = speaker === "interviewer" ? "Interviewer" : "You";
      const body = document.createElement("div");
      body.className = "text";
      body.append(document.createTextNode(text));
      item.append(who, body);
      el.transcript.append(item);
      return item;
    });
  }

  function setBubbleText(item, text) {
    keepingScroll(() => {
      item.querySelector(".text").textContent = text;
    });
  }

  function renderTurns(turns) {
    el.transcript.replaceChildren();
    room.streamBubble = null;
    for (const turn of turns || []) addBubble(turn.speaker, turn.text, { seq: turn.seq });
    following = true;
    scrollToEnd();
  }

  function renderCodingTask(task) {
    el.editorPanel.hidden = !task;
    el.interviewView.classList.toggle("has-editor", Boolean(task));
    if (!task) {
      room.task = null;
      return;
    }
    if (room.task && room.task.id === task.id) return; // already in the editor, with the candidate's edits
    room.task = task;
    el.taskTitle.textContent = task.title ? `: ${task.title}` : "";
    el.codingTask.textContent = task.statement;
    el.examplesCount.textContent = String(task.visible_tests.length);
    el.hiddenCount.textContent = String(task.hidden_tests);
    el.examplesList.replaceChildren(
      ...task.visible_tests.map((t) => {
        const item = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = `${task.entrypoint[el.editorLanguage.value] || "f"}(${t.input.map((a) => JSON.stringify(a)).join(", ")}) → ${JSON.stringify(t.expected_output)}`;
        item.append(code);
        return item;
      })
    );
    const language = task.last_language || el.editorLanguage.value || "python";
    el.editorLanguage.value = language;
    const doc = task.last_code || task.starter[language];
    if (room.editor) {
      room.editor.setLanguage(language);
      room.editor.value = doc;
    } else if (window.VivaEditor) {
      room.editor = window.VivaEditor.create(el.editorBox, {
        language,
        doc,
        label: "Code editor",
        onChange: (_text, update) => editorBurst.input(update.transactions.some((tr) => tr.isUserEvent("input.paste"))),
        onPaste: (chars) => {
          room.lastPasteAt = performance.now();
          record({ type: "paste", target: "editor", chars });
        },
      });
    }
  }

  function changeLanguage() {
    if (!room.task || !room.editor) return;
    const language = el.editorLanguage.value;
    const starters = Object.values(room.task.starter);
    // Untouched starter code follows the language; the candidate's own code stays as it is.
    if (starters.includes(room.editor.value) || !room.editor.value.trim()) room.editor.value = room.task.starter[language];
    room.editor.setLanguage(language);
  }

  function describeResult(result) {
    const item = document.createElement("li");
    item.className = `code-result is-${result.status}`;
    const head = document.createElement("p");
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = result.status.replace("_", " ");
    head.append(badge, ` ${result.name}`);
    item.append(head);
    const lines = [];
    if (result.status === "failed") {
      const got = result.output_truncated ? `${JSON.stringify(result.actual_output)}… (cut)` : JSON.stringify(result.actual_output);
      lines.push(`expected ${JSON.stringify(result.expected_output)}`, `got      ${got}`);
    }
    if (result.error) lines.push(result.error.trim());
    if (result.stdout) lines.push(`printed: ${result.stdout.trim()}`);
    if (lines.length) {
      const pre = document.createElement("pre");
      pre.textContent = lines.join("\n");
      item.append(pre);
    }
    return item;
  }

  function showCodeResults(data) {
    const summary = document.createElement("p");
    summary.className = "code-summary";
    const what = data.kind === "submit" ? "Submitted" : "Examples";
    summary.textContent = `${what}: ${data.passed} of ${data.total} tests passed.`;
    const parts = [summary];
    if (data.compile_output) {
      const pre = document.createElement("pre");
      pre.className = "compile-output";
      pre.textContent = data.compile_output;
      parts.push(pre);
    }
    const list = document.createElement("ol");
    list.className = "code-result-list";
    list.append(...data.results.map(describeResult));
    parts.push(list);
    if (data.hidden_total) {
      // Only the count: which hidden tests passed would tell the candidate about their inputs.
      const hidden = document.createElement("p");
      hidden.className = "code-hidden-summary";
      hidden.textContent = `Hidden tests: ${data.hidden_passed} of ${data.hidden_total} passed.`;
      parts.push(hidden);
    }
    el.codeResults.replaceChildren(...parts);
  }

  async function runCode(action) {
    if (!room.task || !room.editor || room.codeBusy) return;
    room.codeBusy = true;
    el.runButton.disabled = el.submitCodeButton.disabled = true;
    el.codeResults.textContent = action === "submit" ? "Running every test…" : "Running the examples…";
    try {
      const body = await api(`/code/${action}`, { language: el.editorLanguage.value, code: room.editor.value });
      showCodeResults(body.data);
    } catch (error) {
      const why = error instanceof HttpError && error.status === 408 ? "Your code took too long to run." : error.message;
      el.codeResults.textContent = `The code could not be run: ${why}`;
      if (error instanceof HttpError && error.status === 409) resync();
    } finally {
      room.codeBusy = false;
      el.runButton.disabled = el.submitCodeButton.disabled = false;
    }
  }

  // --- timer -----------------------------------------------------------------------------

  const parseTime = (value) => (value ? Date.parse(value) : null);
  const serverNow = () => Date.now() + room.clockOffsetMs;

  function formatRemaining(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const minutes = Math.floor(total / 60);
    const seconds = total % 60;
    return `${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
  }

  function tick() {
    if (room.endsAt === null) return;
    const now = serverNow();
    const text = formatRemaining(room.endsAt - now);
    if (el.timer.textContent !== text) el.timer.textContent = text;
    const wrapping = room.wrapUpAt !== null && now >= room.wrapUpAt;
    if (wrapping && !el.timerBox.classList.contains("is-warning")) {
      el.timerBox.classList.add("is-warning");
    }
    // The interviewer wraps up and ends on the clock; the server only acts when asked, so
    // when a mark passes while the candidate is thinking, ask for the move that is now due.
    for (const [mark, at] of [
      ["wrap_up", room.wrapUpAt],
      ["end", room.endsAt],
      ["hard_stop", room.hardStopAt],
    ]) {
      if (at !== null && now >= at && !room.nudged.has(mark)) {
        room.nudged.add(mark);
        if (room.live && !room.busy && room.awaiting === "candidate") postTurn({});
      }
    }
  }

  function startClock() {
    if (room.clock === null) room.clock = setInterval(tick, 250);
    tick();
  }

  // --- state -----------------------------------------------------------------------------

  function applyState(state, { transcript = true } = {}) {
    room.status = state.status;
    room.awaiting = state.awaiting;
    if (state.server_time) room.clockOffsetMs = Date.parse(state.server_time) - Date.now();
    room.wrapUpAt = parseTime(state.wrap_up_at);
    room.endsAt = parseTime(state.ends_at);
    room.hardStopAt = parseTime(state.hard_stop_at);
    // Marks already behind us on arrival were handled (or are handled now) by the server.
    const now = serverNow();
    for (const [mark, at] of [
      ["wrap_up", room.wrapUpAt],
      ["end", room.endsAt],
      ["hard_stop", room.hardStopAt],
    ]) {
      if (at !== null && now >= at) room.nudged.add(mark);
    }
    if (!OPEN.has(state.status)) {
      finish(state.status);
      return;
    }
    room.voiceOffered = state.voice ? state.voice_options || {} : null;
    if (state.status === "in_progress" && state.consented) {
      showView("interview");
      offerVoice();
      if (transcript) renderTurns(state.turns);
      renderCodingTask(state.coding_task);
      startClock();
    } else {
      showView("consent");
    }
    updateComposer();
  }

  function finish(status) {
    if (room.finished) return;
    room.finished = true;
    room.live = false;
    room.awaiting = null;
    clearTimeout(room.resyncTimer);
    clearInterval(room.clock);
    clearInterval(room.heartbeat);
    room.heartbeat = null;
    if (el.endDialog.open) el.endDialog.close("cancel");
    if (room.events.length) sendSignals({ keepalive: true });
    if (room.voice) windDownVoice();
    const completed = status === "completed";
    el.finishedThanks.hidden = !completed;
    el.finishedClosed.hidden = completed;
    showView("finished");
    const heading = (completed ? el.finishedThanks : el.finishedClosed).querySelector("h2");
    heading.focus();
  }

  function scheduleResync(message, delay) {
    if (room.finished) return;
    if (message) setStatus(message);
    clearTimeout(room.resyncTimer);
    room.resyncTimer = setTimeout(resync, delay ?? room.resyncDelay);
    room.resyncDelay = Math.min(room.resyncDelay * 2, RESYNC_MAX_MS);
  }

  async function resync() {
    if (room.finished || room.busy) return;
    let state;
    try {
      state = await api("/state");
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) finish("cancelled");
      else scheduleResync("Connection lost. Reconnecting…");
      return;
    }
    applyState(state);
    if (state.status === "in_progress") carryOn(state);
  }

  // Take the interview up from a fresh RoomState: resend an answer the server may not have
  // received, let the interviewer take a move it owes, or hand the turn to the candidate.
  function carryOn(state) {
    const pending = room.pendingAnswer;
    room.pendingAnswer = null;
    if (pending) {
      const candidates = (state.turns || []).filter((t) => t.speaker === "candidate");
      const last = candidates[candidates.length - 1];
      if (!last || last.text !== pending.text) {
        // The same client_turn_id makes this count once if it did arrive after all.
        sendAnswer(pending.text, pending.id);
        return;
      }
    }
    if (state.awaiting === "interviewer") {
      postTurn({});
    } else if (state.awaiting === "candidate") {
      setStatus("Your turn.");
      focusAnswer();
    }
  }

  // --- starting --------------------------------------------------------------------------

  async function begin(resuming) {
    let state;
    try {
      state = await api("/start", { consent: true });
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) {
        finish("cancelled");
      } else if (error instanceof HttpError && error.status === 409) {
        resync(); // closed: the state shows the finished view
      } else if (resuming) {
        setStatus("Connection lost. Reconnecting…");
        setTimeout(() => begin(true), room.resyncDelay);
        room.resyncDelay = Math.min(room.resyncDelay * 2, RESYNC_MAX_MS);
      } else {
        el.consentError.textContent = `The interview could not start (${error.message}). Please try again.`;
        el.consentError.hidden = false;
        el.startButton.disabled = !el.consent.checked;
      }
      return;
    }
    room.resyncDelay = RESYNC_FIRST_MS;
    applyState(state);
    if (room.finished || state.status !== "in_progress") return;
    room.live = true;
    if (room.heartbeat === null) room.heartbeat = setInterval(sendSignals, HEARTBEAT_MS);
    if (room.voice && !room.recording) startRecording();
    // The Start button just disappeared: give focus a home where the candidate will write.
    focusAnswer();
    carryOn(state);
  }

  // --- turns -----------------------------------------------------------------------------

  function sendAnswer(text, id) {
    const bubble = addBubble("candidate", text, { pending: true });
    room.pendingAnswer = { text, id, bubble };
    postTurn({ text, client_turn_id: id });
  }

  function submitAnswer() {
    const text = el.answer.value.trim();
    if (!text) {
      setStatus("Type an answer first.");
      return;
    }
    if (room.awaiting !== "candidate" || room.busy || room.finished) {
      setStatus("Please wait until the interviewer has finished.");
      return;
    }
    el.answer.value = "";
    chatBurst.reset();
    sendAnswer(text, newTurnId());
  }

  // `spoken`: an answer heard by the microphone ({blob, id, endedAt, silenceMs}), sent as audio.
  async function postTurn(body, spoken = null) {
    if (room.busy || room.finished) return;
    clearTimeout(room.resyncTimer);
    room.busy = true;
    hideRetry();
    updateComposer();
    setStatus(spoken ? "Transcribing your answer…" : "The interviewer is writing…");
    const controller = new AbortController();
    room.controller = controller;
    const seen = { done: false, retry: false, ended: false, turns: 0, codingTask: false, spoken };
    let failure = null;
    if (room.voice) room.voice.newReply();
    try {
      const headers = { Accept: "text/event-stream" };
      const response = spoken
        ? await request(`/voice?client_turn_id=${spoken.id}&silence_ms=${spoken.silenceMs}`, undefined, {
            method: "POST",
            headers: { ...headers, "Content-Type": "audio/wav" },
            body: spoken.blob,
            signal: controller.signal,
          })
        : await request(room.voice ? "/turn?speak=true" : "/turn", body, { headers, signal: controller.signal });
      if (!response.ok) throw await errorFrom(response);
      el.transcript.setAttribute("aria-busy", "true");
      await readEvents(response.body, (event, data) => onTurnEvent(event, JSON.parse(data), seen));
    } catch (error) {
      failure = error;
    } finally {
      room.busy = false;
      room.controller = null;
      el.transcript.setAttribute("aria-busy", "false");
      if (room.streamBubble) room.streamBubble.classList.remove("is-pending");
    }
    if (controller.signal.aborted || room.finished) return;
    updateComposer();

    if (failure) {
      if (spoken) spokenFailed(failure, spoken);
      else turnFailed(failure, body);
      return;
    }
    if (!seen.done) {
      scheduleResync("The connection was interrupted. Reconnecting…", RESYNC_FIRST_MS);
      return;
    }
    room.resyncDelay = RESYNC_FIRST_MS;
    if (seen.codingTask) refreshCodingTask();
    if (seen.retry) {
      showRetry(typeof seen.retry === "string" ? seen.retry : ""); // the candidate decides when
      return;
    }
    if (room.awaiting === "candidate" && room.spokenQueue.length) {
      postTurn({}, room.spokenQueue.shift());
    } else if (room.awaiting === "candidate") {
      setStatus(room.voice ? "Your turn: answer out loud, or type." : "Your turn.");
      if (!room.voice) focusAnswer();
    } else if (room.awaiting === "interviewer") {
      // Another move is due. Ask for it straight away only if this stream made progress,
      // so a server that keeps owing a move cannot spin the page.
      if (seen.turns > 0) postTurn({});
      else scheduleResync("Waiting for the interviewer…");
    } else {
      resync();
    }
  }

  function onTurnEvent(event, data, seen) {
    switch (event) {
      case "candidate": {
        if (seen.spoken) {
          // What the server heard: shown as the candidate's words, like a typed answer.
          const bubble = seen.spoken.bubble;
          bubble.dataset.seq = String(data.seq);
          bubble.classList.remove("is-pending");
          setBubbleText(bubble, data.text);
          room.latency = { endedAt: seen.spoken.endedAt, answerSeq: data.seq, reported: false };
          setStatus("The interviewer is replying…");
          break;
        }
        const pending = room.pendingAnswer;
        if (pending) {
          pending.bubble.dataset.seq = String(data.seq);
          pending.bubble.classList.remove("is-pending");
          room.pendingAnswer = null;
        }
        break;
      }
      case "delta": {
        if (!room.streamBubble) room.streamBubble = addBubble("interviewer", "", { pending: true });
        const text = room.streamBubble.querySelector(".text");
        keepingScroll(() => text.append(document.createTextNode(data.text)));
        break;
      }
      case "turn": {
        let bubble = room.streamBubble;
        room.streamBubble = null;
        const existing = el.transcript.querySelector(`[data-seq="${Number(data.seq)}"]`);
        if (!bubble) bubble = existing || addBubble(data.speaker || "interviewer", "");
        else if (existing && existing !== bubble) existing.remove();
        bubble.dataset.seq = String(data.seq);
        bubble.classList.remove("is-pending");
        setBubbleText(bubble, data.text);
        seen.turns += 1;
        if (data.kind === "coding_task") seen.codingTask = true;
        break;
      }
      case "audio":
        if (room.voice) room.voice.play(base64Bytes(data.audio), data.utterance);
        break;
      case "audio_stop":
        if (room.voice) room.voice.stopPlayback(data.utterance);
        break;
      case "audio_error":
        if (room.voice) setVoiceState(data.message || "The interviewer's voice is unavailable; read the reply.");
        break;
      case "retry":
        // Offered once the stream is over: until then this request still holds the floor.
        seen.retry = data.message || true;
        if (room.streamBubble) {
          room.streamBubble.remove(); // words of a turn that was not stored
          room.streamBubble = null;
        }
        break;
      case "ended":
        seen.ended = true;
        finish(data.status);
        break;
      case "done":
        seen.done = true;
        room.awaiting = data.awaiting;
        break;
      default:
        break; // unknown events are for newer pages
    }
  }

  function turnFailed(error, body) {
    if (!(error instanceof HttpError)) {
      scheduleResync("Connection lost. Reconnecting…");
      return;
    }
    if (error.status === 404) {
      finish("cancelled");
    } else if (error.code === "interviewer_busy") {
      scheduleResync("The interviewer is still busy. Waiting…");
    } else if (error.status === 409) {
      resync();
    } else if (error.status >= 500 || error.status === 429) {
      scheduleResync("The server is having trouble. Retrying…");
    } else {
      // The answer itself was refused (too long, say): give it back to edit.
      const pending = room.pendingAnswer;
      room.pendingAnswer = null;
      if (pending && body.text !== undefined) {
        pending.bubble.remove();
        if (!el.answer.value) el.answer.value = pending.text;
      }
      setStatus(`Your answer could not be sent: ${error.message}`);
      focusAnswer();
    }
  }

  async function refreshCodingTask() {
    try {
      const state = await api("/state");
      renderCodingTask(state.coding_task);
    } catch {
      // the next resync or turn shows it
    }
  }

  // --- voice -----------------------------------------------------------------------------

  function base64Bytes(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  const VOICE_STATES = {
    idle: "Microphone on.",
    listening: "Listening: answer whenever you're ready.",
    hearing: "Hearing you…",
    speaking: "The interviewer is speaking. Start talking to interrupt.",
  };

  function setVoiceState(text) {
    if (el.voiceState.textContent !== text) el.voiceState.textContent = text;
  }

  function onVoiceState(name, detail) {
    if (name === "pausing") {
      setVoiceState(`Sending in ${(detail.leftMs / 1000).toFixed(1)} s. Keep talking to go on.`);
      return;
    }
    if (name === "listening" && room.busy) {
      setVoiceState("Waiting for the interviewer…");
      return;
    }
    if (room.voice && el.voiceMode.value === "push" && (name === "listening" || name === "idle")) {
      setVoiceState("Hold the button (or the space bar) while you answer.");
      return;
    }
    setVoiceState(VOICE_STATES[name] || "");
  }

  let levelFrame = null;
  let levelValue = 0;
  function onLevel(level) {
    levelValue = level;
    if (levelFrame !== null) return;
    levelFrame = requestAnimationFrame(() => {
      levelFrame = null;
      const percent = Math.round(levelValue * 100);
      el.voiceLevel.style.width = `${percent}%`;
      el.voiceMeter.setAttribute("aria-valuenow", String(percent));
    });
  }

  // The pause that ends a spoken answer: the server's default until the candidate picks another.
  function defaultSilence() {
    const silence = String((room.voiceOffered && room.voiceOffered.silence_ms) || "");
    if (!silence || el.voiceSilence.dataset.chosen) return;
    if (![...el.voiceSilence.options].some((o) => o.value === silence)) {
      el.voiceSilence.add(new Option(`${Number(silence) / 1000} s`, silence));
    }
    el.voiceSilence.value = silence;
  }

  function offerVoice() {
    const offered = Boolean(room.voiceOffered) && !room.voice;
    defaultSilence();
    el.voiceChoice.hidden = !offered;
    if (offered && !window.VivaVoice.supported()) {
      el.voiceOn.disabled = true;
      el.voiceChoiceNote.textContent = window.isSecureContext
        ? "This browser cannot record audio here; please type your answers."
        : "Answering by voice needs a secure (https) connection; please type your answers.";
    }
  }

  function onSpokenAnswer(blob, { endedAt, silenceMs }) {
    if (room.finished) return;
    const spoken = { blob, endedAt, silenceMs, id: newTurnId() };
    spoken.bubble = addBubble("candidate", "(transcribing…)", { pending: true });
    if (!room.busy && room.awaiting === "candidate") {
      postTurn({}, spoken);
    } else {
      // The interviewer is still replying (the candidate interrupted it): answer right after.
      room.spokenQueue.push(spoken);
      setVoiceState("Got it. Sending when the interviewer has finished.");
    }
  }

  function onPlaying(startsAt) {
    const latency = room.latency;
    if (!latency || latency.reported) return;
    latency.reported = true;
    const ms = Math.max(0, Math.round(startsAt - latency.endedAt));
    record({ type: "voice_latency", answer_seq: latency.answerSeq, ms });
    sendSignals();
  }

  function spokenFailed(error, spoken) {
    spoken.bubble.remove();
    if (!(error instanceof HttpError)) {
      setStatus("Your spoken answer could not be sent (connection lost). Please say it again, or type it.");
      scheduleResync(null);
    } else if (error.code === "no_speech") {
      setStatus("No words were heard in that answer. Please say it again, or type it.");
    } else if (error.status === 409 && error.code !== "interviewer_busy") {
      resync();
    } else {
      setStatus(`Your spoken answer could not be used: ${error.message}`);
    }
    updateComposer();
  }

  async function startVoice() {
    el.voiceOn.disabled = true;
    el.voiceChoiceNote.textContent = "Allow the microphone when your browser asks.";
    const options = room.voiceOffered || {};
    if (!window.VivaVoice.supported()) return false;
    const voice = window.VivaVoice.create({
      silenceMs: Number(el.voiceSilence.value) || options.silence_ms || 2000,
      // The server's limit on an answer, as 16 kHz 16-bit WAV: 32 kB a second.
      maxAnswerMs: Math.floor((options.max_answer_bytes || 16 * 1024 * 1024) / 32) - 1000,
      workletUrl: "/static/room/mic-worklet.js",
      onLevel,
      onState: onVoiceState,
      onAnswer: onSpokenAnswer,
      onPlaying,
      onBargeIn: () => {
        setStatus("You interrupted the interviewer; go ahead.");
        // Counted where a support engineer (or a test) can read it: how often the voice was cut.
        root.dataset.bargeIns = String(Number(root.dataset.bargeIns || 0) + 1);
      },
    });
    try {
      await voice.start();
    } catch (error) {
      el.voiceOn.disabled = false;
      el.voiceChoiceNote.textContent =
        error && error.name === "NotAllowedError"
          ? "The microphone was not allowed, so please type your answers (or allow it and try again)."
          : "No microphone could be used, so please type your answers.";
      return false;
    }
    room.voice = voice;
    el.voiceChoice.hidden = true;
    el.voicePanel.hidden = false;
    el.interviewView.classList.add("is-voice");
    voice.setMode(el.voiceMode.value);
    voice.listen(true);
    if (room.live) {
      startRecording();
      if (room.awaiting === "candidate" && !room.busy) setStatus("Your turn: answer out loud, or type.");
    }
    return true;
  }

  // The interview is over: let the interviewer finish its last words (and the recording take
  // them in), then release the microphone and send the recording's last part.
  async function windDownVoice() {
    const voice = room.voice;
    voice.listen(false);
    const deadline = Date.now() + 60000;
    while ((room.busy || voice.isPlaying()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (room.voice === voice) await stopVoice({ finished: true });
  }

  async function stopVoice({ finished = false } = {}) {
    const voice = room.voice;
    room.voice = null;
    room.spokenQueue = [];
    el.voicePanel.hidden = true;
    el.interviewView.classList.remove("is-voice");
    await voice.stop(); // the last recording part is handed over before this returns
    if (!finished) {
      el.voiceOn.disabled = false;
      el.voiceChoiceNote.textContent = "";
      offerVoice();
      focusAnswer();
    }
  }

  // The recording: both voices, uploaded in parts while the interview runs (docs/recordings.md).
  async function startRecording() {
    let take;
    try {
      take = (await api("/recording", {})).take;
    } catch {
      return; // not recorded (the interview goes on); the transcript is kept either way
    }
    room.recording = { take, seq: 0, queue: [], sending: false };
    room.voice.startRecording((blob, mime) => {
      const recording = room.recording;
      if (!recording || recording.take !== take) return;
      recording.queue.push({ seq: recording.seq, blob, mime, tries: 0 });
      recording.seq += 1;
      uploadParts(recording);
    });
  }

  async function uploadParts(recording) {
    if (recording.sending) return;
    recording.sending = true;
    while (recording.queue.length) {
      const part = recording.queue[0];
      let response = null;
      try {
        response = await request(`/recording/${recording.take}/${part.seq}`, undefined, {
          method: "PUT",
          headers: { "Content-Type": part.mime.split(";")[0] },
          body: part.blob,
          keepalive: part.blob.size < 60000, // the last part may be sent as the page closes
        });
      } catch {
        response = null;
      }
      if (response && (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429))) {
        recording.queue.shift(); // stored, or refused for good (the interview is over)
        continue;
      }
      part.tries += 1;
      if (part.tries >= 6) {
        recording.queue.shift();
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** part.tries));
    }
    recording.sending = false;
  }

  function holdToTalk(down) {
    if (!room.voice || el.voiceMode.value !== "push") return;
    if (down) room.voice.pushStart();
    else room.voice.pushEnd();
  }

  // --- ending ----------------------------------------------------------------------------

  async function endInterview() {
    if (room.controller) room.controller.abort();
    setStatus("Ending the interview…");
    try {
      const state = await api("/end", {});
      applyState(state);
      if (!room.finished) finish(state.status);
    } catch (error) {
      if (error instanceof HttpError && (error.status === 409 || error.status === 404)) resync();
      else setStatus("The interview could not be ended: check your connection and try again.");
    }
  }

  // --- authenticity signals --------------------------------------------------------------

  function record(event) {
    if (!room.live) return;
    room.events.push(event);
    if (room.events.length > MAX_QUEUED_EVENTS) room.events.splice(0, room.events.length - MAX_QUEUED_EVENTS);
  }

  const seconds = (ms) => Math.round(ms / 100) / 10;

  async function sendSignals({ keepalive = false } = {}) {
    const events = room.events.splice(0, MAX_EVENTS_PER_POST);
    try {
      const response = await request("/signals", { events }, { keepalive });
      if (response.status >= 500 || response.status === 429) room.events.unshift(...events);
      else if (response.status === 409 && !room.finished) resync(); // over on the server's clock
    } catch {
      room.events.unshift(...events); // offline: they go with the next heartbeat
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      room.hiddenSince = performance.now();
    } else if (room.hiddenSince !== null) {
      const away = performance.now() - room.hiddenSince;
      room.hiddenSince = null;
      record({ type: "tab_hidden", seconds: seconds(away) });
    }
  });
  window.addEventListener("blur", () => {
    room.blurredSince = performance.now();
  });
  window.addEventListener("focus", () => {
    if (room.blurredSince === null) return;
    const away = performance.now() - room.blurredSince;
    room.blurredSince = null;
    record({ type: "focus_lost", seconds: seconds(away) });
  });
  window.addEventListener("pagehide", () => {
    if (room.live && room.events.length) sendSignals({ keepalive: true });
    if (room.voice) room.voice.flushRecording(); // the part so far goes with keepalive
  });

  el.answer.addEventListener("paste", (event) => {
    room.lastPasteAt = performance.now();
    const text = event.clipboardData ? event.clipboardData.getData("text") : "";
    record({ type: "paste", target: "chat", chars: text.length });
  });

  // Typing bursts: text growing by BURST_CHARS or more within BURST_WINDOW_MS without a
  // paste. Samples are (time, length after the input); the length only changes at a sample,
  // so the growth over the window is the length now minus that of the last sample before it.
  // One detector per place the candidate types: the chat box and the code editor.
  function burstDetector(target, lengthNow) {
    const burst = { samples: [], active: null, timer: null };

    function end() {
      clearTimeout(burst.timer);
      const active = burst.active;
      burst.active = null;
      if (active) {
        record({ type: "typing_burst", target, chars: active.endLen - active.startLen, ms: Math.round(active.endT - active.startT) });
      }
      burst.samples = [{ t: -Infinity, len: lengthNow() }];
    }

    function input(pasted) {
      const now = performance.now();
      const len = lengthNow();
      if (pasted || now - room.lastPasteAt < BURST_WINDOW_MS) {
        end();
        return;
      }
      burst.samples.push({ t: now, len });
      while (burst.samples.length > 1 && burst.samples[1].t <= now - BURST_WINDOW_MS) burst.samples.shift();
      const baseline = burst.samples[0];
      const grown = len - baseline.len;
      if (burst.active && grown < BURST_CHARS) {
        end();
      } else if (burst.active) {
        burst.active.endT = now;
        burst.active.endLen = len;
      } else if (grown >= BURST_CHARS) {
        burst.active = { startT: burst.samples[1].t, startLen: baseline.len, endT: now, endLen: len };
      }
      if (burst.active) {
        clearTimeout(burst.timer);
        burst.timer = setTimeout(end, BURST_WINDOW_MS);
      }
    }

    return { input, reset: end };
  }

  const chatBurst = burstDetector("chat", () => el.answer.value.length);
  const editorBurst = burstDetector("editor", () => (room.editor ? room.editor.value.length : 0));

  el.answer.addEventListener("input", (event) => chatBurst.input(event.inputType === "insertFromPaste"));

  // --- wiring ----------------------------------------------------------------------------

  el.consent.addEventListener("change", () => {
    el.startButton.disabled = !el.consent.checked;
    if (el.consent.checked) el.consentError.hidden = true;
  });

  el.consentForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!el.consent.checked) {
      el.consentError.textContent = "Please tick the box to confirm you understand, then press Start.";
      el.consentError.hidden = false;
      el.consent.focus();
      return;
    }
    el.startButton.disabled = true;
    el.consentError.hidden = true;
    const byVoice = el.answerByVoice && el.answerByVoice.checked;
    if (!byVoice) {
      begin(false);
      return;
    }
    // The microphone is asked for now, while the click still counts as the candidate's gesture.
    startVoice().then((on) => {
      if (!on) {
        el.consentError.textContent = `${el.voiceChoiceNote.textContent} The interview starts in text.`;
        el.consentError.hidden = false;
      }
      begin(false);
    });
  });

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submitAnswer();
  });

  el.answer.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
    if (event.altKey || (event.shiftKey && !event.ctrlKey && !event.metaKey)) return; // a new line
    event.preventDefault();
    submitAnswer();
  });

  el.retryButton.addEventListener("click", () => {
    hideRetry();
    postTurn({});
  });

  el.endButton.addEventListener("click", () => {
    if (typeof el.endDialog.showModal === "function") {
      el.endDialog.returnValue = "";
      el.endDialog.showModal();
    } else if (window.confirm("End the interview now?")) {
      endInterview();
    }
  });

  el.endDialog.addEventListener("close", () => {
    if (el.endDialog.returnValue === "end") endInterview();
    else if (!room.finished) el.endButton.focus();
  });

  el.voiceOn.addEventListener("click", startVoice);
  el.voiceOff.addEventListener("click", () => stopVoice());
  el.sendVoice.addEventListener("click", () => room.voice && room.voice.sendNow());
  el.voiceMode.addEventListener("change", () => {
    const push = el.voiceMode.value === "push";
    el.talkButton.hidden = !push;
    el.sendVoice.hidden = push;
    if (room.voice) room.voice.setMode(el.voiceMode.value);
  });
  el.voiceSilence.addEventListener("change", () => {
    el.voiceSilence.dataset.chosen = "true";
    if (room.voice) room.voice.setSilence(Number(el.voiceSilence.value));
  });
  el.talkButton.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    el.talkButton.setPointerCapture(event.pointerId);
    holdToTalk(true);
  });
  for (const name of ["pointerup", "pointercancel"]) el.talkButton.addEventListener(name, () => holdToTalk(false));
  // The space bar talks too, except where the candidate types (the answer box, the editor).
  const typing = (target) => target && (target.closest("textarea, input, select, .editor") || target.isContentEditable);
  document.addEventListener("keydown", (event) => {
    if (event.code !== "Space" || event.repeat || typing(event.target) || !room.voice) return;
    if (el.voiceMode.value !== "push") return;
    event.preventDefault();
    holdToTalk(true);
  });
  document.addEventListener("keyup", (event) => {
    if (event.code !== "Space" || typing(event.target) || !room.voice || el.voiceMode.value !== "push") return;
    event.preventDefault();
    holdToTalk(false);
  });

  el.editorLanguage.addEventListener("change", changeLanguage);
  el.runButton.addEventListener("click", () => runCode("run"));
  el.submitCodeButton.addEventListener("click", () => runCode("submit"));

  // --- start -----------------------------------------------------------------------------

  chatBurst.reset();
  editorBurst.reset();
  defaultSilence();
  if (!OPEN.has(room.status)) return; // the server rendered the finished view
  if (room.status === "in_progress" && root.dataset.consented === "true") {
    // A reload mid-interview: starting again is a reconnect; the transcript comes back.
    showView("interview");
    setStatus("Reconnecting…");
    begin(true);
  } else {
    showView("consent");
    el.startButton.disabled = !el.consent.checked; // the browser may restore the tick
  }
})();
