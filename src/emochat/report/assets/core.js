/* emochat interactive report: renders report.json (embedded below) as synchronised
 * timelines. Plain ES2017, no dependencies, no network. Every panel is drawn only
 * when the report holds its data, so absent blocks give absent panels.
 *
 * This core draws what every report has (the player, the answer and its explanation,
 * the time axis, the fused and per-modality emotion lanes, valence/arousal, the segment
 * table) and loops over the modalities registered by the lane files (lanes/<modality>.js,
 * inlined after it): each adds its own lanes, page sections and table columns through
 * window.emochat.registerModality. report.html calls window.emochat.boot() last. */
(function () {
  'use strict';

  var R = JSON.parse(document.getElementById('emochat-report').textContent || '{}');
  var X = JSON.parse(document.getElementById('emochat-extra').textContent || '{}');
  var NS = 'http://www.w3.org/2000/svg';
  var GUTTER = 150;
  var PAD_R = 14;
  var LABEL_ORDER = ['neutral', 'calm', 'happy', 'surprise', 'sad', 'fear', 'angry', 'disgust', 'contempt'];
  var COLORS = {
    neutral: '#a3a9b1', calm: '#7cc3b8', happy: '#f0b323', surprise: '#f57c20', sad: '#3f73c4',
    fear: '#8e5bb5', angry: '#d8412f', disgust: '#3d9a5b', contempt: '#8d6e63'
  };
  var SPARE = ['#00897b', '#c2185b', '#5d4037', '#0277bd', '#afb42b', '#6a1b9a', '#ef6c00', '#455a64'];
  var RAMP = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];

  var media = R.media || {};
  var segments = Array.isArray(R.segments) ? R.segments : [];
  // one lane per person when a speaker analysis ran (schema 2.3); listener segments (the
  // same window as an utterance, another face) are drawn in their person's lane only
  var speakers = Array.isArray(R.speakers) ? R.speakers : [];
  function listening(seg) { return seg.role === 'listening'; }
  var thumbs = X.thumbnails || {};

  var state = { t: 0, band: null, cite: null, lanes: [], player: null, words: [], rows: [] };

  // ---------------------------------------------------------------- helpers
  function num(v) { return typeof v === 'number' && isFinite(v); }
  function clamp(v, a, b) { return Math.max(a, Math.min(b, v)); }
  function setAttrs(e, a) {
    if (!a) return;
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') e.textContent = String(v);
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, String(v));
    });
  }
  function add(e, kids) {
    if (kids === null || kids === undefined || kids === false) return e;
    if (!Array.isArray(kids)) kids = [kids];
    kids.forEach(function (k) {
      if (k === null || k === undefined || k === false) return;
      e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
    });
    return e;
  }
  function h(tag, attrs, kids) { var e = document.createElement(tag); setAttrs(e, attrs); return add(e, kids); }
  function s(tag, attrs, kids) { var e = document.createElementNS(NS, tag); setAttrs(e, attrs); return add(e, kids); }
  function fmtT(t) {
    if (!num(t)) return '–';
    if (t < 60) return t.toFixed(2) + ' s';
    var m = Math.floor(t / 60);
    var r = t - 60 * m;
    return m + ':' + (r < 10 ? '0' : '') + r.toFixed(1);
  }
  function fmtSpan(a, b) { return fmtT(a) + ' – ' + fmtT(b); }
  function pct(p) { return num(p) ? Math.round(p * 100) + '%' : '–'; }
  var spareIdx = {};
  function colorOf(label) {
    if (COLORS[label]) return COLORS[label];
    if (!(label in spareIdx)) spareIdx[label] = Object.keys(spareIdx).length % SPARE.length;
    return SPARE[spareIdx[label]];
  }
  function sortedLabels(probs) {
    return Object.keys(probs || {}).sort(function (a, b) {
      var ia = LABEL_ORDER.indexOf(a);
      var ib = LABEL_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : 1);
    });
  }
  function ramp(v) {
    v = clamp(v, 0, 1);
    var p = Math.pow(v, 0.75) * (RAMP.length - 1);
    var i = Math.min(Math.floor(p), RAMP.length - 2);
    var f = p - i;
    var c = RAMP[i].map(function (x, k) { return Math.round(x + (RAMP[i + 1][k] - x) * f); });
    return 'rgb(' + c.join(',') + ')';
  }
  function emotionOf(obj) {
    if (!obj || typeof obj !== 'object') return null;
    if (obj.emotion && obj.emotion.probs) return obj.emotion;
    if (obj.label && obj.probs) return obj;
    return null;
  }
  function segSpan(seg) {
    if (photo) {
      var k = segments.indexOf(seg);
      return [k, k + 1];
    }
    var a = num(seg.start_s) ? seg.start_s : 0;
    var b = num(seg.end_s) ? seg.end_s : a;
    return [a, b > a ? b : a + Math.max(D * 0.02, 0.04)];
  }


  // ------------------------------------------------------------- modalities
  var modalities = [];
  /* A modality's lanes, in the order the lane files register (the report's evidence order):
   *   modality  its key in segment.evidence (its emotion lane and legend come from there)
   *   extent()  optional: the last time (s) it holds data at, so the timeline covers it
   *   lanes()   optional: its timeline lanes after valence/arousal ({name, height, draw, hover})
   *   sections() optional: page sections after the timeline
   *   columns   optional: segment-table columns {title, lead?, show(), cell(seg, i)}; lead
   *             columns come before the emotion column */
  function registerModality(spec) { modalities.push(spec); }

  var D = 1;
  var photo = false;
  function measureTime() {
    D = num(media.duration_s) ? media.duration_s : 0;
    segments.forEach(function (seg) { if (num(seg.end_s)) D = Math.max(D, seg.end_s); });
    modalities.forEach(function (m) { if (m.extent) D = Math.max(D, m.extent()); });
    if (!(D > 0)) D = 1;
    // a photo has no time: its segments (one per face) are laid side by side instead
    photo = !!media.is_image;
    if (photo) D = Math.max(1, segments.length);
    api.D = D;
    api.photo = photo;
  }

  // ---------------------------------------------------------------- geometry
  var timelineEl = null;
  function plotW() { return Math.max(120, (timelineEl ? timelineEl.clientWidth : 900) - GUTTER - PAD_R); }
  function xOf(t) { return GUTTER + clamp(t / D, 0, 1) * plotW(); }
  function tOf(px) { return clamp((px - GUTTER) / plotW() * D, 0, D); }

  var tip = document.getElementById('tip');
  function showTip(ev, text) {
    if (!text) { tip.style.display = 'none'; return; }
    tip.textContent = text;
    tip.style.display = 'block';
    var x = ev.clientX + 14;
    var y = ev.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = ev.clientX - r.width - 10;
    if (y + r.height > window.innerHeight - 8) y = ev.clientY - r.height - 10;
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.style.display = 'none'; }

  // -------------------------------------------------------------- seeking
  function seek(t, band) {
    t = clamp(num(t) ? t : 0, 0, D);
    state.t = t;
    var p = state.player;
    if (p && p.readyState >= 1 && num(p.duration)) {
      try { p.currentTime = Math.min(t, p.duration); } catch (e) { /* not seekable yet */ }
    } else if (p) {
      state.pendingSeek = t;
    }
    if (band !== undefined) setBand(band);
    syncCursor();
  }
  function setBand(band) {
    state.band = band;
    var el = document.getElementById('band');
    if (!el) return;
    if (!band) { el.style.display = 'none'; return; }
    var x0 = xOf(band[0]);
    var x1 = Math.max(xOf(band[1]), x0 + 2);
    el.style.left = x0 + 'px';
    el.style.width = (x1 - x0) + 'px';
    el.style.display = 'block';
  }
  function syncCursor() {
    var c = document.getElementById('cursor');
    if (c) { c.style.left = xOf(state.t) + 'px'; c.style.display = photo ? 'none' : 'block'; }
    var clock = document.getElementById('clock');
    if (clock) clock.textContent = fmtT(state.t);
    // current word and segment
    state.words.forEach(function (it) {
      var on = state.t >= it.w.start_s && state.t < it.w.end_s;
      if (on !== it.on) { it.on = on; it.el.classList.toggle('now', on); }
    });
    state.rows.forEach(function (it) {
      var on = state.t >= it.a && state.t < it.b;
      if (on !== it.on) { it.on = on; it.els.forEach(function (e) { e.classList.toggle('now', on); }); }
    });
  }
  function timeLink(a, b, text, extra) {
    return h('button', {
      class: 't', type: 'button', title: 'show ' + fmtSpan(a, num(b) ? b : a),
      onclick: function () { seek(a, num(b) ? [a, b] : null); if (extra) extra(); }
    }, text);
  }

  // ------------------------------------------------------------------ header
  function header() {
    var name = String(media.path || 'media').split(/[\\/]/).pop();
    var bits = [fmtT(media.duration_s)];
    if (media.width) bits.push(media.width + '×' + media.height);
    if (num(media.fps)) bits.push(media.fps.toFixed(media.fps % 1 ? 2 : 0) + ' fps');
    bits.push(media.has_audio ? 'audio' : 'no audio');
    if (media.is_image) bits.push('photo');
    var meta = bits.join(' · ') + ' · emochat ' + (R.emochat_version || '') + (R.created_at ? ' · ' + R.created_at : '');
    return h('header', null, [
      h('h1', { text: name }),
      h('div', { class: 'meta', text: meta }),
      h('div', null, (R.stages || []).map(function (st) { return h('span', { class: 'chip', text: st }); }))
    ]);
  }

  // ------------------------------------------------------------------ player
  function player() {
    var box = h('div', { class: 'player card' });
    var src = X.video_src;
    var note = h('div', { class: 'note' });
    if (!src) {
      add(note, 'The media file is not linked from this report.');
      return add(box, note);
    }
    var el;
    if (media.is_image) {
      el = h('img', { src: src, alt: 'analysed photo' });
    } else if (media.has_video === false && media.has_audio) {
      el = h('audio', { src: src, controls: 'controls', preload: 'metadata' });
    } else {
      el = h('video', { src: src, controls: 'controls', preload: 'metadata', playsinline: 'playsinline' });
    }
    el.addEventListener('error', function () {
      el.style.display = 'none';
      note.textContent = 'Media not found: put ' + src + ' next to this report.html to play it in sync.';
    });
    if (el.tagName !== 'IMG') {
      state.player = el;
      el.addEventListener('loadedmetadata', function () {
        if (num(state.pendingSeek)) { var t = state.pendingSeek; state.pendingSeek = null; seek(t); }
      });
      el.addEventListener('timeupdate', function () { state.t = el.currentTime; syncCursor(); });
      el.addEventListener('seeked', function () { state.t = el.currentTime; syncCursor(); });
      el.addEventListener('play', function loop() {
        if (el.paused || el.ended) return;
        state.t = el.currentTime;
        syncCursor();
        window.requestAnimationFrame(function () { loop(); });
      });
    }
    if (el.tagName === 'IMG') add(note, 'A photo: segments are its faces, side by side.');
    else add(note, [h('span', { text: 'Click any timeline to seek · now ' }), h('b', { id: 'clock', text: fmtT(0) })]);
    return add(box, [el, note]);
  }

  // ----------------------------------------------------------------- summary
  function probBars(emotion) {
    var labels = Object.keys(emotion.probs).sort(function (a, b) { return emotion.probs[b] - emotion.probs[a]; });
    return h('div', { class: 'probs' }, labels.map(function (l) {
      var p = emotion.probs[l];
      return h('div', { class: 'row' }, [
        h('span', { text: l }),
        h('div', { class: 'track' }, h('div', { class: 'bar', style: 'width:' + clamp(p * 100, 0, 100).toFixed(1) + '%;background:' + colorOf(l) })),
        h('span', { text: pct(p) })
      ]);
    }));
  }
  function vaPlot(emotion) {
    if (!num(emotion.valence) || !num(emotion.arousal)) return null;
    var W = 120;
    var H = 96;
    var g = s('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'valence and arousal' });
    add(g, [
      s('rect', { x: 10, y: 4, width: W - 20, height: H - 22, fill: '#fff', stroke: '#cfd4da' }),
      s('line', { x1: W / 2, y1: 4, x2: W / 2, y2: H - 18, stroke: '#e3e6ea' }),
      s('text', { x: 10, y: H - 6, text: '−', 'font-size': 11 }),
      s('text', { x: W / 2 - 20, y: H - 6, text: 'valence', 'font-size': 10, fill: '#656d76' }),
      s('text', { x: W - 18, y: H - 6, text: '+', 'font-size': 11 })
    ]);
    var cx = 10 + (emotion.valence + 1) / 2 * (W - 20);
    var cy = 4 + (1 - emotion.arousal) * (H - 22);
    add(g, s('circle', { cx: cx, cy: cy, r: 5, fill: colorOf(emotion.label), stroke: '#222' }, s('title', {
      text: 'valence ' + emotion.valence.toFixed(2) + ', arousal ' + emotion.arousal.toFixed(2)
    })));
    return h('div', { class: 'va' }, [g, h('div', { class: 'meta', text: 'arousal ↑  v ' + emotion.valence.toFixed(2) + ' · a ' + emotion.arousal.toFixed(2) })]);
  }
  function linkifyTimes(text) {
    // "1.0-3.0 s" and "2.35 s" in the explanation become links to those moments
    if (photo) return [text];
    var out = [];
    var re = /(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*s\b|(\d+\.\d+)\s*s\b/g;
    var last = 0;
    var m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[1] !== undefined) {
        out.push(timeLink(parseFloat(m[1]), parseFloat(m[2]), m[0]));
      } else {
        var t = parseFloat(m[3]);
        out.push(timeLink(t, t + Math.max(D * 0.01, 0.1), m[0]));
      }
      last = re.lastIndex;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
  // why a fused answer is not to be taken at its word (report.json's emotion.uncertain)
  function uncertainNote(e) {
    var u = e && e.uncertain;
    if (!u) return '';
    var top = (u.labels || []).map(function (l, i) { return l + ' ' + pct(u.probs[i]); }).join(' / ');
    if (u.reason === 'disagreement' && e.conflict) {
      var says = e.conflict.modalities.map(function (m, i) { return m + ' ' + e.conflict.labels[i]; }).join(', ');
      return 'uncertain: the modalities disagree (' + says + ')';
    }
    if (u.reason === 'segments') return 'uncertain: every segment is uncertain (' + top + ')';
    return 'uncertain: no label stands out (' + top + ')';
  }
  function summary() {
    var box = h('div', { class: 'card' });
    var o = R.overall;
    if (o && o.probs) {
      add(box, h('div', { class: 'overall' }, [
        h('div', null, [
          h('div', { class: 'meta', text: 'overall' }),
          h('div', { class: 'big', style: 'color:' + colorOf(o.label), text: o.label }),
          h('div', { class: 'meta', text: 'p ' + pct(o.probs[o.label]) + (o.source ? ' · ' + o.source : '') }),
          o.uncertain ? h('div', { class: 'uncertain', id: 'overall-uncertain', text: uncertainNote(o) }) : null,
          (o.open_vocab && o.open_vocab.length) ? h('div', null, o.open_vocab.map(function (w) { return h('span', { class: 'chip', text: w }); })) : null
        ]),
        probBars(o),
        vaPlot(o)
      ]));
    } else {
      add(box, h('div', { class: 'meta', text: 'No clip-level emotion was estimated.' }));
    }
    var ex = R.explanation;
    if (ex && ex.text) {
      var cites = Array.isArray(ex.cites) ? ex.cites : [];
      var sec = h('div', { class: 'expl' }, [
        h('b', { text: 'Why' }), h('span', { class: 'meta', text: ex.reasoner ? ' · ' + ex.reasoner + ' reasoner' + (ex.model ? ' (' + ex.model + ')' : '') : '' }),
        h('p', { id: 'explanation' }, linkifyTimes(ex.text))
      ]);
      // an LLM's text comes with the built-in explanation of the same measured cues
      if (ex.grounded_text) add(sec, h('p', { class: 'meta', id: 'grounded-explanation' }, linkifyTimes('Built-in reasoner: ' + ex.grounded_text)));
      // the multimodal LLM's answer for each segment it read (label, its probability, words)
      if (Array.isArray(ex.segments) && ex.segments.length) {
        var answers = h('ul', { class: 'meta', id: 'llm-segments' });
        ex.segments.forEach(function (a) {
          var p = (a.probs && num(a.probs[a.label])) ? ' ' + a.probs[a.label].toFixed(2) : '';
          add(answers, h('li', { text: fmtSpan(a.start_s, a.end_s) + (num(a.face_id) ? ' · face ' + a.face_id : '') +
            ' · ' + (a.modalities || []).join('+') + ' · ' + a.label + p +
            ((a.words && a.words.length) ? ' · words: ' + a.words.join(', ') : '') }));
        });
        add(sec, [h('div', { class: 'meta', text: 'LLM answer per segment' }), answers]);
      }
      if (cites.length) {
        var list = h('div', { class: 'cites', id: 'cites' });
        cites.forEach(function (c) {
          if (!num(c.start_s)) return;
          var label = (c.modality || '') + ' · ' + (c.cue || '') + ' · ' + fmtSpan(c.start_s, c.end_s) + (num(c.face_id) ? ' · face ' + c.face_id : '');
          var b = h('button', {
            type: 'button', 'data-start': c.start_s, 'data-end': c.end_s, title: 'go to this moment', text: label,
            onclick: function () {
              Array.prototype.forEach.call(list.children, function (x) { x.classList.remove('on'); });
              b.classList.add('on');
              state.cite = c;  // a lane may outline what the cite names (the face: its AU)
              drawLanes();
              seek(c.start_s, photo ? faceBand(c.face_id) : [c.start_s, num(c.end_s) ? c.end_s : c.start_s]);
            }
          });
          add(list, b);
        });
        add(sec, [h('div', { class: 'meta', text: 'cited moments' }), list]);
      }
      add(box, sec);
    }
    (R.warnings || []).forEach(function (w) {
      add(box, h('div', { class: 'warn', text: (w.stage || '') + ': ' + (w.message || w.code || '') }));
    });
    return box;
  }

  // --------------------------------------------------------------- lanes
  function niceStep() {
    var target = D / Math.max(2, plotW() / 80);
    var steps = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
    for (var i = 0; i < steps.length; i++) if (steps[i] >= target) return steps[i];
    return 7200;
  }
  function laneTitle(g, text, y) { add(g, s('text', { x: 4, y: y || 13, class: 'title', text: text })); }

  function axisLane() {
    return {
      name: 'axis', height: 28,
      draw: function (g) {
        var W = plotW();
        segments.forEach(function (seg, i) {
          var sp = segSpan(seg);
          add(g, s('rect', { x: xOf(sp[0]), y: 0, width: Math.max(1, xOf(sp[1]) - xOf(sp[0])), height: 10, fill: i % 2 ? '#eef1f5' : '#e2e7ee' }));
        });
        add(g, s('line', { x1: GUTTER, x2: GUTTER + W, y1: 10.5, y2: 10.5, stroke: '#9aa1a9' }));
        if (photo) {
          segments.forEach(function (seg, i) {
            var sp = segSpan(seg);
            add(g, s('text', { x: (xOf(sp[0]) + xOf(sp[1])) / 2, y: 25, 'text-anchor': 'middle', class: 'dim', text: num(seg.face_id) ? 'face ' + seg.face_id : '#' + (i + 1) }));
          });
          laneTitle(g, 'photo · segments', 24);
          return;
        }
        var step = niceStep();
        for (var t = 0; t <= D + 1e-9; t += step) {
          var x = xOf(t);
          add(g, [s('line', { x1: x, x2: x, y1: 10, y2: 15, stroke: '#9aa1a9' }),
            s('text', { x: x, y: 25, 'text-anchor': t === 0 ? 'start' : 'middle', class: 'dim', text: step < 1 ? t.toFixed(2) : (t < 60 ? t.toFixed(0) + ' s' : fmtT(t)) })]);
        }
        laneTitle(g, 'time / segments', 24);
      },
      hover: function (t) {
        var i = segAt(t);
        if (i < 0) return fmtT(t);
        return 'segment ' + (i + 1) + (photo ? (num(segments[i].face_id) ? ': face ' + segments[i].face_id : '') : ': ' + fmtSpan(segments[i].start_s, segments[i].end_s));
      }
    };
  }
  function faceBand(faceId) {
    for (var i = 0; i < segments.length; i++) {
      if (segments[i].face_id === faceId) return segSpan(segments[i]);
    }
    return null;
  }
  function segAt(t) {
    for (var i = 0; i < segments.length; i++) {
      var sp = segSpan(segments[i]);
      if (t >= sp[0] && t <= sp[1]) return i;
    }
    return -1;
  }

  function emotionLane(title, pick, height) {
    var items = [];
    segments.forEach(function (seg, i) { var e = !listening(seg) && pick(seg); if (e && e.probs) items.push({ i: i, e: e, sp: segSpan(seg) }); });
    if (!items.length) return null;
    return {
      name: 'emotion:' + title, height: height, emotion: true,
      draw: function (g) {
        var top = 4;
        var H = height - 8;
        items.forEach(function (it) {
          var x0 = xOf(it.sp[0]);
          var w = Math.max(1, xOf(it.sp[1]) - x0 - 1);
          var y = top + H;
          sortedLabels(it.e.probs).forEach(function (l) {
            var p = it.e.probs[l];
            if (!num(p) || p <= 0) return;
            var hh = p * H;
            y -= hh;
            add(g, s('rect', { x: x0, y: y, width: w, height: hh, fill: colorOf(l), class: 'prob', 'data-label': l }));
          });
          if (w > 52 && H >= 30) {
            add(g, s('text', { x: x0 + 4, y: top + 12, text: it.e.label + ' ' + pct(it.e.probs[it.e.label]), style: 'fill:#fff;font-weight:600;paint-order:stroke;stroke:rgba(0,0,0,.45);stroke-width:2px' }));
          }
        });
        laneTitle(g, title, 14);
        add(g, s('text', { x: 4, y: 27, class: 'dim', text: 'stacked p per segment' }));
      },
      hover: function (t) {
        for (var k = 0; k < items.length; k++) {
          var it = items[k];
          if (t >= it.sp[0] && t <= it.sp[1]) {
            var lines = Object.keys(it.e.probs).sort(function (a, b) { return it.e.probs[b] - it.e.probs[a]; })
              .slice(0, 5).map(function (l) { return l + ' ' + pct(it.e.probs[l]); });
            return title + ' · ' + (photo ? 'segment ' + (it.i + 1) : fmtSpan(it.sp[0], it.sp[1])) + '\n' + lines.join('\n');
          }
        }
        return fmtT(t);
      }
    };
  }

  function vaLane() {
    var pts = [];
    segments.forEach(function (seg) {
      var e = listening(seg) ? null : seg.emotion;
      if (e && (num(e.valence) || num(e.arousal))) pts.push({ sp: segSpan(seg), v: e.valence, a: e.arousal });
    });
    if (!pts.length) return null;
    var height = 54;
    return {
      name: 'va', height: height,
      draw: function (g) {
        var y = function (v) { return 6 + (1 - v) * (height - 12); };
        add(g, s('line', { x1: GUTTER, x2: GUTTER + plotW(), y1: y(0.5), y2: y(0.5), stroke: '#e3e6ea' }));
        pts.forEach(function (p) {
          var x0 = xOf(p.sp[0]);
          var x1 = xOf(p.sp[1]);
          if (num(p.v)) add(g, s('line', { x1: x0, x2: x1, y1: y((p.v + 1) / 2), y2: y((p.v + 1) / 2), stroke: '#2f6fde', 'stroke-width': 3, class: 'curve' }));
          if (num(p.a)) add(g, s('line', { x1: x0, x2: x1, y1: y(p.a), y2: y(p.a), stroke: '#e8453c', 'stroke-width': 3, 'stroke-dasharray': '5 3', class: 'curve' }));
        });
        laneTitle(g, 'valence / arousal', 14);
        add(g, [s('text', { x: 4, y: 28, text: '— valence', style: 'fill:#2f6fde' }), s('text', { x: 4, y: 41, text: '-- arousal', style: 'fill:#e8453c' })]);
      },
      hover: function (t) {
        for (var k = 0; k < pts.length; k++) {
          var p = pts[k];
          if (t >= p.sp[0] && t <= p.sp[1]) return 'valence ' + (num(p.v) ? p.v.toFixed(2) : '–') + '\narousal ' + (num(p.a) ? p.a.toFixed(2) : '–');
        }
        return fmtT(t);
      }
    };
  }

  // ------------------------------------------------------------ people
  function personLabel(p) { return p.name || p.id; }
  function personOf(seg) {
    // speaking: the segment names the speaker; listening: the listener's face is a person's face
    for (var k = 0; k < speakers.length; k++) {
      var p = speakers[k];
      if (listening(seg) ? (num(p.face_id) && seg.face_id === p.face_id) : (seg.speaker === p.id)) return p;
    }
    return null;
  }
  function segEmotion(seg) { return seg.emotion || emotionOf(seg.evidence && seg.evidence.face) || null; }
  function personLane(p) {
    var items = [];
    segments.forEach(function (seg, i) {
      if (personOf(seg) === p) items.push({ i: i, seg: seg, sp: segSpan(seg), e: segEmotion(seg), listen: listening(seg) });
    });
    var height = 50;
    return {
      name: 'person:' + p.id, height: height,
      draw: function (g) {
        items.forEach(function (it) {
          var x0 = xOf(it.sp[0]);
          var w = Math.max(1, xOf(it.sp[1]) - x0 - 1);
          var fill = it.e ? colorOf(it.e.label) : '#c4c9d0';
          if (it.listen) {
            add(g, s('rect', { x: x0, y: 30, width: w, height: 14, fill: fill, 'fill-opacity': 0.35, stroke: fill, 'stroke-dasharray': '3 2', class: 'listening', 'data-start': it.sp[0] }));
            if (w > 52 && it.e) add(g, s('text', { x: x0 + 4, y: 41, class: 'dim', text: 'listening · ' + it.e.label + ' ' + pct(it.e.probs && it.e.probs[it.e.label]) }));
          } else {
            add(g, s('rect', { x: x0, y: 6, width: w, height: 20, fill: fill, class: 'speaking', 'data-start': it.sp[0] }));
            if (w > 52 && it.e) add(g, s('text', { x: x0 + 4, y: 20, text: it.e.label + ' ' + pct(it.e.probs && it.e.probs[it.e.label]), style: 'fill:#fff;font-weight:600;paint-order:stroke;stroke:rgba(0,0,0,.45);stroke-width:2px' }));
          }
        });
        laneTitle(g, personLabel(p) + (num(p.face_id) ? ' · face ' + p.face_id : ' · no face'), 14);
        var o = p.overall;
        add(g, s('text', { x: 4, y: 28, class: 'dim', text: 'speaks · dashed: listens' }));
        if (o && o.label) add(g, s('text', { x: 4, y: 42, text: 'overall ' + o.label + ' ' + pct(o.probs && o.probs[o.label]) + (o.uncertain ? ' ?' : ''), style: 'fill:' + colorOf(o.label) + ';font-weight:600' }));
      },
      hover: function (t) {
        var lines = [];
        items.forEach(function (it) {
          if (t >= it.sp[0] && t <= it.sp[1]) {
            lines.push(personLabel(p) + (it.listen ? ' listening' : ' speaking') + ' · ' + fmtSpan(it.sp[0], it.sp[1]) +
              (it.e ? '\n' + it.e.label + ' ' + pct(it.e.probs && it.e.probs[it.e.label]) : '') +
              (!it.listen && num(it.seg.speaker_face_confidence) ? '\nface attribution ' + pct(it.seg.speaker_face_confidence) : ''));
          }
        });
        return lines.length ? lines.join('\n') : personLabel(p) + ' · ' + fmtT(t);
      }
    };
  }
  function peopleSection() {
    if (!speakers.length) return null;
    var head = ['person', 'face', 'tied by', 'talk time', 'segments', 'overall emotion'];
    var table = h('table', { id: 'people' }, h('tr', null, head.map(function (c) { return h('th', { text: c }); })));
    speakers.forEach(function (p) {
      var o = p.overall;
      add(table, h('tr', { 'data-speaker': p.id }, [
        h('td', { text: personLabel(p) + (p.name && p.name !== p.id ? ' (' + p.id + ')' : '') }),
        h('td', { text: num(p.face_id) ? 'face ' + p.face_id : 'not seen' }),
        h('td', { text: p.attribution || 'none' }),
        h('td', { text: fmtT(p.talk_time_s) }),
        h('td', { text: String(num(p.n_segments) ? p.n_segments : '–') }),
        h('td', null, o && o.label ? [h('span', { class: 'lab', style: 'background:' + colorOf(o.label), text: o.label }), ' ' + pct(o.probs && o.probs[o.label]),
          o.uncertain ? h('div', { class: 'uncertain', text: uncertainNote(o) }) : null] : '—')
      ]));
    });
    return h('section', null, [h('h2', { text: 'People' }), table]);
  }

  function buildLanes() {
    var lanes = [axisLane()];
    lanes.push(emotionLane('emotion', function (seg) { return seg.emotion; }, 70));
    speakers.forEach(function (p) { lanes.push(personLane(p)); });
    modalities.forEach(function (m) {
      lanes.push(emotionLane(m.modality + ' emotion', function (seg) { return emotionOf(seg.evidence && seg.evidence[m.modality]); }, 34));
    });
    lanes.push(vaLane());
    modalities.forEach(function (m) { if (m.lanes) lanes = lanes.concat(m.lanes()); });
    return lanes.filter(Boolean);
  }

  function drawLanes() {
    if (!timelineEl) return;
    var W = plotW() + GUTTER + PAD_R;
    state.lanes.forEach(function (lane) {
      var svg = lane.svg;
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      svg.setAttribute('width', W);
      svg.setAttribute('height', lane.height);
      svg.setAttribute('viewBox', '0 0 ' + W + ' ' + lane.height);
      lane.draw(svg);
    });
    setBand(state.band);
    syncCursor();
  }

  function timeline() {
    var wrap = h('section', { id: 'timeline-wrap' }, h('h2', { text: 'Timeline' }));
    timelineEl = h('div', { id: 'timeline' });
    state.lanes = buildLanes();
    state.lanes.forEach(function (lane) {
      var svg = s('svg', { class: 'lane-svg', 'data-lane': lane.name, role: 'img', 'aria-label': lane.name });
      lane.svg = svg;
      svg.addEventListener('click', function (ev) {
        var r = svg.getBoundingClientRect();
        var px = ev.clientX - r.left;
        if (px < GUTTER) return;
        if (photo) { var i = segAt(tOf(px)); setBand(i < 0 ? null : segSpan(segments[i])); return; }
        seek(tOf(px), null);
      });
      svg.addEventListener('mousemove', function (ev) {
        var r = svg.getBoundingClientRect();
        var px = ev.clientX - r.left;
        if (px < GUTTER) { hideTip(); return; }
        showTip(ev, lane.hover ? lane.hover(tOf(px), ev.clientY - r.top) : fmtT(tOf(px)));
      });
      svg.addEventListener('mouseleave', hideTip);
      add(timelineEl, h('div', { class: 'lane' }, svg));
    });
    add(timelineEl, [h('div', { class: 'band', id: 'band' }), h('div', { class: 'cursor', id: 'cursor' })]);
    add(wrap, timelineEl);
    var used = {};
    segments.forEach(function (seg) {
      [seg.emotion].concat(modalities.map(function (m) { return emotionOf(seg.evidence && seg.evidence[m.modality]); }))
        .forEach(function (e) { if (e && e.probs) Object.keys(e.probs).forEach(function (l) { used[l] = 1; }); });
    });
    var labs = sortedLabels(used);
    if (labs.length) {
      add(wrap, h('div', { class: 'legend' }, labs.map(function (l) { return h('span', null, [h('i', { style: 'background:' + colorOf(l) }), l]); })));
    }
    return wrap;
  }

  // -------------------------------------------------------------- table
  function segmentTable() {
    if (!segments.length) return null;
    var columns = [];
    modalities.forEach(function (m) { (m.columns || []).forEach(function (c) { if (c.show()) columns.push(c); }); });
    var lead = columns.filter(function (c) { return c.lead; });
    var rest = columns.filter(function (c) { return !c.lead; });
    var titles = function (cs) { return cs.map(function (c) { return c.title; }); };
    var head = ['time'].concat(speakers.length ? ['who'] : [], titles(lead), ['emotion'], titles(rest));
    var table = h('table', { id: 'segments' }, h('tr', null, head.map(function (c) { return h('th', { text: c }); })));
    segments.forEach(function (seg, i) {
      var sp = segSpan(seg);
      var e = seg.emotion;
      var cell = function (c) { return h('td', null, c.cell(seg, i)); };
      var cells = [h('td', null, photo ? h('button', { class: 't', type: 'button', text: '#' + (i + 1), onclick: function () { setBand(sp); } }) : timeLink(sp[0], sp[1], fmtSpan(seg.start_s, seg.end_s)))];
      if (speakers.length) {
        var p = personOf(seg);
        cells.push(h('td', { class: listening(seg) ? 'who listening' : 'who speaking', text: (p ? personLabel(p) : (seg.speaker || '–')) + (listening(seg) ? ' (listening)' : '') }));
      }
      cells = cells.concat(lead.map(cell));
      cells.push(h('td', null, e ? [h('span', { class: 'lab', style: 'background:' + colorOf(e.label), text: e.label }), ' ' + pct(e.probs && e.probs[e.label]),
        e.uncertain ? h('div', { class: 'uncertain', text: uncertainNote(e) }) : null] : '—'));
      cells = cells.concat(rest.map(cell));
      var tr = h('tr', null, cells);
      state.rows.push({ a: sp[0], b: sp[1], els: [tr] });
      add(table, tr);
    });
    return h('section', null, [h('h2', { text: 'Segments' }), table]);
  }

  function footer() {
    var tm = R.timings_s || {};
    var text = Object.keys(tm).map(function (k) { return k + ' ' + (num(tm[k]) ? tm[k].toFixed(2) : tm[k]) + ' s'; }).join(' · ');
    return h('footer', null, [h('div', { text: 'timings: ' + text }), h('div', { text: 'schema ' + (R.schema_version || '') + ' · generated offline by emochat' }), provenance()]);
  }

  // what produced the report: re-run it with `emochat analyze MEDIA --options report.json`
  function provenance() {
    var P = R.provenance;
    if (!P) return null;
    var short = function (sha) { return sha ? String(sha).slice(0, 12) : '–'; };
    var rows = [['input', P.input.name + ' · ' + P.input.bytes + ' bytes · sha256 ' + short(P.input.sha256)]];
    Object.keys(P.options || {}).forEach(function (k) { rows.push(['option ' + k, JSON.stringify(P.options[k])]); });
    Object.keys(P.models || {}).forEach(function (k) {
      var m = P.models[k];
      rows.push(['model ' + k, (m.name || 'user file') + (m.version ? ' ' + m.version : '') + ' · ' + (m.files || []).map(function (f) { return short(f.sha256); }).join(', ')]);
    });
    var sw = P.software || {};
    rows.push(['software', Object.keys(sw).filter(function (k) { return sw[k]; }).map(function (k) { return k + ' ' + sw[k]; }).join(' · ')]);
    var mc = P.machine || {};
    rows.push(['machine', (mc.cpu || '') + ' (' + (mc.cpu_flags || []).join(' ') + ') · ' + (mc.system || '')]);
    return h('details', { class: 'provenance' }, [
      h('summary', { text: 'How this report was made (provenance)' }),
      h('table', null, rows.map(function (r) { return h('tr', null, [h('th', { text: r[0] }), h('td', { text: r[1] })]); })),
    ]);
  }


  // ------------------------------------------------------------------ boot
  function boot() {
    measureTime();
    var app = document.getElementById('app');
    var stat = document.getElementById('static');
    if (stat) stat.style.display = 'none';
    var sections = [];
    modalities.forEach(function (m) { if (m.sections) sections = sections.concat(m.sections()); });
    add(app, [header(), h('div', { class: 'top' }, [player(), summary()]), timeline(), peopleSection()].concat(sections, [segmentTable(), footer()]));
    drawLanes();
    var pending = null;
    window.addEventListener('resize', function () {
      if (pending) window.clearTimeout(pending);
      pending = window.setTimeout(drawLanes, 80);
    });
    document.addEventListener('keydown', function (ev) {
      if (ev.target && /INPUT|TEXTAREA|BUTTON|VIDEO/.test(ev.target.tagName)) return;
      var p = state.player;
      if (ev.key === 'ArrowRight') { seek(state.t + 1); ev.preventDefault(); }
      else if (ev.key === 'ArrowLeft') { seek(state.t - 1); ev.preventDefault(); }
      else if (ev.key === ' ' && p && p.readyState >= 1) { if (p.paused) { var pr = p.play(); if (pr && pr.catch) pr.catch(function () {}); } else p.pause(); ev.preventDefault(); }
    });
    var m = /[#&]t=([\d.]+)(?:,([\d.]+))?/.exec(window.location.hash || '');
    if (m) seek(parseFloat(m[1]), m[2] ? [parseFloat(m[1]), parseFloat(m[2])] : null);
    document.documentElement.setAttribute('data-ready', '1');
  }

  // what the lane files use; D and photo are set when boot() has measured the timeline
  var api = {
    R: R, X: X, media: media, segments: segments, thumbs: thumbs, state: state, GUTTER: GUTTER, D: D, photo: photo,
    h: h, s: s, add: add, num: num, clamp: clamp, fmtT: fmtT, fmtSpan: fmtSpan, pct: pct, colorOf: colorOf, ramp: ramp,
    emotionOf: emotionOf, segSpan: segSpan, segAt: segAt, faceBand: faceBand, xOf: xOf, tOf: tOf, plotW: plotW,
    laneTitle: laneTitle, seek: seek, setBand: setBand, timeLink: timeLink,
    registerModality: registerModality, boot: boot
  };
  window.emochat = api;
}());
