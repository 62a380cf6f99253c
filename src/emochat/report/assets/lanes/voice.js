/* emochat report lanes of the voice: pitch and loudness curves (per frame, word or
 * utterance, whichever the report holds), the words lane, the transcript with its marked
 * words, and the voice column of the segment table. Registers with core.js (window.emochat),
 * which draws the voice emotion lane itself. */
(function (E) {
  'use strict';

  var h = E.h;
  var s = E.s;
  var add = E.add;
  var num = E.num;
  var fmtT = E.fmtT;
  var fmtSpan = E.fmtSpan;
  var pct = E.pct;
  var xOf = E.xOf;
  var plotW = E.plotW;
  var segSpan = E.segSpan;
  var seek = E.seek;
  var timeLink = E.timeLink;
  var laneTitle = E.laneTitle;
  var emotionOf = E.emotionOf;
  var GUTTER = E.GUTTER;
  var segments = E.segments;
  var R = E.R;
  var voice = null;  // the pitch and loudness series, made when the lanes are

  function voiceWords() {
    var out = [];
    segments.forEach(function (seg, si) {
      var v = seg.evidence && seg.evidence.voice;
      if (v && Array.isArray(v.words)) {
        v.words.forEach(function (w) {
          if (w && num(w.start_s) && num(w.end_s)) out.push({ w: w, seg: si });
        });
      }
      var t = seg.evidence && seg.evidence.text;
      if (t && Array.isArray(t.words) && !(v && Array.isArray(v.words) && v.words.length)) {
        t.words.forEach(function (w) {
          if (w && num(w.start_s) && num(w.end_s)) out.push({ w: w, seg: si });
        });
      }
    });
    return out;
  }
  var words = voiceWords();

  function contour(obj) {
    // a frame-level prosody contour, if a stage provides one: {t_s, pitch(_st)?, loudness?}
    if (!obj || !Array.isArray(obj.t_s)) return null;
    var p = obj.pitch_st || obj.pitch || obj.f0_st || null;
    var l = obj.loudness || null;
    if (!Array.isArray(p) && !Array.isArray(l)) return null;
    return { t: obj.t_s, pitch: Array.isArray(p) ? p : null, loud: Array.isArray(l) ? l : null };
  }
  function voiceSeries() {
    var pitch = [];
    var loud = [];
    var src = '';
    var top = contour(R.voice) || contour(R.voice && R.voice.contour) || contour(R.prosody);
    var parts = top ? [top] : [];
    if (!parts.length) {
      segments.forEach(function (seg) {
        var v = seg.evidence && seg.evidence.voice;
        var c = v && (contour(v.contour) || contour(v.frames) || contour(v.prosody_frames));
        if (c) parts.push(c);
      });
    }
    if (parts.length) {
      src = 'frames';
      parts.forEach(function (c) {
        c.t.forEach(function (t, i) {
          if (c.pitch) pitch.push([t, num(c.pitch[i]) ? c.pitch[i] : null]);
          if (c.loud) loud.push([t, num(c.loud[i]) ? c.loud[i] : null]);
        });
        if (c.pitch) pitch.push([c.t[c.t.length - 1] + 1e-6, null]);
        if (c.loud) loud.push([c.t[c.t.length - 1] + 1e-6, null]);
      });
    } else if (words.length) {
      src = 'words';
      var prevSeg = -1;
      words.forEach(function (it) {
        var w = it.w;
        var pr = w.prosody || {};
        var mid = (w.start_s + w.end_s) / 2;
        if (it.seg !== prevSeg && prevSeg >= 0) { pitch.push([mid - 1e-3, null]); loud.push([mid - 1e-3, null]); }
        prevSeg = it.seg;
        pitch.push([mid, num(pr.pitch_mean_st) ? pr.pitch_mean_st : null, w]);
        loud.push([mid, num(pr.loudness) ? pr.loudness : null, w]);
      });
    }
    if (!pitch.some(function (p) { return num(p[1]); }) && !loud.some(function (p) { return num(p[1]); })) {
      // fall back to one value per utterance (drawn as steps)
      pitch = []; loud = []; src = 'segments';
      segments.forEach(function (seg) {
        var v = seg.evidence && seg.evidence.voice;
        var pr = v && v.prosody;
        if (!pr) return;
        var sp = segSpan(seg);
        [[pitch, pr.pitch_mean_st], [loud, pr.loudness]].forEach(function (pair) {
          if (!num(pair[1])) return;
          pair[0].push([sp[0], pair[1]], [sp[1], pair[1]], [sp[1] + 1e-6, null]);
        });
      });
    }
    return { pitch: pitch, loud: loud, src: src };
  }

  function curveLane(title, series, color, unit) {
    var vals = series.filter(function (p) { return num(p[1]); }).map(function (p) { return p[1]; });
    if (!vals.length) return null;
    var lo = Math.min.apply(null, vals);
    var hi = Math.max.apply(null, vals);
    if (hi - lo < 1e-6) { lo -= 1; hi += 1; }
    var pad = (hi - lo) * 0.1;
    lo -= pad; hi += pad;
    var height = 64;
    var y = function (v) { return 6 + (1 - (v - lo) / (hi - lo)) * (height - 14); };
    return {
      name: 'curve:' + title, height: height,
      draw: function (g) {
        var d = '';
        var pen = false;
        series.forEach(function (p) {
          if (!num(p[1])) { pen = false; return; }
          d += (pen ? 'L' : 'M') + xOf(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1);
          pen = true;
        });
        add(g, s('path', { d: d, fill: 'none', stroke: color, 'stroke-width': 1.8, 'stroke-linejoin': 'round', class: 'curve' }));
        if (series.length < plotW() / 5) {
          series.forEach(function (p) {
            if (num(p[1]) && p[2]) add(g, s('circle', { cx: xOf(p[0]), cy: y(p[1]), r: 2.4, fill: color }));
          });
        }
        laneTitle(g, title, 14);
        add(g, [s('text', { x: GUTTER - 6, y: 12, 'text-anchor': 'end', class: 'dim', text: hi.toFixed(1) }),
          s('text', { x: GUTTER - 6, y: height - 4, 'text-anchor': 'end', class: 'dim', text: lo.toFixed(1) }),
          s('text', { x: 4, y: 28, class: 'dim', text: unit + (voice.src ? ' · per ' + voice.src.replace(/s$/, '') : '') })]);
      },
      hover: function (t) {
        var best = null;
        series.forEach(function (p) {
          if (num(p[1]) && (best === null || Math.abs(p[0] - t) < Math.abs(best[0] - t))) best = p;
        });
        if (!best || Math.abs(xOf(best[0]) - xOf(t)) > 30) return fmtT(t);
        return title + ' ' + best[1].toFixed(2) + ' ' + unit + ' at ' + fmtT(best[0]) + (best[2] ? '\n“' + best[2].text + '”' : '');
      }
    };
  }

  function wordCue(w) {
    var z = (w.prosody && w.prosody.z) || {};
    var zp = num(z.pitch_mean_st) ? z.pitch_mean_st : 0;
    var zl = num(z.loudness) ? z.loudness : 0;
    var big = Math.abs(zp) >= Math.abs(zl) ? zp : zl;
    var which = Math.abs(zp) >= Math.abs(zl) ? 'pitch' : 'loudness';
    var pause = w.prosody && num(w.prosody.pause_before_s) && w.prosody.pause_before_s >= 0.5;
    return { cls: big >= 1 ? 'hi' : (big <= -1 ? 'lo' : ''), pause: pause, why: Math.abs(big) >= 1 ? which + ' z ' + big.toFixed(1) : '' };
  }
  function wordLane() {
    var textSegs = segments.map(function (seg, i) { return { i: i, sp: segSpan(seg), text: seg.text || (seg.evidence && seg.evidence.voice && seg.evidence.voice.text) || '' }; })
      .filter(function (x) { return x.text; });
    if (!words.length && !textSegs.length) return null;
    var height = 34;
    return {
      name: 'words', height: height,
      draw: function (g) {
        if (words.length) {
          words.forEach(function (it) {
            var w = it.w;
            var x0 = xOf(w.start_s);
            var x1 = Math.max(xOf(w.end_s), x0 + 2);
            var cue = wordCue(w);
            add(g, s('rect', { x: x0, y: 8, width: x1 - x0 - 0.5, height: 20, rx: 2, fill: cue.cls === 'hi' ? '#ffcf9e' : (cue.cls === 'lo' ? '#bcd3ff' : '#e4e7eb'), class: 'word' }));
            if (cue.pause) add(g, s('rect', { x: x0 - 2, y: 6, width: 1.5, height: 24, fill: '#8a9099' }));
            var text = String(w.text).trim();
            if ((x1 - x0) > text.length * 6 + 4) add(g, s('text', { x: x0 + 2, y: 22, text: text }));
          });
        } else {
          textSegs.forEach(function (ts) {
            var x0 = xOf(ts.sp[0]);
            var x1 = xOf(ts.sp[1]);
            add(g, s('rect', { x: x0, y: 8, width: Math.max(2, x1 - x0 - 1), height: 20, rx: 2, fill: '#e4e7eb', class: 'word' }));
            var n = Math.floor((x1 - x0 - 6) / 6);
            if (n > 3) add(g, s('text', { x: x0 + 3, y: 22, text: ts.text.length > n ? ts.text.slice(0, n - 1) + '…' : ts.text }));
          });
        }
        laneTitle(g, words.length ? 'words' : 'transcript', 14);
        if (words.length) add(g, s('text', { x: 4, y: 28, class: 'dim', text: 'orange high · blue low' }));
      },
      hover: function (t) {
        for (var k = 0; k < words.length; k++) {
          var w = words[k].w;
          if (t >= w.start_s - 0.02 && t <= w.end_s + 0.02) {
            var pr = w.prosody || {};
            var cue = wordCue(w);
            return '“' + w.text + '” ' + fmtSpan(w.start_s, w.end_s) +
              (num(pr.pitch_mean_st) ? '\npitch ' + pr.pitch_mean_st.toFixed(1) + ' st' : '') +
              (num(pr.loudness) ? '\nloudness ' + pr.loudness.toFixed(2) : '') +
              (cue.why ? '\ncue: ' + cue.why : '') + (cue.pause ? '\npause before ' + pr.pause_before_s.toFixed(2) + ' s' : '');
          }
        }
        for (var j = 0; j < textSegs.length; j++) {
          if (t >= textSegs[j].sp[0] && t <= textSegs[j].sp[1]) return textSegs[j].text;
        }
        return fmtT(t);
      }
    };
  }

  function transcript() {
    var any = segments.some(function (seg) {
      var v = seg.evidence && seg.evidence.voice;
      return seg.text || (v && (v.text || (v.words && v.words.length)));
    });
    if (!any) return null;
    var box = h('section', { class: 'transcript' }, [h('h2', { text: 'Transcript' }),
      h('div', { class: 'meta', text: 'Words in orange were said with unusually high pitch or loudness for this speaker, blue unusually low; a grey bar marks a pause before the word. Click a word to jump to it.' })]);
    segments.forEach(function (seg, i) {
      var v = (seg.evidence && seg.evidence.voice) || {};
      var ws = Array.isArray(v.words) ? v.words : ((seg.evidence && seg.evidence.text && seg.evidence.text.words) || []);
      var text = seg.text || v.text;
      if (!text && !ws.length) return;
      var sp = segSpan(seg);
      var line = h('div', { class: 'seg' }, [timeLink(sp[0], sp[1], fmtT(sp[0])), ' ', seg.speaker ? h('b', { text: seg.speaker + ': ' }) : null]);
      if (ws.length) {
        ws.forEach(function (w) {
          if (!w || !num(w.start_s)) return;
          var cue = wordCue(w);
          var el = h('span', {
            class: 'w' + (cue.cls ? ' ' + cue.cls : '') + (cue.pause ? ' pause' : ''), title: fmtSpan(w.start_s, w.end_s) + (cue.why ? ' · ' + cue.why : ''), text: String(w.text).trim(),
            onclick: function () { seek(w.start_s, [w.start_s, w.end_s]); }
          });
          E.state.words.push({ w: w, el: el });
          add(line, [el, ' ']);
        });
      } else {
        add(line, text);
      }
      E.state.rows.push({ a: sp[0], b: sp[1], els: [line] });
      add(box, line);
    });
    return box;
  }

  E.registerModality({
    modality: 'voice',
    extent: function () {
      return words.reduce(function (end, it) { return Math.max(end, it.w.end_s); }, 0);
    },
    lanes: function () {
      voice = voiceSeries();
      var hasPitch = voice.pitch.some(function (p) { return num(p[1]); });
      var hasLoud = voice.loud.some(function (p) { return num(p[1]); });
      return [
        hasPitch ? curveLane('pitch', voice.pitch, '#7b3fb5', 'st') : null,
        hasLoud ? curveLane('loudness', voice.loud, '#0f8a6d', 'sone') : null,
        wordLane()
      ];
    },
    sections: function () { return [transcript()]; },
    columns: [{
      title: 'voice',
      show: function () { return segments.some(function (seg) { return seg.evidence && seg.evidence.voice; }); },
      cell: function (seg) {
        var v = (seg.evidence && seg.evidence.voice) || null;
        var ve = emotionOf(v);
        var pr = (v && v.prosody) || {};
        return v ? [ve ? ve.label + ' ' + pct(ve.probs[ve.label]) : '', h('div', { class: 'meta', text: (num(pr.pitch_mean_st) ? 'pitch ' + pr.pitch_mean_st.toFixed(1) + ' st ' : '') + (num(pr.loudness) ? 'loud ' + pr.loudness.toFixed(2) : '') })] : '';
      }
    }]
  });
}(window.emochat));
