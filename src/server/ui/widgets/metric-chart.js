// A metric across a model's versions, drawn with uPlot (x: version number, y: the metric).
import uPlot from '../vendor/uPlot.esm.js';
import { h, mount } from '../dom.js';

/** Draws `series` ({metric, points: [{number, value}]}) into `el`; stage holders are marked. Returns the chart. */
export function drawMetricChart(el, series, marks = []) {
  const xs = series.points.map((p) => p.number);
  const ys = series.points.map((p) => p.value);
  const marked = new Map(marks.map((m) => [m.number, m.stage]));
  const markYs = series.points.map((p) => (marked.has(p.number) ? p.value : null));
  mount(el);
  if (xs.length === 0) {
    el.append(h('div', { class: 'muted' }, `No version records ${series.metric} as a number.`));
    return null;
  }
  const width = Math.max(320, el.clientWidth || 900);
  const opts = {
    width,
    height: 260,
    scales: { x: { time: false } },
    axes: [
      { label: 'version', values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? `v${t}` : '')) },
      { label: series.metric, size: 70 },
    ],
    series: [
      { label: 'version', value: (u, v) => (v == null ? '' : `v${v}`) },
      { label: series.metric, stroke: '#3452d9', width: 2, points: { show: xs.length <= 200, size: 5 } },
      { label: 'stage holder', stroke: 'transparent', points: { show: true, size: 11, fill: '#12b76a', stroke: '#027a48' } },
    ],
    legend: { show: true },
  };
  const chart = new uPlot(opts, [xs, ys, markYs], el);
  el.dataset.points = String(xs.length);
  return chart;
}
