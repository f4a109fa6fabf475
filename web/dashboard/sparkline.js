// A small inline-SVG line chart of the last samples of one rate. The samples live only in the
// page: the chart starts empty on load and fills as the overview polls.
/* global document */

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 100;
const HEIGHT = 40;

function svgElement(tag, attrs) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
}

/**
 * Appends a chart to `container`. `describe(latest, peak)` gives its accessible text.
 * Returns `{ push(value) }`; a null value (no rate yet) is skipped rather than drawn as zero.
 */
export function createSparkline(container, { capacity = 60, describe }) {
  const samples = [];
  const svg = svgElement('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img' });
  const base = svgElement('line', { class: 'spark-base', x1: 0, y1: HEIGHT - 2, x2: WIDTH, y2: HEIGHT - 2 });
  const area = svgElement('path', { class: 'spark-area', d: '' });
  const line = svgElement('polyline', { class: 'spark-line', points: '' });
  svg.append(base, area, line);
  svg.setAttribute('aria-label', describe(null, null));
  container.append(svg);

  function redraw() {
    // Scale to the peak, never below 1 so a quiet cluster draws a flat line at the bottom.
    const peak = Math.max(1, ...samples);
    const step = WIDTH / Math.max(1, capacity - 1);
    const offset = (capacity - samples.length) * step; // newest sample at the right edge
    const points = samples.map((value, index) => {
      const x = offset + index * step;
      const y = HEIGHT - 2 - (value / peak) * (HEIGHT - 4);
      return `${x.toFixed(2)},${y.toFixed(2)}`;
    });
    line.setAttribute('points', points.join(' '));
    area.setAttribute('d', points.length < 2 ? '' : `M${offset.toFixed(2)},${HEIGHT} L${points.join(' L')} L${WIDTH},${HEIGHT} Z`);
    svg.setAttribute('aria-label', describe(samples.at(-1) ?? null, Math.max(...samples)));
  }

  function push(value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    samples.push(Math.max(0, value));
    if (samples.length > capacity) samples.shift();
    redraw();
  }

  return { push };
}
