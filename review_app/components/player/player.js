/* Earshot call player: audio with the transcript in sync.
 *
 * A Streamlit component without a build step: it speaks Streamlit's iframe protocol itself
 * (componentReady / render / setComponentValue / setFrameHeight messages).
 *
 * An hour-long call has ~10k words. The transcript is rendered once per transcript as plain DOM,
 * clicks are handled by one delegated listener, and playback moves the highlight by a binary search
 * over word start times, touching at most two words and two utterances per animation frame.
 */
"use strict";
(function () {
  const LOW_CONFIDENCE = 0.5; // words the recogniser was unsure of get a dotted underline
  const WORD_GAP = 0.35; // keep a word lit this long after it ends, so short pauses do not flicker
  const UTTERANCE_GAP = 1.0;
  const SKIP_SECONDS = 5;
  const SEEK_REPORT_DELAY_MS = 600;
  const USER_SCROLL_PAUSE_MS = 5000;
  // Ask the page for a fresh audio link when this share of the current one's life has passed: early
  // enough for a background tab, whose timers may run a minute late.
  const LINK_REFRESH_AT = 0.8;

  const audio = document.getElementById("audio");
  const player = document.getElementById("player");
  const transcriptEl = document.getElementById("transcript");
  const strip = document.getElementById("strip");
  const legend = document.getElementById("legend");
  const clock = document.getElementById("clock");
  const statusEl = document.getElementById("status");
  const speedEl = document.getElementById("speed");
  const followEl = document.getElementById("follow");

  let shown = { key: null, url: null, seek: null, height: 0 };
  let duration = 0;
  let speakers = [];
  let utterances = [];
  let markers = [];
  let starts = new Float64Array(0);
  let ends = new Float64Array(0);
  let wordUtterance = new Int32Array(0);
  let utteranceStarts = new Float64Array(0);
  let utteranceEnds = new Float64Array(0);
  let wordEls = [];
  let utteranceEls = [];
  let activeWord = -1;
  let activeUtterance = -1;
  let pendingSeek = null;
  let frameRequest = 0;
  let reportCount = 0;
  let seekReportTimer = 0;
  let userScrollUntil = 0;
  let stripLayer = null;
  let lastClockText = "";
  let linkRefreshTimer = 0;
  let refreshAskedFor = null; // the audio URL a failed load already asked a fresh link for

  // --- Streamlit protocol ----------------------------------------------------------------------

  function post(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data || {}), "*");
  }

  function report(event) {
    reportCount += 1;
    post("streamlit:setComponentValue", {
      value: { t: Math.round(currentTime() * 1000) / 1000, event: event, n: reportCount },
      dataType: "json",
    });
  }

  window.addEventListener("message", function (event) {
    if (event.data && event.data.type === "streamlit:render") render(event.data.args || {});
  });

  // The comment box is in the page around this frame. When the coach starts writing, report where
  // playback is, so the comment is pinned at that moment, not where playback was last paused.
  let commentLabel = null;
  try {
    window.parent.document.addEventListener("focusin", function (event) {
      const box = event.target;
      if (commentLabel && box && box.tagName === "TEXTAREA" && box.getAttribute("aria-label") === commentLabel) {
        report("typing");
      }
    });
  } catch (error) {
    // A page served from another origin than this frame: comments keep the last reported position.
  }

  function render(args) {
    commentLabel = args.comment_label || null;
    const height = args.height || 620;
    if (height !== shown.height) {
      player.style.height = height + "px";
      post("streamlit:setFrameHeight", { height: height + 2 });
      shown.height = height;
      stripLayer = null;
    }
    duration = args.duration || 0;
    if (args.transcript_key !== shown.key) {
      speakers = args.speakers || [];
      utterances = args.utterances || [];
      buildTranscript();
      shown.key = args.transcript_key;
    }
    markers = args.markers || [];
    buildLegend();
    stripLayer = null;
    if (args.audio_url && args.audio_url !== shown.url) {
      statusEl.hidden = true;
      if (shown.url !== null) {
        // A fresh link to the same call: carry on where playback was, playing if it played.
        const wasPlaying = !audio.paused;
        pendingSeek = currentTime();
        audio.src = args.audio_url;
        if (wasPlaying) audio.play().catch(function () {});
      } else {
        audio.src = args.audio_url;
      }
      shown.url = args.audio_url;
    }
    // Links live minutes; a reviewer who only listens makes no rerun that would renew one.
    clearTimeout(linkRefreshTimer);
    const refreshIn = Math.max(1, (args.audio_seconds_left || 0) * LINK_REFRESH_AT);
    linkRefreshTimer = setTimeout(function () { report("refresh"); }, refreshIn * 1000);
    const seek = args.seek;
    if (seek && seek.n !== shown.seek) {
      shown.seek = seek.n;
      seekTo(seek.t, false);
    }
    drawStrip();
  }

  // --- transcript ------------------------------------------------------------------------------

  /** An element with the given class and text. Outside text (words, speaker names) only ever goes
   * into the page as textContent, never through innerHTML, so it cannot become markup. */
  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function formatTime(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h > 0 ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }

  function buildTranscript() {
    let wordCount = 0;
    for (const u of utterances) wordCount += u[3].length;
    starts = new Float64Array(wordCount);
    ends = new Float64Array(wordCount);
    wordUtterance = new Int32Array(wordCount);
    utteranceStarts = new Float64Array(utterances.length);
    utteranceEnds = new Float64Array(utterances.length);
    const rows = document.createDocumentFragment();
    let k = 0;
    utterances.forEach(function (u, i) {
      const speaker = speakers[u[0]] || { name: "?", color: "#6b7280" };
      utteranceStarts[i] = u[1];
      utteranceEnds[i] = u[2];
      const row = element("div", "utt");
      row.dataset.u = i;
      row.style.setProperty("--c", speaker.color);
      const meta = element("div", "meta");
      meta.dataset.t = u[1];
      const who = element("span", "who", speaker.name);
      who.title = speaker.title || speaker.name;
      const time = element("button", "ts", formatTime(u[1]));
      time.dataset.t = u[1];
      meta.append(who, time);
      const text = element("p", "text");
      if (u[3].length === 0) text.textContent = u[4] || "";
      for (const w of u[3]) {
        starts[k] = w[0];
        ends[k] = w[1];
        wordUtterance[k] = i;
        const low = w[3] < LOW_CONFIDENCE;
        const word = element("span", low ? "w low" : "w", w[2].trim());
        word.dataset.i = k;
        if (low) word.title = "Unsure: " + Math.round(w[3] * 100) + "% confidence";
        text.append(word, " ");
        k += 1;
      }
      row.append(meta, text);
      rows.append(row);
    });
    if (utterances.length) transcriptEl.replaceChildren(rows);
    else {
      transcriptEl.replaceChildren(
        element("div", "empty", "No transcript yet. The audio plays; the words appear here once the call is transcribed.")
      );
    }
    wordEls = Array.from(transcriptEl.querySelectorAll(".w"));
    utteranceEls = Array.from(transcriptEl.querySelectorAll(".utt"));
    activeWord = -1;
    activeUtterance = -1;
    highlight(audio.currentTime);
  }

  function buildLegend() {
    function swatched(color, label) {
      const entry = element("span");
      const swatch = element("span", "sw");
      swatch.style.background = color;
      entry.append(swatch, label);
      return entry;
    }
    const items = speakers.map(function (s) { return swatched(s.color, s.name); });
    const unsure = element("span");
    unsure.append(element("span", "low", "word"), " unsure (< " + Math.round(LOW_CONFIDENCE * 100) + "%)");
    items.push(unsure);
    if (markers.length) items.push(swatched("#e4572e", "comment"));
    legend.replaceChildren(...items);
  }

  /** The index of the last value <= t in a sorted array, or -1. */
  function lastAtOrBefore(values, t) {
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  function highlight(t) {
    let word = lastAtOrBefore(starts, t);
    if (word >= 0 && t > ends[word] + WORD_GAP) word = -1;
    if (word !== activeWord) {
      if (activeWord >= 0) wordEls[activeWord].classList.remove("active");
      if (word >= 0) wordEls[word].classList.add("active");
      activeWord = word;
      if (word >= 0) follow(wordEls[word]);
    }
    let utterance = lastAtOrBefore(utteranceStarts, t);
    if (utterance >= 0 && t > utteranceEnds[utterance] + UTTERANCE_GAP) utterance = -1;
    if (utterance !== activeUtterance) {
      if (activeUtterance >= 0) utteranceEls[activeUtterance].classList.remove("current");
      if (utterance >= 0) {
        utteranceEls[utterance].classList.add("current");
        follow(utteranceEls[utterance]);
      }
      activeUtterance = utterance;
    }
  }

  function follow(el) {
    if (!followEl.checked || Date.now() < userScrollUntil) return;
    const top = el.offsetTop;
    const bottom = top + el.offsetHeight;
    const viewTop = transcriptEl.scrollTop;
    const viewBottom = viewTop + transcriptEl.clientHeight;
    if (top < viewTop + 8 || bottom > viewBottom - 24) {
      transcriptEl.scrollTo({ top: Math.max(0, top - transcriptEl.clientHeight * 0.3), behavior: "smooth" });
    }
  }

  ["wheel", "touchmove"].forEach(function (name) {
    transcriptEl.addEventListener(name, function () { userScrollUntil = Date.now() + USER_SCROLL_PAUSE_MS; },
      { passive: true });
  });

  transcriptEl.addEventListener("click", function (event) {
    const word = event.target.closest(".w");
    if (word) {
      seekTo(starts[Number(word.dataset.i)], true);
      return;
    }
    const meta = event.target.closest("[data-t]");
    if (meta) seekTo(Number(meta.dataset.t), true);
  });

  // --- playback --------------------------------------------------------------------------------

  function totalDuration() {
    return duration || (isFinite(audio.duration) ? audio.duration : 0);
  }

  function seekTo(t, byUser) {
    const end = totalDuration();
    const target = Math.max(0, end ? Math.min(t, end) : t);
    if (audio.readyState >= 1) audio.currentTime = target;
    else pendingSeek = target;
    userScrollUntil = 0;
    highlight(target);
    drawStrip(target);
    updateClock(target);
    if (byUser) {
      clearTimeout(seekReportTimer);
      seekReportTimer = setTimeout(function () { report("seek"); }, SEEK_REPORT_DELAY_MS);
    }
  }

  function currentTime() {
    return pendingSeek !== null ? pendingSeek : audio.currentTime;
  }

  function updateClock(t) {
    const text = formatTime(t) + " / " + formatTime(totalDuration());
    if (text !== lastClockText) {
      clock.textContent = text;
      lastClockText = text;
    }
  }

  function onFrame() {
    const t = currentTime(); // while a fresh link loads, the place it will resume from
    highlight(t);
    drawStrip(t);
    updateClock(t);
    frameRequest = audio.paused ? 0 : requestAnimationFrame(onFrame);
  }

  audio.addEventListener("loadedmetadata", function () {
    if (pendingSeek !== null) {
      audio.currentTime = pendingSeek;
      pendingSeek = null;
    }
    stripLayer = null;
    drawStrip();
    updateClock(audio.currentTime);
  });
  audio.addEventListener("play", function () {
    player.classList.add("playing");
    if (!frameRequest) frameRequest = requestAnimationFrame(onFrame);
  });
  audio.addEventListener("pause", function () {
    player.classList.remove("playing");
    onFrame();
    report("pause");
  });
  audio.addEventListener("timeupdate", function () {
    if (audio.paused) onFrame();
  });
  audio.addEventListener("error", function () {
    statusEl.textContent = "The audio could not be loaded. Reopen the call; if it keeps failing, the recording may be missing.";
    statusEl.hidden = false;
    if (refreshAskedFor !== shown.url) {
      // Perhaps the link expired (a background tab's timers run late): ask once for a fresh one.
      refreshAskedFor = shown.url;
      report("refresh");
    }
  });

  function togglePlay() {
    if (audio.paused) audio.play().catch(function (error) {
      statusEl.textContent = "Playback did not start: " + error.message;
      statusEl.hidden = false;
    });
    else audio.pause();
  }

  document.getElementById("play").addEventListener("click", togglePlay);
  document.getElementById("back").addEventListener("click", function () { seekTo(currentTime() - SKIP_SECONDS, true); });
  document.getElementById("forward").addEventListener("click", function () { seekTo(currentTime() + SKIP_SECONDS, true); });
  speedEl.addEventListener("change", function () { audio.playbackRate = Number(speedEl.value); });
  followEl.addEventListener("change", function () {
    userScrollUntil = 0;
    if (activeWord >= 0) follow(wordEls[activeWord]);
  });
  player.addEventListener("keydown", function (event) {
    if (event.target.tagName === "SELECT" || event.target.tagName === "INPUT") return;
    if (event.key === " ") togglePlay();
    else if (event.key === "ArrowLeft") seekTo(currentTime() - SKIP_SECONDS, true);
    else if (event.key === "ArrowRight") seekTo(currentTime() + SKIP_SECONDS, true);
    else return;
    event.preventDefault();
  });

  // --- speaker timeline strip ------------------------------------------------------------------

  function drawStripLayer(width, height, ratio) {
    const layer = document.createElement("canvas");
    layer.width = width * ratio;
    layer.height = height * ratio;
    const ctx = layer.getContext("2d");
    ctx.scale(ratio, ratio);
    const end = totalDuration();
    const lanes = Math.max(1, speakers.length);
    const top = 8;
    const laneHeight = (height - top) / lanes;
    ctx.fillStyle = "#f1f3f6";
    ctx.fillRect(0, top, width, height - top);
    if (end > 0) {
      for (const u of utterances) {
        const speaker = speakers[u[0]];
        ctx.fillStyle = speaker ? speaker.color : "#6b7280";
        const x = (u[1] / end) * width;
        const w = Math.max(1, ((u[2] - u[1]) / end) * width);
        ctx.fillRect(x, top + u[0] * laneHeight + 2, w, laneHeight - 4);
      }
      ctx.fillStyle = "#e4572e";
      for (const marker of markers) {
        const x = (marker.t / end) * width;
        ctx.beginPath();
        ctx.moveTo(x - 5, 0);
        ctx.lineTo(x + 5, 0);
        ctx.lineTo(x, 7);
        ctx.closePath();
        ctx.fill();
        ctx.fillRect(x - 0.5, top, 1, height - top);
      }
    }
    return layer;
  }

  function drawStrip(at) {
    const ratio = window.devicePixelRatio || 1;
    const width = strip.clientWidth;
    const height = strip.clientHeight;
    if (!width || !height) return;
    if (strip.width !== Math.round(width * ratio) || strip.height !== Math.round(height * ratio)) {
      strip.width = Math.round(width * ratio);
      strip.height = Math.round(height * ratio);
      stripLayer = null;
    }
    if (!stripLayer) stripLayer = drawStripLayer(width, height, ratio);
    const ctx = strip.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, strip.width, strip.height);
    ctx.drawImage(stripLayer, 0, 0);
    const end = totalDuration();
    if (!end) return;
    const t = at === undefined ? currentTime() : at;
    const x = (t / end) * width * ratio;
    ctx.fillStyle = "rgba(31, 36, 48, 0.10)";
    ctx.fillRect(0, 8 * ratio, x, strip.height - 8 * ratio);
    ctx.fillStyle = "#1f2430";
    ctx.fillRect(x - ratio, 0, 2 * ratio, strip.height);
  }

  function stripTime(event) {
    const box = strip.getBoundingClientRect();
    return ((event.clientX - box.left) / box.width) * totalDuration();
  }

  strip.addEventListener("click", function (event) { seekTo(stripTime(event), true); });
  strip.addEventListener("mousemove", function (event) { strip.title = "Jump to " + formatTime(stripTime(event)); });
  window.addEventListener("resize", function () { stripLayer = null; drawStrip(); });

  post("streamlit:componentReady", { apiVersion: 1 });
})();
