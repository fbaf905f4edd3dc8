/* Earshot call player: audio with the transcript in sync.
 *
 * A Streamlit component without a build step: it speaks Streamlit's iframe protocol itself
 * (componentReady / render / setComponentValue / setFrameHeight messages).
 *
 * An hour-long call has ~10k words. The transcript is rendered once per transcript as plain DOM,
 * clicks are handled by one delegated listener, and playback moves the highlight by a binary search
 * over word start times, touching at most two words and two utterances per animation frame.
 *
 * Coaches drive it from the keyboard without clicking into it first: the frame is served from the
 * page's origin, so it listens on the page's window too, and lets go of it when the frame goes.
 */
"use strict";
(function () {
  const LOW_CONFIDENCE = 0.5; // words the recogniser was unsure of get a dotted underline
  const WORD_GAP = 0.35; // keep a word lit this long after it ends, so short pauses do not flicker
  const UTTERANCE_GAP = 1.0;
  const SKIP_SECONDS = 5; // the arrow keys and the ±5 buttons
  const SILENCE_LEAD_IN = 0.2; // land this long before the next words when skipping a silence
  const SEEK_REPORT_DELAY_MS = 600;
  const USER_SCROLL_PAUSE_MS = 5000;
  // Ask the page for a fresh audio link when this share of the current one's life has passed: early
  // enough for a background tab, whose timers may run a minute late.
  const LINK_REFRESH_AT = 0.8;

  const audio = document.getElementById("audio");
  const player = document.getElementById("player");
  const transcriptEl = document.getElementById("transcript");
  const strip = document.getElementById("strip");
  const lanesEl = document.getElementById("lanes");
  const playedEl = document.getElementById("played");
  const playheadEl = document.getElementById("playhead");
  const waveEl = document.getElementById("wave");
  const wavePlayedEl = document.getElementById("wave-played");
  const muteEl = document.getElementById("mute");
  const volumeEl = document.getElementById("volume");
  const skipEl = document.getElementById("skip");
  const keysEl = document.getElementById("keys");
  const legend = document.getElementById("legend");
  const clock = document.getElementById("clock");
  const statusEl = document.getElementById("status");
  const speedEl = document.getElementById("speed");
  const followEl = document.getElementById("follow");
  const speeds = Array.from(speedEl.options, function (option) { return Number(option.value); });

  // The page around this frame, where it is reachable (same origin); null where it is not.
  const host = (function () {
    try {
      return window.parent !== window && window.parent.document ? window.parent : null;
    } catch (error) {
      return null;
    }
  })();

  let shown = { key: null, url: null, seek: null, height: 0, lanes: null };
  let waveRows = []; // per row (a channel, or the mix): [lows, highs], a fixed number of buckets
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
  let jumpSeconds = 0; // J and L, as the page declares them
  let silenceOver = 0; // skip gaps between utterances longer than this many seconds
  let silences = []; // [from, to] pairs, in call order
  let silenceStarts = new Float64Array(0);
  let fit = { margin: 0, min: 0 };
  let lastClockText = "";
  let linkRefreshTimer = 0;
  let refreshAskedFor = null; // the audio URL a failed load already asked a fresh link for

  // --- theme -----------------------------------------------------------------------------------

  /** The app's light or dark theme, as Streamlit sends it with each render: the player's base
   * colours and font follow it, and player.css derives the rest (or picks its dark variant). */
  let shownTheme = "";
  function applyTheme(theme) {
    if (!theme) return;
    const key = JSON.stringify(theme);
    if (key === shownTheme) return;
    shownTheme = key;
    const root = document.documentElement;
    const values = {
      "--bg": theme.backgroundColor,
      "--panel": theme.secondaryBackgroundColor,
      "--text": theme.textColor,
      "--accent": theme.primaryColor,
      "--font": theme.font,
    };
    for (const [name, value] of Object.entries(values)) {
      if (value) root.style.setProperty(name, value);
      else root.style.removeProperty(name);
    }
    root.dataset.theme = theme.base === "dark" ? "dark" : "light";
    drawWave();
  }

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
    if (event.data && event.data.type === "streamlit:render") {
      applyTheme(event.data.theme);
      render(event.data.args || {});
    }
  });

  // The comment box is in the page around this frame. When the coach starts writing, report where
  // playback is, so the comment is pinned at that moment, not where playback was last paused.
  let commentLabel = null;

  function commentBox() {
    if (!host || !commentLabel) return null;
    for (const box of host.document.querySelectorAll("textarea")) {
      if (box.getAttribute("aria-label") === commentLabel) return box;
    }
    return null;
  }

  function onPageFocus(event) {
    if (!attached()) return detach();
    if (event.target === commentBox()) report("typing");
  }

  function onPageKey(event) {
    if (!attached()) return detach();
    shortcut(event, false);
  }

  function onPageResize() {
    if (!attached()) return detach();
    fitHeight();
  }

  /** Whether this frame is still in the page: a rerun that drops the player removes it. */
  function attached() {
    return Boolean(window.frameElement && window.frameElement.isConnected);
  }

  function detach() {
    if (!host) return;
    host.removeEventListener("keydown", onPageKey, true);
    host.removeEventListener("resize", onPageResize);
    host.document.removeEventListener("focusin", onPageFocus);
  }

  if (host) {
    // Capture on the window: the page's own key handlers (Streamlit's) must not see a shortcut too.
    host.addEventListener("keydown", onPageKey, true);
    host.addEventListener("resize", onPageResize);
    host.document.addEventListener("focusin", onPageFocus);
    window.addEventListener("pagehide", detach);
  }

  function render(args) {
    commentLabel = args.comment_label || null;
    jumpSeconds = args.jump_seconds || jumpSeconds;
    fit = { margin: args.fit_margin || 0, min: args.min_height || 0 };
    fitHeight(args.height);
    duration = args.duration || 0;
    if (args.transcript_key !== shown.key || args.skip_silences_over !== silenceOver) {
      if (args.transcript_key !== shown.key) {
        speakers = args.speakers || [];
        utterances = args.utterances || [];
        buildTranscript();
        shown.key = args.transcript_key;
      }
      silenceOver = args.skip_silences_over || 0;
      findSilences();
    }
    markers = args.markers || [];
    waveRows = (args.waveform && args.waveform.rows) || [];
    buildLegend();
    buildLanes();
    drawWave();
    buildKeys();
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
    movePlayhead(currentTime());
    // What is above the frame may still be laid out after this message: measure again then.
    if (host) host.requestAnimationFrame(function () { fitHeight(); });
  }

  /** A fixed height, else the rest of the window below the frame less ``fit.margin`` (what the page
   * shows under the player), so the transcript scrolls inside the player and the page need not. */
  let fixedHeight = 0;
  function fitHeight(requested) {
    if (requested !== undefined) fixedHeight = requested || 0;
    let height = fixedHeight;
    if (!height && host && attached()) {
      const frame = window.frameElement;
      const scroller = scrollingAncestor(frame);
      const view = scroller ? scroller.getBoundingClientRect() : { top: 0 };
      const top = frame.getBoundingClientRect().top - view.top + (scroller ? scroller.scrollTop : 0);
      const visible = scroller ? scroller.clientHeight : host.innerHeight;
      height = Math.max(fit.min, Math.floor(visible - top - fit.margin));
    }
    height = height || fit.min || 620;
    if (height !== shown.height) {
      player.style.height = height + "px";
      post("streamlit:setFrameHeight", { height: height + 2 });
      shown.height = height;
    }
  }

  function scrollingAncestor(el) {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const overflow = host.getComputedStyle(node).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && node.clientHeight > 0) return node;
    }
    return null;
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
    if (markers.length) items.push(swatched("var(--accent)", "comment"));
    legend.replaceChildren(...items);
  }

  /** One lane per speaker across the call's length, a block per utterance, comments as pins. */
  function buildLanes() {
    const end = totalDuration();
    const key = [shown.key, end, markers.map(function (m) { return m.t; }).join(",")].join("|");
    if (key === shown.lanes) return;
    shown.lanes = key;
    const lanes = speakers.map(function (s, i) {
      const lane = element("div", "lane");
      lane.dataset.speaker = i;
      lane.title = s.name;
      lane.style.setProperty("--c", s.color);
      return lane;
    });
    if (end > 0) {
      for (const u of utterances) {
        const lane = lanes[u[0]];
        if (!lane) continue;
        const turn = element("div", "turn");
        turn.style.left = percent(u[1], end);
        turn.style.width = percent(u[2] - u[1], end);
        lane.append(turn);
      }
    }
    const pins = end > 0 ? markers.map(function (marker) {
      const pin = element("div", "pin");
      pin.style.left = percent(marker.t, end);
      pin.title = formatTime(marker.t) + " " + marker.label;
      return pin;
    }) : [];
    lanesEl.replaceChildren(...lanes, ...pins);
  }

  function percent(value, whole) {
    return (Math.max(0, Math.min(1, value / whole)) * 100).toFixed(3) + "%";
  }

  function buildKeys() {
    const keys = [
      ["J", "\u2212" + jumpSeconds + " s"], ["K", "play/pause"], ["L", "+" + jumpSeconds + " s"],
      ["<", null], [">", "speed"], ["M", "mute"],
    ];
    if (commentLabel) keys.push(["C", "comment here"]);
    const parts = [];
    for (const [key, what] of keys) {
      parts.push(parts.length ? " " : "", element("kbd", "", key));
      if (what) parts.push("\u00a0" + what);
    }
    keysEl.replaceChildren(...parts);
  }

  /** The gaps in which nobody speaks longer than ``silenceOver``, overlapping turns merged. */
  function findSilences() {
    silences = [];
    let spokenUntil = 0;
    for (let i = 0; i < utterances.length; i++) {
      const start = utterances[i][1];
      if (silenceOver > 0 && start - spokenUntil > silenceOver) silences.push([spokenUntil, start]);
      spokenUntil = Math.max(spokenUntil, utterances[i][2]);
    }
    silenceStarts = Float64Array.from(silences, function (gap) { return gap[0]; });
    skipEl.disabled = silenceOver <= 0;
    skipEl.parentElement.title = silenceOver > 0
      ? "Jump over pauses longer than " + silenceOver + " s (" + silences.length + " in this call)"
      : "";
  }

  /** Past the silence playback is in, when skipping is on; true if it jumped. */
  function skipSilence(t) {
    if (!skipEl.checked || audio.paused) return false;
    const i = lastAtOrBefore(silenceStarts, t);
    if (i < 0) return false;
    const to = silences[i][1] - SILENCE_LEAD_IN;
    if (t >= to) return false;
    audio.currentTime = to;
    return true;
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
    movePlayhead(target);
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
    if (pendingSeek === null && skipSilence(audio.currentTime)) return onFrame();
    const t = currentTime(); // while a fresh link loads, the place it will resume from
    highlight(t);
    movePlayhead(t);
    updateClock(t);
    frameRequest = audio.paused ? 0 : requestAnimationFrame(onFrame);
  }

  audio.addEventListener("loadedmetadata", function () {
    if (pendingSeek !== null) {
      audio.currentTime = pendingSeek;
      pendingSeek = null;
    }
    buildLanes();
    movePlayhead(audio.currentTime);
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
    // Playing, animation frames draw; a background tab gets none, but silences are still skipped.
    if (audio.paused || document.hidden) onFrame();
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

  function setSpeed(rate) {
    speedEl.value = String(rate);
    // The default rate too: a fresh audio link (a new src) resets the rate to it.
    audio.defaultPlaybackRate = rate;
    audio.playbackRate = rate;
  }

  function stepSpeed(steps) {
    const now = speeds.indexOf(Number(speedEl.value));
    setSpeed(speeds[Math.max(0, Math.min(speeds.length - 1, now + steps))]);
  }

  function toggleMute() {
    audio.muted = !audio.muted;
    if (!audio.muted && audio.volume === 0) audio.volume = 1; // muted by sliding to 0: back to full
  }

  /** Move to the page's comment box, showing its tab if another tab is open; the box's focus
   * reports the position, which pins the comment here. */
  function commentHere() {
    const box = commentBox();
    if (!box) return false;
    if (!box.getClientRects().length) {
      // In a tab not shown: Streamlit keeps hidden panels (stTabPanel) in the tabs' order.
      const panel = box.closest("[data-testid='stTabPanel']");
      const tabs = panel && panel.closest("[data-testid='stTabs']");
      if (tabs) {
        const panels = Array.from(tabs.querySelectorAll("[data-testid='stTabPanel']")).filter(function (p) {
          return p.closest("[data-testid='stTabs']") === tabs;
        });
        const tab = tabs.querySelectorAll("[role='tab']")[panels.indexOf(panel)];
        if (tab) tab.click();
      }
      host.requestAnimationFrame(function () { box.focus(); });
    } else {
      box.focus();
    }
    return true;
  }

  /** Text the user types into: a shortcut there would eat a letter. */
  function typedInto(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
    return target.tagName === "INPUT" && !["checkbox", "radio", "range", "button", "submit"].includes(target.type);
  }

  /** A key pressed on the page (``inFrame`` false) or in the player. Space and the arrows act only in
   * the player: on the page they scroll it. */
  function shortcut(event, inFrame) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typedInto(event.target)) return;
    let key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    // Shift with the keys that carry < and > on a US keyboard, whatever the layout makes of them.
    if (event.shiftKey && event.code === "Period") key = ">";
    if (event.shiftKey && event.code === "Comma") key = "<";
    const control = inFrame && event.target.tagName === "INPUT";
    if (key === "j") seekTo(currentTime() - jumpSeconds, true);
    else if (key === "k") togglePlay();
    else if (key === "l") seekTo(currentTime() + jumpSeconds, true);
    else if (key === ">") stepSpeed(1);
    else if (key === "<") stepSpeed(-1);
    else if (key === "m") toggleMute();
    else if (key === "c") {
      if (!commentHere()) return; // no comment box on this page (a role that cannot comment)
    }
    else if (inFrame && !control && key === " ") togglePlay();
    else if (inFrame && !control && key === "ArrowLeft") seekTo(currentTime() - SKIP_SECONDS, true);
    else if (inFrame && !control && key === "ArrowRight") seekTo(currentTime() + SKIP_SECONDS, true);
    else return;
    event.preventDefault();
    event.stopPropagation();
  }

  document.getElementById("play").addEventListener("click", togglePlay);
  document.getElementById("back").addEventListener("click", function () { seekTo(currentTime() - SKIP_SECONDS, true); });
  document.getElementById("forward").addEventListener("click", function () { seekTo(currentTime() + SKIP_SECONDS, true); });
  speedEl.addEventListener("change", function () { setSpeed(Number(speedEl.value)); });
  muteEl.addEventListener("click", toggleMute);
  volumeEl.addEventListener("input", function () {
    audio.volume = Number(volumeEl.value);
    audio.muted = audio.volume === 0;
  });
  audio.addEventListener("volumechange", function () {
    player.classList.toggle("muted", audio.muted);
    muteEl.setAttribute("aria-pressed", String(audio.muted));
    muteEl.setAttribute("aria-label", audio.muted ? "Unmute" : "Mute");
    muteEl.title = (audio.muted ? "Unmute" : "Mute") + " (M)";
    volumeEl.value = String(audio.muted ? 0 : audio.volume);
  });
  skipEl.addEventListener("change", function () { if (!audio.paused) onFrame(); });
  followEl.addEventListener("change", function () {
    userScrollUntil = 0;
    if (activeWord >= 0) follow(wordEls[activeWord]);
  });
  document.addEventListener("keydown", function (event) { shortcut(event, true); });

  // --- waveform --------------------------------------------------------------------------------

  /** The server's peaks over the strip's width: one row drawn about the centre line, two rows (the
   * two sides of a stereo call) as the first above it and the second below. Drawn twice, in the
   * waveform's colour and in the played colour; the played overlay shows the second up to the
   * playhead. Heights are relative to the call's loudest bucket, so a quiet line still shows. */
  function drawWave() {
    const hidden = waveRows.length === 0;
    waveEl.hidden = hidden;
    wavePlayedEl.hidden = hidden;
    if (hidden) return;
    const width = strip.clientWidth;
    const height = waveEl.clientHeight;
    if (!width || !height) return;
    const buckets = waveRows[0][0].length;
    let loudest = 0;
    for (const [lows, highs] of waveRows) {
      for (let i = 0; i < buckets; i++) loudest = Math.max(loudest, highs[i], -lows[i]);
    }
    const gain = loudest > 0 ? 1 / loudest : 0;
    const ratio = window.devicePixelRatio || 1;
    const mid = height / 2;
    const step = width / buckets;
    for (const canvas of [waveEl, wavePlayedEl]) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
      const context = canvas.getContext("2d");
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.fillStyle = getComputedStyle(canvas).color;
      for (let i = 0; i < buckets; i++) {
        const x = i * step;
        const w = Math.max(step - (step > 2 ? 0.5 : 0), 0.5);
        if (waveRows.length === 1) {
          const top = mid - waveRows[0][1][i] * gain * mid;
          const bottom = mid - waveRows[0][0][i] * gain * mid;
          context.fillRect(x, top, w, Math.max(1, bottom - top));
        } else {
          const up = Math.max(waveRows[0][1][i], -waveRows[0][0][i]) * gain * mid;
          const down = Math.max(waveRows[1][1][i], -waveRows[1][0][i]) * gain * mid;
          context.fillRect(x, mid - Math.max(0.5, up), w, Math.max(0.5, up) + Math.max(0.5, down));
        }
      }
    }
    waveEl.dataset.buckets = String(buckets);
    waveEl.dataset.rows = String(waveRows.length);
  }

  if (window.ResizeObserver) new ResizeObserver(function () { drawWave(); }).observe(strip);

  // --- speaker lanes ---------------------------------------------------------------------------

  let lastPlayhead = "";
  function movePlayhead(t) {
    const end = totalDuration();
    const at = end ? percent(t, end) : "0%";
    if (at === lastPlayhead) return;
    lastPlayhead = at;
    playheadEl.style.left = at;
    playedEl.style.width = at;
  }

  function stripTime(event) {
    const box = strip.getBoundingClientRect();
    return ((event.clientX - box.left) / box.width) * totalDuration();
  }

  strip.addEventListener("click", function (event) { seekTo(stripTime(event), true); });
  strip.addEventListener("mousemove", function (event) { strip.title = "Jump to " + formatTime(stripTime(event)); });

  post("streamlit:componentReady", { apiVersion: 1 });
})();
