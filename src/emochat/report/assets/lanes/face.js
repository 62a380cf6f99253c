/* emochat report lanes of the face: face thumbnails, action-unit heatmaps with their events
 * (one per face, or one column per face in a photo), and the face cues of the segment table.
 * Registers with core.js (window.emochat), which draws the face emotion lane itself. */
(function (E) {
  'use strict';

  var h = E.h;
  var s = E.s;
  var add = E.add;
  var num = E.num;
  var fmtT = E.fmtT;
  var fmtSpan = E.fmtSpan;
  var ramp = E.ramp;
  var xOf = E.xOf;
  var plotW = E.plotW;
  var segSpan = E.segSpan;
  var segAt = E.segAt;
  var faceBand = E.faceBand;
  var laneTitle = E.laneTitle;
  var GUTTER = E.GUTTER;
  var segments = E.segments;
  var thumbs = E.thumbs;
  var R = E.R;
  var au = R.au && Array.isArray(R.au.tracks) && Array.isArray(R.au.names) ? R.au : null;

  function citedAU() {
    // the AU of the cite the reader clicked, outlined in its face's heatmap
    var c = E.state.cite;
    return (c && c.modality === 'face' && /^AU\d+$/.test(c.cue || '')) ? { face: c.face_id, au: c.cue } : null;
  }

  function thumbLane() {
    var keys = Object.keys(thumbs).filter(function (k) { return segments[+k] && /^data:image\//.test(thumbs[k]); });
    if (!keys.length) return null;
    var height = 60;
    return {
      name: 'faces', height: height,
      draw: function (g) {
        var size = 52;
        keys.forEach(function (k) {
          var sp = segSpan(segments[+k]);
          var cx = (xOf(sp[0]) + xOf(sp[1])) / 2;
          var w = Math.min(size, Math.max(16, xOf(sp[1]) - xOf(sp[0]) - 2));
          add(g, s('image', { href: thumbs[k], x: cx - w / 2, y: 4, width: w, height: w, preserveAspectRatio: 'xMidYMid slice', class: 'thumb' }));
        });
        laneTitle(g, 'face per segment', 14);
      },
      hover: function (t) {
        var i = segAt(t);
        var seg = segments[i];
        if (!seg) return fmtT(t);
        var f = seg.evidence && seg.evidence.face;
        return 'segment ' + (i + 1) + (num(seg.face_id) ? ' · face ' + seg.face_id : '') + (f && f.description ? '\n' + f.description : '');
      }
    };
  }

  function heatLane(track) {
    var names = au.names;
    var labels = au.labels || {};
    var T = track.t_s || [];
    var I = track.intensity || [];
    var rowH = 11;
    var top = 20;
    var height = top + names.length * rowH + 6;
    var events = (au.events || []).filter(function (e) { return e.face_id === track.face_id; });
    var grid = null;
    function bin(nb) {
      var sum = [];
      var cnt = new Array(nb).fill(0);
      for (var b = 0; b < nb; b++) sum.push(new Array(names.length).fill(0));
      T.forEach(function (t, i) {
        var row = I[i];
        if (!num(t) || !Array.isArray(row)) return;
        var b2 = Math.min(nb - 1, Math.max(0, Math.floor(t / E.D * nb)));
        cnt[b2] += 1;
        for (var k = 0; k < names.length; k++) sum[b2][k] += num(row[k]) ? row[k] : 0;
      });
      return { nb: nb, cnt: cnt, mean: sum.map(function (r, b) { return cnt[b] ? r.map(function (v) { return v / cnt[b]; }) : null; }) };
    }
    return {
      name: 'au:' + track.face_id, height: height, heat: true,
      draw: function (g) {
        var W = plotW();
        var nb = Math.max(1, Math.min(T.length, Math.floor(W / 3)));
        if (T.length === 1) nb = 1;
        grid = bin(nb);
        var cw = W / nb;
        laneTitle(g, 'face ' + track.face_id + ' · action units (0–5)', 13);
        names.forEach(function (n, k) {
          var y = top + k * rowH;
          var lab = labels[n] ? n + ' ' + labels[n] : n;
          if (lab.length > 24) lab = lab.slice(0, 23) + '…';
          add(g, s('text', { x: 4, y: y + rowH - 2, text: lab, class: 'dim' }, s('title', { text: labels[n] ? n + ' ' + labels[n] : n })));
        });
        for (var b = 0; b < nb; b++) {
          var m = grid.mean[b];
          if (!m) continue;
          var x = T.length === 1 ? GUTTER : GUTTER + b * cw;
          var w = T.length === 1 ? W : cw + 0.6;
          for (var k = 0; k < names.length; k++) {
            add(g, s('rect', { x: x, y: top + k * rowH, width: w, height: rowH - 1, fill: ramp(m[k] / 5), class: 'cell' }));
          }
        }
        events.forEach(function (e) {
          var k = names.indexOf(e.au);
          if (k < 0) return;
          var x0 = xOf(e.onset_s);
          var x1 = Math.max(xOf(e.offset_s), x0 + 2);
          add(g, s('rect', { x: x0, y: top + k * rowH - 0.5, width: x1 - x0, height: rowH, fill: 'none', stroke: e.micro ? '#e8453c' : 'rgba(20,20,20,.55)', 'stroke-width': e.micro ? 1.6 : 0.7, class: e.micro ? 'event micro' : 'event' }));
          if (e.micro) add(g, s('path', { d: 'M' + xOf(e.apex_s) + ' ' + (top + k * rowH - 1) + 'l-3 -4h6z', fill: '#e8453c' }));
        });
        var hl = citedAU();
        if (hl && (hl.face === undefined || hl.face === null || hl.face === track.face_id)) {
          var k2 = names.indexOf(hl.au);
          if (k2 >= 0) add(g, s('rect', { x: 1, y: top + k2 * rowH - 1, width: GUTTER + W - 1, height: rowH + 1, fill: 'none', stroke: '#2f6fde', 'stroke-width': 1.5, class: 'rowhl' }));
        }
        if (!T.length) add(g, s('text', { x: GUTTER + 6, y: top + 12, class: 'dim', text: 'no frames' }));
      },
      hover: function (t, y) {
        var k = Math.floor((y - top) / rowH);
        if (k < 0 || k >= names.length || !grid) return fmtT(t);
        var b = T.length === 1 ? 0 : Math.min(grid.nb - 1, Math.floor(t / E.D * grid.nb));
        var m = grid.mean[b];
        var n = names[k];
        var lines = [n + (labels[n] ? ' ' + labels[n] : '') + ' · ' + fmtT(t), m ? 'intensity ' + m[k].toFixed(2) + ' / 5' : 'face not visible'];
        events.forEach(function (e) {
          if (e.au === n && t >= e.onset_s - 1e-6 && t <= e.offset_s + 1e-6) {
            lines.push((e.micro ? 'micro-expression ' : 'event ') + fmtSpan(e.onset_s, e.offset_s) + ', apex ' + fmtT(e.apex_s) + ', peak ' + e.peak.toFixed(2));
          }
        });
        return lines.join('\n');
      }
    };
  }

  function photoHeatLane() {
    // a photo: one column per face, under that face's segment
    var names = au.names;
    var labels = au.labels || {};
    var rowH = 11;
    var top = 20;
    var height = top + names.length * rowH + 6;
    var cols = [];
    au.tracks.forEach(function (tr) {
      var sp = faceBand(tr.face_id);
      var I = tr.intensity || [];
      if (!sp || !I.length) return;
      var mean = names.map(function (n, k) {
        var v = 0;
        I.forEach(function (row) { v += num(row[k]) ? row[k] : 0; });
        return v / I.length;
      });
      cols.push({ sp: sp, mean: mean, face: tr.face_id });
    });
    if (!cols.length) return null;
    return {
      name: 'au:photo', height: height, heat: true,
      draw: function (g) {
        laneTitle(g, 'action units per face (0–5)', 13);
        names.forEach(function (n, k) {
          var lab = labels[n] ? n + ' ' + labels[n] : n;
          if (lab.length > 24) lab = lab.slice(0, 23) + '…';
          add(g, s('text', { x: 4, y: top + k * rowH + rowH - 2, text: lab, class: 'dim' }));
        });
        cols.forEach(function (c) {
          var x0 = xOf(c.sp[0]) + 1;
          var w = Math.max(2, xOf(c.sp[1]) - x0 - 1);
          c.mean.forEach(function (v, k) {
            add(g, s('rect', { x: x0, y: top + k * rowH, width: w, height: rowH - 1, fill: ramp(v / 5), class: 'cell' }));
          });
        });
        var hl = citedAU();
        if (hl) {
          var k2 = names.indexOf(hl.au);
          var b = faceBand(hl.face);
          if (k2 >= 0 && b) add(g, s('rect', { x: xOf(b[0]), y: top + k2 * rowH - 1, width: xOf(b[1]) - xOf(b[0]), height: rowH + 1, fill: 'none', stroke: '#2f6fde', 'stroke-width': 1.5, class: 'rowhl' }));
        }
      },
      hover: function (t, y) {
        var k = Math.floor((y - top) / rowH);
        if (k < 0 || k >= names.length) return '';
        for (var i = 0; i < cols.length; i++) {
          if (t >= cols[i].sp[0] && t <= cols[i].sp[1]) {
            return 'face ' + cols[i].face + ' · ' + names[k] + (labels[names[k]] ? ' ' + labels[names[k]] : '') + '\nintensity ' + cols[i].mean[k].toFixed(2) + ' / 5';
          }
        }
        return '';
      }
    };
  }

  function auExtent() {
    var end = 0;
    if (au) au.tracks.forEach(function (tr) { (tr.t_s || []).forEach(function (t) { if (num(t)) end = Math.max(end, t); }); });
    return end;
  }

  E.registerModality({
    modality: 'face',
    extent: auExtent,
    lanes: function () {
      var lanes = [thumbLane()];
      if (au && E.photo) lanes.push(photoHeatLane());
      else if (au) au.tracks.forEach(function (tr) { lanes.push(heatLane(tr)); });
      return lanes;
    },
    columns: [{
      title: 'face', lead: true,
      show: function () { return Object.keys(thumbs).length > 0; },
      cell: function (seg, i) {
        return thumbs[i] && /^data:image\//.test(thumbs[i]) ? h('img', { src: thumbs[i], alt: 'face in segment ' + (i + 1) }) : (num(seg.face_id) ? 'face ' + seg.face_id : '');
      }
    }, {
      title: 'face cues',
      show: function () { return true; },
      cell: function (seg) {
        var f = (seg.evidence && seg.evidence.face) || {};
        var aus = (f.active_aus || []).slice(0, 4).map(function (a) { return a.au + ' ' + (num(a.mean) ? a.mean.toFixed(1) : ''); }).join(', ');
        return [f.description || '', aus ? h('div', { class: 'meta', text: aus }) : null];
      }
    }]
  });
}(window.emochat));
