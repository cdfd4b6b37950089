// Voice for the candidate room (docs/candidate-room.md, "Voice"): the microphone with a level
// meter, end-of-answer detection that waits out thinking pauses, push-to-talk, the interviewer's
// voice played sentence by sentence, barge-in, and a recording of both sides. It knows nothing of
// the interview: room.js decides what to do with an answer and what to play.
"use strict";

(() => {
  const FRAME_MS = 20; // the worklet's frames
  const PRE_ROLL_MS = 400; // kept before the detected start, so a first soft syllable is not lost
  const START_WINDOW = 8; // frames looked at to decide that speech started...
  const START_VOICED = 5; // ...and how many of them must be voiced (100 ms of 160)
  const MIN_SPEECH_MS = 300; // less than this in all is a cough or a click, not an answer
  const BARGE_IN_MS = 350; // speech this long while the interviewer talks interrupts it
  const WAV_RATE = 16000; // what speech-to-text engines want; 32 kB a second
  const RECORD_SLICE_MS = 4000; // one recording part every few seconds
  const FLOOR_FLOOR = 0.002; // the quietest noise floor assumed (about -54 dBFS)
  const MIN_THRESHOLD = 0.012; // nothing quieter counts as speech (about -38 dBFS)

  function supported() {
    return Boolean(
      window.isSecureContext &&
        navigator.mediaDevices &&
        navigator.mediaDevices.getUserMedia &&
        window.AudioContext &&
        window.AudioWorkletNode
    );
  }

  function rmsOf(frame) {
    let sum = 0;
    for (let i = 0; i < frame.length; i += 1) sum += frame[i] * frame[i];
    return Math.sqrt(sum / frame.length);
  }

  // 16-bit mono WAV at WAV_RATE from float frames at `rate`; each output sample averages the input
  // samples it covers, which keeps speech clear and aliasing low for the usual 48 or 44.1 kHz.
  function encodeWav(frames, rate) {
    const total = frames.reduce((n, f) => n + f.length, 0);
    const input = new Float32Array(total);
    let at = 0;
    for (const f of frames) {
      input.set(f, at);
      at += f.length;
    }
    const ratio = rate / WAV_RATE;
    const count = Math.floor(total / ratio);
    const buffer = new ArrayBuffer(44 + count * 2);
    const view = new DataView(buffer);
    const text = (offset, s) => [...s].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
    text(0, "RIFF");
    view.setUint32(4, 36 + count * 2, true);
    text(8, "WAVE");
    text(12, "fmt ");
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true); // PCM
    view.setUint16(22, 1, true); // mono
    view.setUint32(24, WAV_RATE, true);
    view.setUint32(28, WAV_RATE * 2, true);
    view.setUint16(32, 2, true);
    view.setUint16(34, 16, true);
    text(36, "data");
    view.setUint32(40, count * 2, true);
    for (let i = 0; i < count; i += 1) {
      const from = Math.floor(i * ratio);
      const to = Math.max(from + 1, Math.floor((i + 1) * ratio));
      let sum = 0;
      for (let j = from; j < to; j += 1) sum += input[j];
      const s = Math.max(-1, Math.min(1, sum / (to - from)));
      view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    return new Blob([buffer], { type: "audio/wav" });
  }

  function recorderType() {
    for (const type of ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"]) {
      if (window.MediaRecorder && MediaRecorder.isTypeSupported(type)) return type;
    }
    return "";
  }

  // options: silenceMs, maxAnswerMs, workletUrl, and callbacks onLevel(0..1), onState(name, detail),
  // onAnswer(wavBlob, {endedAt, silenceMs}), onBargeIn(), onPlaying(startedAt, meta), onIdle().
  function create(options) {
    const voice = {
      silenceMs: options.silenceMs,
      mode: "auto", // or "push"
      listening: false, // answers are being taken (the candidate's turn, or to interrupt)
      ctx: null,
      stream: null,
      source: null,
      node: null,
      recordDest: null,
      playGain: null,
      recorder: null,
      preRoll: [],
      floor: 0.01,
      recent: [],
      capture: null, // {frames, voicedMs, silentMs, lastVoicedAt, interrupted}
      pushing: false,
      playing: new Set(), // scheduled sources: {node, utterance}
      playEnd: 0, // context time the last scheduled audio ends
      decodeChain: Promise.resolve(),
      stopped: new Set(), // utterances not to be played any more
      generation: 0, // bumped by stopPlayback(): audio decoded for an earlier one is dropped
      decoding: 0, // sentences received but not yet scheduled
    };

    function state(name, detail) {
      if (options.onState) options.onState(name, detail || {});
    }

    function isPlaying() {
      return voice.playing.size > 0 || voice.decoding > 0;
    }

    function finishCapture(endedAt) {
      const capture = voice.capture;
      voice.capture = null;
      if (!capture) return;
      if (capture.voicedMs < MIN_SPEECH_MS) {
        state(isPlaying() ? "speaking" : voice.listening ? "listening" : "idle");
        return;
      }
      const blob = encodeWav(capture.frames, voice.ctx.sampleRate);
      // The silence is counted on the audio clock: frames reach this thread in batches, so
      // wall time since the last voiced frame can fall a few ms short of the window.
      options.onAnswer(blob, { endedAt, silenceMs: capture.silentMs });
    }

    function onFrame(frame) {
      const now = performance.now();
      const rms = rmsOf(frame);
      if (options.onLevel) options.onLevel(Math.min(1, rms * 8));
      voice.preRoll.push(frame);
      if (voice.preRoll.length > PRE_ROLL_MS / FRAME_MS) voice.preRoll.shift();

      if (voice.mode === "push") {
        if (voice.pushing && voice.capture) voice.capture.frames.push(frame);
        return;
      }
      // The noise floor follows the room's hum: down quickly, up slowly, never during speech.
      if (!voice.capture) {
        const rate = rms < voice.floor ? 0.2 : 0.01;
        voice.floor = Math.max(FLOOR_FLOOR, voice.floor + (rms - voice.floor) * rate);
      }
      // While the interviewer talks, only clearly louder speech counts (its echo is not the candidate).
      const threshold = Math.max(MIN_THRESHOLD, voice.floor * 3) * (isPlaying() ? 2 : 1);
      const voiced = rms > threshold;
      voice.recent.push(voiced);
      if (voice.recent.length > START_WINDOW) voice.recent.shift();
      if (!voice.listening) return;

      if (!voice.capture) {
        if (voice.recent.filter(Boolean).length < START_VOICED) return;
        voice.capture = {
          frames: voice.preRoll.slice(),
          voicedMs: START_VOICED * FRAME_MS,
          silentMs: 0,
          lastVoicedAt: now,
          interrupted: !isPlaying(),
        };
        state("hearing");
        return;
      }
      const capture = voice.capture;
      capture.frames.push(frame);
      // The interviewer finished while the candidate was starting to talk: a plain answer now.
      if (!capture.interrupted && !isPlaying()) capture.interrupted = true;
      if (voiced) {
        capture.voicedMs += FRAME_MS;
        capture.silentMs = 0;
        capture.lastVoicedAt = now;
        if (!capture.interrupted && capture.voicedMs >= BARGE_IN_MS) {
          capture.interrupted = true;
          stopPlayback();
          if (options.onBargeIn) options.onBargeIn();
        }
        state("hearing");
      } else {
        capture.silentMs += FRAME_MS;
        const left = voice.silenceMs - capture.silentMs;
        if (!capture.interrupted) {
          // Over the interviewer's voice, echo suppression chops the candidate's words into bits
          // with gaps: the words so far are kept through gaps shorter than the silence window,
          // and only a whole window without enough speech to interrupt makes it a noise.
          if (left <= 0) {
            voice.capture = null;
            state("speaking");
            return;
          }
          if (capture.silentMs >= 600) state("speaking");
        } else if (left <= 0) finishCapture(capture.lastVoicedAt);
        else if (capture.silentMs >= 300) state("pausing", { leftMs: left });
      }
      if (voice.capture && voice.capture.frames.length * FRAME_MS >= options.maxAnswerMs) {
        finishCapture(now); // as long as an answer may be: send what there is
      }
    }

    async function start() {
      voice.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
      voice.ctx = new AudioContext();
      await voice.ctx.resume();
      await voice.ctx.audioWorklet.addModule(options.workletUrl);
      voice.source = voice.ctx.createMediaStreamSource(voice.stream);
      voice.node = new AudioWorkletNode(voice.ctx, "viva-mic");
      voice.node.port.onmessage = (event) => onFrame(event.data);
      const mute = voice.ctx.createGain();
      mute.gain.value = 0; // the worklet must be pulled by the graph, but never heard
      voice.source.connect(voice.node).connect(mute).connect(voice.ctx.destination);
      voice.playGain = voice.ctx.createGain();
      voice.playGain.connect(voice.ctx.destination);
      // The recording: the candidate's microphone and the interviewer's voice, mixed.
      voice.recordDest = voice.ctx.createMediaStreamDestination();
      voice.source.connect(voice.recordDest);
      voice.playGain.connect(voice.recordDest);
      state("idle");
    }

    function listen(on) {
      voice.listening = on;
      if (!on && voice.capture && voice.mode === "auto") voice.capture = null;
      if (!voice.capture) state(isPlaying() ? "speaking" : on ? "listening" : "idle");
    }

    function setMode(mode) {
      voice.mode = mode;
      voice.capture = null;
      voice.pushing = false;
      state(isPlaying() ? "speaking" : voice.listening ? "listening" : "idle");
    }

    function pushStart() {
      if (voice.pushing) return;
      voice.pushing = true;
      stopPlayback(); // pressing to talk interrupts the interviewer
      voice.capture = { frames: voice.preRoll.slice(-5), voicedMs: 0, silentMs: 0, lastVoicedAt: 0, interrupted: true };
      state("hearing");
    }

    function pushEnd() {
      if (!voice.pushing) return;
      voice.pushing = false;
      const capture = voice.capture;
      if (capture) capture.voicedMs = capture.frames.length * FRAME_MS; // whatever was held is the answer
      finishCapture(performance.now());
    }

    function sendNow() {
      if (voice.capture) finishCapture(voice.capture.lastVoicedAt || performance.now());
    }

    // Queue one sentence of the interviewer's voice (encoded audio) after those already queued.
    function play(data, utterance) {
      const generation = voice.generation;
      voice.decoding += 1;
      voice.decodeChain = voice.decodeChain
        .then(() => voice.ctx.decodeAudioData(data))
        .finally(() => {
          voice.decoding -= 1;
        })
        .then((buffer) => {
          if (generation !== voice.generation || voice.stopped.has(utterance)) return;
          const node = voice.ctx.createBufferSource();
          node.buffer = buffer;
          node.connect(voice.playGain);
          const at = Math.max(voice.ctx.currentTime + 0.02, voice.playEnd);
          voice.playEnd = at + buffer.duration;
          const entry = { node, utterance };
          voice.playing.add(entry);
          node.onended = () => {
            voice.playing.delete(entry);
            if (!isPlaying()) {
              state(voice.capture ? "hearing" : voice.listening ? "listening" : "idle");
              if (options.onIdle) options.onIdle();
            }
          };
          node.start(at);
          const startsAt = performance.now() + (at - voice.ctx.currentTime) * 1000;
          if (!voice.capture) state("speaking");
          if (options.onPlaying) options.onPlaying(startsAt, { utterance });
        })
        .catch(() => {
          // an undecodable sentence is skipped; its words are in the transcript
        });
    }

    function stopPlayback(utterance) {
      if (utterance === undefined) voice.generation += 1;
      else voice.stopped.add(utterance);
      for (const entry of [...voice.playing]) {
        if (utterance !== undefined && entry.utterance !== utterance) continue;
        voice.playing.delete(entry);
        try {
          entry.node.stop();
        } catch {
          // not started yet
        }
      }
      if (!isPlaying()) voice.playEnd = 0;
    }

    function newReply() {
      voice.stopped.clear(); // utterance numbers start again with each reply
    }

    // The recording, in parts: onPart(blob, mime) for each slice, in order.
    function startRecording(onPart) {
      const type = recorderType();
      if (!voice.recordDest || !window.MediaRecorder) return false;
      const recorder = new MediaRecorder(voice.recordDest.stream, {
        ...(type ? { mimeType: type } : {}),
        audioBitsPerSecond: 32000,
      });
      // `recorder`, not voice.recorder: the last part arrives after stopRecording() let go of it.
      recorder.ondataavailable = (event) => {
        if (event.data && event.data.size) onPart(event.data, recorder.mimeType || type || "audio/webm");
      };
      recorder.start(RECORD_SLICE_MS);
      voice.recorder = recorder;
      return true;
    }

    function stopRecording() {
      const recorder = voice.recorder;
      voice.recorder = null;
      if (!recorder || recorder.state === "inactive") return Promise.resolve();
      return new Promise((resolve) => {
        recorder.addEventListener("stop", () => resolve(), { once: true });
        recorder.stop(); // delivers the last part first
      });
    }

    function flushRecording() {
      if (voice.recorder && voice.recorder.state === "recording") voice.recorder.requestData();
    }

    async function stop() {
      listen(false);
      stopPlayback();
      await stopRecording();
      if (voice.stream) voice.stream.getTracks().forEach((t) => t.stop());
      if (voice.ctx) await voice.ctx.close();
      voice.ctx = voice.stream = null;
    }

    return {
      start,
      stop,
      listen,
      setMode,
      setSilence: (ms) => {
        voice.silenceMs = ms;
      },
      pushStart,
      pushEnd,
      sendNow,
      play,
      stopPlayback,
      newReply,
      isPlaying,
      isHearing: () => Boolean(voice.capture),
      startRecording,
      stopRecording,
      flushRecording,
    };
  }

  window.VivaVoice = { supported, create, encodeWav };
})();
