// Audio worklet of the candidate room's voice mode: hands the microphone's samples to the page
// in 20 ms frames (the browser calls process() with 128 samples at a time).
"use strict";

class VivaMic extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 50);
    this.frame = new Float32Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      let at = 0;
      while (at < channel.length) {
        const n = Math.min(channel.length - at, this.size - this.filled);
        this.frame.set(channel.subarray(at, at + n), this.filled);
        this.filled += n;
        at += n;
        if (this.filled === this.size) {
          this.port.postMessage(this.frame, [this.frame.buffer]);
          this.frame = new Float32Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true; // keep running while the microphone is connected
  }
}

registerProcessor("viva-mic", VivaMic);
