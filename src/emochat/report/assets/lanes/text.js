/* emochat report lanes of the text: the words column of the segment table. Registers with
 * core.js (window.emochat), which draws the text emotion lane itself; the words lane and the
 * transcript are the voice's (they show a transcript's text when there is no speech). */
(function (E) {
  'use strict';

  E.registerModality({
    modality: 'text',
    columns: [{
      title: 'words',
      show: function () { return E.segments.some(function (seg) { return seg.text; }); },
      cell: function (seg) { return seg.text || ''; }
    }]
  });
}(window.emochat));
