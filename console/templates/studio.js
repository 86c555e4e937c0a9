// The recording studio: print the script sheet; record a take with the microphone (MediaRecorder) and
// send it through the page's upload form, so that the server checks it exactly as an uploaded file.
"use strict";
(function () {
  const printButton = document.querySelector("[data-print]");
  if (printButton) printButton.addEventListener("click", () => window.print());

  const start = document.getElementById("rec-start");
  const stop = document.getElementById("rec-stop");
  const state = document.getElementById("rec-state");
  const form = document.getElementById("take-form");
  if (!start || !stop || !state || !form) return;
  if (!navigator.mediaDevices || !window.MediaRecorder || !window.DataTransfer) {
    state.textContent = "Trình duyệt này không ghi âm được: hãy tải tệp lên.";
    start.disabled = true;
    return;
  }
  const maxMs = Number(start.dataset.maxSeconds || 60) * 1000;
  let recorder = null;
  let stream = null;
  let parts = [];
  let limit = null;

  function send() {
    const type = recorder.mimeType || "audio/webm";
    const blob = new Blob(parts, { type: type });
    const file = new File([blob], type.includes("ogg") ? "ghi-am.ogg" : "ghi-am.webm", { type: type });
    const transfer = new DataTransfer();
    transfer.items.add(file);
    form.elements.file.files = transfer.files;
    form.elements.source.value = "browser";
    state.textContent = "Đang kiểm tra bản ghi...";
    form.submit();
  }

  // The microphone is asked for only when the operator presses the button (a user action).
  start.addEventListener("click", async () => {
    try {
      // Raw sound: the browser's noise suppression and gain would hide what the checks look for.
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (err) {
      state.textContent = "Chưa dùng được micro. Hãy cho phép trình duyệt dùng micro rồi bấm lại.";
      return;
    }
    parts = [];
    const types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"];
    const type = types.find((t) => MediaRecorder.isTypeSupported(t));
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.addEventListener("dataavailable", (e) => { if (e.data.size) parts.push(e.data); });
    recorder.addEventListener("stop", send);
    recorder.start(250);
    start.disabled = true;
    stop.disabled = false;
    state.textContent = "Đang ghi... Đọc câu trên, xong thì bấm “Dừng và kiểm tra”.";
    limit = setTimeout(() => stop.click(), maxMs);
  });

  stop.addEventListener("click", () => {
    if (!recorder || recorder.state === "inactive") return;
    clearTimeout(limit);
    recorder.stop();
    stream.getTracks().forEach((t) => t.stop());
    stop.disabled = true;
  });
})();
