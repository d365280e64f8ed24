// producer's web page: calls the HTTP API of producer/serving/api.py and shows what it answers.
// Plain JavaScript, no build step and no network beyond this server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // The colours of producer/pipeline/report_plot.py, so a stem looks the same here and in the picture.
  const ROLE_COLOURS = {
    drums: "#d04a02", bass: "#3b6ea5", melody: "#2a9d4b",
    harmony: "#8e5ac8", vocals: "#c2327a", other: "#7a7a7a",
  };
  const BAND_SPAN_DB = 18; // a bar reaching the edge of its track is this far off the reference

  let current = null; // the result on show (the API's ProductionBody)
  let busyTimer = null;

  // ---------------------------------------------------------------- helpers

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "style") node.style.cssText = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child != null) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function fixed(value, digits, unit = "") {
    return value == null || Number.isNaN(value) ? "–" : `${Number(value).toFixed(digits)}${unit}`;
  }

  function signed(value, digits, unit = "") {
    return (value > 0 ? "+" : "") + fixed(value, digits, unit);
  }

  function facts(dl, rows) {
    dl.replaceChildren();
    for (const [term, value] of rows) {
      dl.append(el("dt", {}, term), el("dd", {}, value));
    }
  }

  function showError(message) {
    const line = $("error");
    line.textContent = message;
    line.hidden = !message;
  }

  function setBusy(text) {
    const working = Boolean(text);
    for (const button of document.querySelectorAll("button")) button.disabled = working;
    $("busy").hidden = !working;
    clearInterval(busyTimer);
    busyTimer = null;
    document.body.setAttribute("aria-busy", String(working));
    if (!working) return;
    const started = performance.now();
    const tick = () => {
      const seconds = Math.floor((performance.now() - started) / 1000);
      $("busy-text").textContent = `${text} ${seconds} s`;
    };
    tick();
    busyTimer = setInterval(tick, 500);
  }

  // One API call: the parsed JSON body, or an Error carrying the server's one-line message.
  async function call(url, options) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new Error(`Could not reach the server (${err.message}).`);
    }
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null; // e.g. a proxy's plain-text 503
    }
    if (response.ok && body) return body;
    const info = body && body.error;
    let message = info
      ? `${info.message} (${response.status} ${info.type})`
      : `${response.status} ${response.statusText || "error"}${text ? `: ${text.slice(0, 200)}` : ""}`;
    const retry = response.headers.get("Retry-After");
    if (retry) message += ` Try again in ${retry} s.`;
    const error = new Error(message);
    error.detail = body && body.detail;
    throw error;
  }

  // ---------------------------------------------------------------- server limits

  async function checkHealth() {
    const health = $("health");
    try {
      const body = await call("/healthz");
      const limits = body.limits || {};
      if (limits.max_duration_s) $("duration").max = limits.max_duration_s;
      if (limits.max_candidates) $("candidates").max = limits.max_candidates;
      if (limits.max_prompt_chars) $("prompt").maxLength = limits.max_prompt_chars;
      health.textContent =
        `server ready · ${body.sample_rate / 1000} kHz · up to ${limits.max_duration_s} s per beat`;
      health.className = "health ok";
    } catch (err) {
      health.textContent = `server not ready: ${err.message}`;
      health.className = "health down";
    }
  }

  // ---------------------------------------------------------------- showing a result

  function showPlan(plan) {
    facts($("plan"), [
      ["style", plan.style + (plan.mood && plan.mood.length ? ` (${plan.mood.join(", ")})` : "")],
      ["tempo", `${plan.bpm} bpm`],
      ["key", `${plan.key} ${plan.mode}`],
      ["length", `${plan.duration} s`],
      ["target", `${plan.target_lufs} LUFS`],
      ["stems", plan.stems.map((s) => `${s.role} (${s.source === "input" ? "kept" : "generate"})`).join(", ")],
    ]);
  }

  function showQuality(q) {
    facts($("quality"), [
      ["learned score", q.score == null ? "–" : `${fixed(q.score, 2)} / 1`],
      ["loudness", fixed(q.integrated_lufs, 1, " LUFS")],
      ["true peak", fixed(q.true_peak_dbtp, 1, " dBTP")],
      ["loudness range", fixed(q.loudness_range_lu, 1, " LU")],
      ["crest factor", fixed(q.crest_factor_db, 1, " dB")],
      ["stereo correlation", fixed(q.stereo_correlation, 2)],
      ["stereo width", fixed(q.stereo_width, 2)],
      ["clipped samples", String(q.clipped_samples)],
      ["DC offset", fixed(q.dc_offset, 4)],
    ]);
    $("findings").replaceChildren(...(q.findings || []).map((f) => el("li", {}, f)));
    showBands(q.bands || []);
  }

  // The mix critic's verdict (null when it could not hear the mix) and the prompt's mix words.
  function showCritic(mix, descriptors) {
    const line = $("critic");
    if (!mix) {
      line.textContent = "not measured: the script does not mix stem by stem";
      line.className = "critic";
      $("critic-findings").replaceChildren();
    } else {
      const style = mix.style ? ` against the ${mix.style} targets` : "";
      line.textContent =
        `basics ${mix.passes_basics ? "pass" : "fail"} · score ${fixed(mix.score, 2)} / 1${style}`;
      line.className = mix.passes_basics ? "critic pass" : "critic fail";
      const found = mix.findings && mix.findings.length ? mix.findings : ["nothing to fix"];
      $("critic-findings").replaceChildren(...found.map((f) => el("li", {}, f)));
      $("critic-findings").className = mix.findings && mix.findings.length ? "findings" : "findings clean";
    }
    const words = (descriptors || []).map((d) => `${d.words.join(", ")} → ${d.change}`);
    $("descriptors").textContent = words.length ? `Mix words: ${words.join("; ")}` : "";
  }

  function showBands(bands) {
    const box = $("bands");
    box.replaceChildren();
    for (const band of bands) {
      const dev = Math.max(-BAND_SPAN_DB, Math.min(BAND_SPAN_DB, band.deviation_db));
      const width = (Math.abs(dev) / BAND_SPAN_DB) * 50;
      const left = dev >= 0 ? 50 : 50 - width;
      const bar = el("div", {
        class: Math.abs(band.deviation_db) > 6 ? "band-bar off" : "band-bar",
        style: `left:${left}%;width:${width}%`,
      });
      box.append(
        el("span", { title: `${Math.round(band.low_hz)}–${Math.round(band.high_hz)} Hz` },
          band.name.replace("_", "-")),
        el("div", { class: "band-track" }, el("div", { class: "centre" }), bar),
        el("span", { class: "band-value" }, signed(band.deviation_db, 1, " dB")),
      );
    }
  }

  function showStems(stems) {
    $("stems").replaceChildren(...stems.map((stem) => {
      const colour = ROLE_COLOURS[stem.role] || "#7a7a7a";
      const what = stem.source === "input"
        ? "kept from your song"
        : `${stem.generator} · ${stem.events} events`;
      return el("li", { "data-role": stem.role },
        el("div", { class: "role" },
          el("span", { class: "swatch", style: `background:${colour}` }), stem.role,
          el("small", {}, what)),
        el("audio", { controls: "", preload: "metadata", src: stem.url, "aria-label": `${stem.role} stem` }),
        el("a", { class: "button", href: stem.url, download: `${stem.role}.wav` }, "Download"),
      );
    }));
  }

  function showCandidates(candidates) {
    $("candidates-table").replaceChildren(...candidates.map((c, i) => el("tr", {},
      el("td", {}, c.chosen ? "✓" : ""),
      el("td", {}, fixed(c.total, 3)),
      el("td", {}, fixed(c.score, 3)),
      el("td", { title: (c.critic_findings || []).join("\n") },
        c.critic_score == null
          ? "–"
          : `${fixed(c.critic_score, 2)} (basics ${c.passes_basics ? "pass" : "fail"})`),
      el("td", {}, c.source === "model" || c.source == null ? fixed(c.logprob, 2) : c.source),
      el("td", {}, c.findings.length ? c.findings.join("; ") : "none"),
      el("td", {}, el("button", {
        type: "button",
        "aria-label": `Load candidate ${i + 1} into the editor`,
        onclick: () => { $("script").value = c.script; $("script").focus(); },
      }, "Edit")),
    )));
  }

  function show(body) {
    current = body;
    const master = $("master");
    master.src = body.master_url;
    master.load();
    $("master-download").href = body.master_url;
    const total = body.timings_s && body.timings_s.total;
    $("result-meta").textContent =
      `${body.duration_s} s at ${body.sample_rate / 1000} kHz · made in ${fixed(total, 1, " s")}` +
      (body.parent_id ? " · re-rendered from your script" : "") + ` · result ${body.id}`;
    showPlan(body.plan);
    showQuality(body.quality);
    showCritic(body.mix, body.descriptors);
    showStems(body.stems);
    showCandidates(body.candidates);
    $("script").value = body.script;
    const plot = `/v1/results/${body.id}/plot.png`;
    $("plot").src = plot;
    $("plot-link").href = plot;
    $("result").hidden = false;
  }

  // ---------------------------------------------------------------- actions

  async function produce(event) {
    event.preventDefault();
    showError("");
    const prompt = $("prompt").value;
    if (!prompt.trim()) {
      showError("Say what to make: the prompt is empty.");
      $("prompt").focus();
      return;
    }
    const form = new FormData();
    form.append("prompt", prompt);
    for (const name of ["duration", "seed", "candidates"]) {
      const value = $(name).value.trim();
      if (value) form.append(name, value);
    }
    const file = $("audio").files[0];
    if (file) {
      form.append("audio", file, file.name);
      if ($("input-role").value) form.append("input_role", $("input-role").value);
    }
    setBusy(file ? "Separating, planning, generating, mixing…" : "Planning, generating, mixing…");
    try {
      show(await call("/v1/produce", { method: "POST", body: form }));
    } catch (err) {
      showError(err.message);
    } finally {
      setBusy("");
    }
  }

  async function rerender() {
    if (!current) return;
    showError("");
    const editor = $("script");
    setBusy("Rendering your mix…");
    try {
      show(await call("/v1/render", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ result_id: current.id, script: editor.value }),
      }));
    } catch (err) {
      showError(err.message);
      if (err.detail && err.detail.line) selectLine(editor, err.detail.line);
    } finally {
      setBusy("");
    }
  }

  // Put the cursor on the line the validator named (1-based), so the fix starts there.
  function selectLine(textarea, line) {
    const lines = textarea.value.split("\n");
    const index = Math.min(Math.max(line, 1), lines.length) - 1;
    const start = lines.slice(0, index).reduce((n, l) => n + l.length + 1, 0);
    textarea.focus();
    textarea.setSelectionRange(start, start + lines[index].length);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("produce-form").addEventListener("submit", produce);
    $("rerender").addEventListener("click", rerender);
    $("reset-script").addEventListener("click", () => {
      if (current) $("script").value = current.script;
    });
    $("script").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (!$("rerender").disabled) rerender();
      }
    });
    // The error line stays until the next action, a click on it, or Escape.
    $("error").addEventListener("click", () => showError(""));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") showError("");
    });
    checkHealth();
  });
})();
